package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// CompactMinWaste is the least waste (file bytes not holding live pages)
// for which Space.Bloated recommends a compaction.
const CompactMinWaste = 32 << 20

// Space is a journal file's size against the pages its data occupies.
type Space struct {
	FileBytes int64 // size of the file
	LiveBytes int64 // bytes of the pages in use: meta, root and every bucket's branch and leaf pages
}

// Bloated reports whether compacting is worth it: the file is at least twice
// its live data and wastes at least CompactMinWaste bytes.
func (s Space) Bloated() bool {
	return s.FileBytes >= 2*s.LiveBytes && s.FileBytes-s.LiveBytes >= CompactMinWaste
}

// Inspect measures a journal file that is not open (it takes a shared lock
// and fails after DefaultLockTimeout if a Journal holds the file).
func Inspect(path string) (Space, error) {
	var sp Space
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: DefaultLockTimeout})
	if err != nil {
		return sp, fmt.Errorf("journal: inspect %s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		ps := int64(tx.DB().Info().PageSize)
		sp.LiveBytes = 3 * ps // two meta pages and the root
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			s := b.Stats()
			sp.LiveBytes += int64(s.BranchAlloc + s.LeafAlloc)
			return nil
		})
	})
	if err != nil {
		return sp, fmt.Errorf("journal: inspect %s: %w", path, err)
	}
	sp.FileBytes = fileSize(path)
	return sp, nil
}

// Compact rewrites a journal file that is not open into a fresh copy holding
// only its live data, and puts the copy in its place: bbolt files never
// shrink by themselves. The copy is built beside the file (path +
// ".compact"), fsynced and renamed over it, so a crash at any point leaves
// either the old file or the new one. Sequences, cursors, holds, meta and
// snapshots are carried over. A missing file (first start) is left alone.
func Compact(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := compact(path); err != nil {
		return fmt.Errorf("journal: compact %s: %w", path, err)
	}
	return nil
}

func compact(path string) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	src, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: DefaultLockTimeout})
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	dst, err := bolt.Open(tmp, fi.Mode().Perm(), boltOptions(DefaultLockTimeout))
	if err != nil {
		return err
	}
	if err := bolt.Compact(dst, src, 16<<20); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	if err := syncPath(tmp); err != nil {
		return err
	}
	if err := src.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncPath(filepath.Dir(path))
}

// CompactIfBloated compacts the file when Inspect finds it Bloated; the
// daemon calls it before Open. It reports whether it compacted. A missing file (first start) is not an error.
func CompactIfBloated(path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	// A copy left by a compaction that crashed before its rename.
	if err := os.Remove(path + ".compact"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("journal: compact %s: %w", path, err)
	}
	sp, err := Inspect(path)
	if err != nil || !sp.Bloated() {
		return false, err
	}
	return true, Compact(path)
}

// syncPath fsyncs a file or directory.
func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
