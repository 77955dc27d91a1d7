package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallgw/firmware/update"
)

func init() {
	register(&command{
		name:    "update apply",
		summary: "install a signed bundle (a file, or the one bundle in a directory such as a USB stick)",
		run:     runUpdateApply,
	})
	register(&command{
		name:    "update status",
		summary: "show the slots, the update on trial and the last rollback reason",
		run:     runUpdateStatus,
	})
}

func runUpdateApply(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "update apply")
	root := fs.String("root", "/", "root `dir` of the device")
	arch := fs.String("arch", update.HostArch(), "processor whose daemon to install")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give one bundle FILE or a DIR holding one", errUsage)
	}
	path, err := findBundle(fs.Arg(0))
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	slots := update.New(*root)
	slots.Arch = *arch
	in, err := slots.Install(ctx, f)
	if err != nil {
		return fmt.Errorf("%s refused: %w", filepath.Base(path), err)
	}
	fmt.Fprintf(e.stdout, "installed %s: version %s (security version %d, signed by key %s) into slot %s\n",
		filepath.Base(path), in.Manifest.Version, in.Manifest.SecurityVersion, in.KeyID, in.Slot)
	fmt.Fprintln(e.stdout, "it runs on trial from the next start: systemctl restart hallgw (or reboot)")
	return nil
}

// findBundle returns arg if it is a file, or the single bundle (*.tar,
// *.tar.gz, *.tgz) in the directory arg.
func findBundle(arg string) (string, error) {
	fi, err := os.Stat(arg)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return arg, nil
	}
	ents, err := os.ReadDir(arg)
	if err != nil {
		return "", err
	}
	var found []string
	for _, en := range ents {
		n := en.Name()
		if en.Type().IsRegular() && !strings.HasPrefix(n, ".") &&
			(strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no bundle (*.tar, *.tar.gz, *.tgz) in %s", arg)
	case 1:
		return filepath.Join(arg, found[0]), nil
	}
	return "", fmt.Errorf("%d bundles in %s (%s): name the one to apply", len(found), arg, strings.Join(found, ", "))
}

func runUpdateStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "update status")
	root := fs.String("root", "/", "root `dir` of the device")
	asJSON := fs.Bool("json", false, "print JSON (what the uplink publishes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	rep, err := update.Status(*root)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printStatus(e.stdout, rep)
	return nil
}

// printStatus writes the report for people.
func printStatus(w io.Writer, r *update.Report) {
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	}
	fmt.Fprintf(w, "running:          version %s\n", r.Version)
	fmt.Fprintf(w, "active slot:      %s\n", r.Active)
	if r.Trial != "" {
		fmt.Fprintf(w, "on trial:         slot %s, tries left: %d\n", r.Trial, r.TriesLeft)
		if r.TrialProblem != "" {
			fmt.Fprintf(w, "trial problem:    %s\n", r.TrialProblem)
		}
	} else {
		fmt.Fprintf(w, "on trial:         nothing\n")
	}
	fmt.Fprintf(w, "current link:     %s\n", r.Current)
	fmt.Fprintf(w, "security version: %d\n", r.SecurityVersion)
	if r.LastFailureReason != "" {
		fmt.Fprintf(w, "last failure:     %s  %s\n", stamp(r.LastFailureAt), r.LastFailureReason)
	}
	fmt.Fprintln(w, "slots:")
	for _, s := range r.Slots {
		state := "ok"
		if s.Problem != "" {
			state = "problem: " + s.Problem
		}
		key := s.KeyID
		if key == "" {
			key = "installer"
		}
		fmt.Fprintf(w, "  %s  %-12s sv %-3d %-16s %s  %s\n", s.Name, s.Version, s.SecurityVersion, key, stamp(s.Installed), state)
	}
	if len(r.History) > 0 {
		fmt.Fprintln(w, "history:")
		for _, ev := range r.History {
			fmt.Fprintf(w, "  %s  %-12s slot %s  %s  %s\n", stamp(ev.At), ev.Kind, ev.Slot, ev.Version, ev.Detail)
		}
	}
}
