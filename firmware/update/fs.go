package update

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// FS is the filesystem the updater reads and changes. Names are operating
// system paths with the root already joined.
//
// Every method that changes the disk is one durable step: when it returns nil
// the change survives a power cut; when the power fails during it, the disk
// holds either the old or the new state of that one name, plus possibly a
// stray temporary file beside it. Tests wrap an FS to cut the power after any
// step.
type FS interface {
	Open(name string) (io.ReadCloser, error)
	ReadFile(name string) ([]byte, error)
	Lstat(name string) (fs.FileInfo, error)
	Readlink(name string) (string, error)
	ReadDir(name string) ([]fs.DirEntry, error)

	// MkdirAll creates name and any missing parents, and syncs their parent
	// directories.
	MkdirAll(name string, perm fs.FileMode) error
	// Remove removes one file, symlink or empty directory and syncs the
	// parent directory. It returns an error satisfying
	// errors.Is(err, fs.ErrNotExist) when name does not exist.
	Remove(name string) error
	// RemoveAll removes name and everything below it; a missing name is not
	// an error.
	RemoveAll(name string) error
	// WriteFile replaces name atomically with everything read from r:
	// temporary file in the same directory, fsync, rename, directory fsync.
	WriteFile(name string, r io.Reader, perm fs.FileMode) error
	// WriteAt writes p at offset off of name (created when missing) and
	// fsyncs the file.
	WriteAt(name string, off int64, p []byte) error
	// Symlink makes name a symlink to target, atomically replacing an
	// existing one, and syncs the directory.
	Symlink(target, name string) error
}

// OSFS is the FS of the running system.
type OSFS struct{}

var _ FS = OSFS{}

// Open opens name for reading.
func (OSFS) Open(name string) (io.ReadCloser, error) { return os.Open(name) }

// ReadFile reads the whole of name.
func (OSFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Lstat describes name without following a final symlink.
func (OSFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// Readlink returns the target of the symlink name.
func (OSFS) Readlink(name string) (string, error) { return os.Readlink(name) }

// ReadDir lists the directory name, sorted by file name.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll creates name and its missing parents durably.
func (OSFS) MkdirAll(name string, perm fs.FileMode) error {
	var missing []string
	for d := filepath.Clean(name); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(name, perm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// Remove removes name and syncs its directory.
func (OSFS) Remove(name string) error {
	if err := os.Remove(name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// RemoveAll removes name recursively and syncs its directory.
func (OSFS) RemoveAll(name string) error {
	if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// WriteFile replaces name atomically and durably with the bytes of r.
func (OSFS) WriteFile(name string, r io.Reader, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	pf, err := renameio.NewPendingFile(name, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	if _, err := io.Copy(pf, r); err != nil {
		return err
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteAt writes p at off in name and fsyncs it.
func (OSFS) WriteAt(name string, off int64, p []byte) error {
	_, statErr := os.Lstat(name)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(p, off); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return syncDir(filepath.Dir(name))
	}
	return nil
}

// Symlink points name at target atomically and durably.
func (OSFS) Symlink(target, name string) error {
	if err := renameio.Symlink(target, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// syncDir fsyncs a directory so that renames and new entries in it survive a
// power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
