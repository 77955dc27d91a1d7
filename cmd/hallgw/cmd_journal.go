package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallgw/firmware/journal"
)

func init() {
	register(&command{
		name:    "journal export",
		summary: "write the journal's business records as JSON lines (for hallgw verify and support)",
		run:     journalExport,
	})
}

func journalExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "journal export")
	data := fs.String("data", "/var/lib/hallgw", "the gateway's data `dir` (holding journal.db)")
	gw := fs.String("gateway", "", "the gateway `id` (default: the one recorded in the journal)")
	from := fs.Uint64("from", 0, "first journal `seq` to write (default: the oldest stored)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	path := filepath.Join(*data, "journal.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	id := *gw
	if id == "" {
		var err error
		if id, err = journalGatewayID(path); err != nil {
			return err
		}
	}
	j, err := journal.Open(journal.Options{Path: path, GatewayID: id, LockTimeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("%w (is the daemon running? stop it or export from a copy)", err)
	}
	defer j.Close()
	return j.Export(e.stdout, *from)
}

// journalGatewayID reads the gateway id a journal file was created for (the
// `gateway` key of its `sys` bucket, docs/journal.md).
func journalGatewayID(path string) (string, error) {
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return "", fmt.Errorf("journal %s is in use: stop the daemon or export from a copy", path)
		}
		return "", fmt.Errorf("journal %s: %w", path, err)
	}
	defer db.Close()
	var id string
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("sys")); b != nil {
			id = string(b.Get([]byte("gateway")))
		}
		return nil
	})
	if err == nil && id == "" {
		err = fs.ErrNotExist
	}
	if err != nil {
		return "", fmt.Errorf("journal %s: no gateway id recorded: %w", path, err)
	}
	return id, nil
}
