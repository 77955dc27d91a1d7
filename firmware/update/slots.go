package update

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
)

// Paths relative to the root (slash-separated).
const (
	StateDir    = "var/lib/hallgw"
	SlotsDir    = StateDir + "/slots"
	CurrentLink = StateDir + "/current"
	StateFile   = StateDir + "/state.json"
	StagingDir  = StateDir + "/staging"
	DataDir     = StateDir + "/data"
	// BootDir holds the stable copy of hallgw that runs "slot select"
	// before every start; bundles never change it, only the installer does.
	BootDir    = StateDir + "/boot"
	ConfigDir  = "etc/hallgw"
	KeysDir    = ConfigDir + "/keys"
	BoardFile  = ConfigDir + "/board"
	lockName   = ".lock"
	slotPrefix = "slots/"
)

// DefaultTries is how many starts an update on trial gets to become
// healthy before Select rolls it back.
const DefaultTries = 3

// SlotNames are the two slots.
var SlotNames = [2]string{"a", "b"}

// otherSlot returns the slot that is not s.
func otherSlot(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

func validSlot(s string) bool { return s == "a" || s == "b" }

// Slots is the A/B slot store of one root. The zero value of every field
// but Root is usable.
type Slots struct {
	// Root is the directory standing for "/".
	Root string
	// FS performs every disk access; nil means OSFS.
	FS FS
	// Clock stamps history events and paces GateCommit; nil means the real
	// clock. No decision depends on the time of day.
	Clock clockwork.Clock
	// Tries is the number of starts an update on trial gets; 0 means
	// DefaultTries.
	Tries int
	// Arch names the daemon binary to install ("arm64", "armv7", …); empty
	// means HostArch().
	Arch string
}

// New returns the slot store of root with the defaults.
func New(root string) *Slots { return &Slots{Root: root} }

func (s *Slots) fs() FS {
	if s.FS == nil {
		return OSFS{}
	}
	return s.FS
}

func (s *Slots) clock() clockwork.Clock {
	if s.Clock == nil {
		return clockwork.NewRealClock()
	}
	return s.Clock
}

func (s *Slots) now() time.Time { return s.clock().Now().UTC().Truncate(time.Second) }

func (s *Slots) tries() int {
	if s.Tries <= 0 {
		return DefaultTries
	}
	return s.Tries
}

func (s *Slots) arch() string {
	if s.Arch == "" {
		return HostArch()
	}
	return s.Arch
}

// path joins a slash-separated relative path to the root.
func (s *Slots) path(rel ...string) string {
	parts := append([]string{s.Root}, rel...)
	return filepath.Join(parts...)
}

func (s *Slots) slotDir(slot string) string { return s.path(SlotsDir, slot) }

// HostArch names the processor this binary was built for: GOARCH, except
// that 32-bit ARM is "armv6" or "armv7" after GOARM.
func HostArch() string {
	if runtime.GOARCH != "arm" {
		return runtime.GOARCH
	}
	goarm := "7"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "GOARM" && st.Value != "" {
				goarm = st.Value[:1]
			}
		}
	}
	return "armv" + goarm
}

// lock takes the root's update lock, serialising installs, slot selection
// and commits between processes (the daemon and an operator's command).
func (s *Slots) lock() (func(), error) {
	dir := s.path(StateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("update: lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// SlotRecord is slot.json, written last into a slot: a slot without it, or
// whose files do not match it, is not bootable.
type SlotRecord struct {
	Format          int       `json:"format"`
	Version         string    `json:"version"`
	SecurityVersion uint64    `json:"security_version"`
	Compatible      string    `json:"compatible,omitempty"`
	KeyID           string    `json:"key_id,omitempty"` // empty when laid down by the installer
	Installed       time.Time `json:"installed"`
	Files           []File    `json:"files"`
	TrustedKeys     []string  `json:"trusted_keys,omitempty"`
}

// ParseSlotRecord decodes and validates a slot.json.
func ParseSlotRecord(data []byte) (*SlotRecord, error) {
	var r SlotRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("update: slot record: %w", err)
	}
	if r.Format != ManifestFormat {
		return nil, fmt.Errorf("update: slot record: format %d", r.Format)
	}
	if !validText(r.Version) {
		return nil, fmt.Errorf("update: slot record: bad version %q", r.Version)
	}
	if len(r.Files) == 0 || len(r.Files) > MaxFiles {
		return nil, fmt.Errorf("update: slot record: %d files", len(r.Files))
	}
	if err := checkFiles(r.Files, false); err != nil {
		return nil, fmt.Errorf("update: slot record: %w", err)
	}
	hasBinary := false
	for _, f := range r.Files {
		hasBinary = hasBinary || f.Name == BinaryName
	}
	if !hasBinary {
		return nil, fmt.Errorf("update: slot record: no %s", BinaryName)
	}
	for _, k := range r.TrustedKeys {
		if _, err := ParsePublicKey([]byte(k)); err != nil {
			return nil, fmt.Errorf("update: slot record: trusted key: %w", err)
		}
	}
	return &r, nil
}

// readRecord reads a slot's record without checking its files.
func (s *Slots) readRecord(slot string) (*SlotRecord, error) {
	data, err := s.fs().ReadFile(filepath.Join(s.slotDir(slot), RecordName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("slot %s is empty or incomplete", slot)
		}
		return nil, err
	}
	return ParseSlotRecord(data)
}

// checkSlot reads a slot's record and checks every file it lists: a regular
// file of the recorded size and sha256.
func (s *Slots) checkSlot(slot string) (*SlotRecord, error) {
	rec, err := s.readRecord(slot)
	if err != nil {
		return nil, err
	}
	if err := s.checkFiles(s.slotDir(slot), rec.Files); err != nil {
		return rec, err
	}
	return rec, nil
}

// checkFiles re-reads files from dir and compares them with the list.
func (s *Slots) checkFiles(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		fi, err := s.fs().Lstat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", f.Name)
		}
		if fi.Size() != f.Size {
			return fmt.Errorf("%s: size %d, want %d", f.Name, fi.Size(), f.Size)
		}
		r, err := s.fs().Open(p)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			return fmt.Errorf("%s: sha256 mismatch", f.Name)
		}
	}
	return nil
}

// writeJSON writes v as indented JSON atomically.
func (s *Slots) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	return s.fs().WriteFile(name, bytes.NewReader(data), 0o644)
}

// currentSlot returns the slot the current link names, or "".
func (s *Slots) currentSlot() string {
	t, err := s.fs().Readlink(s.path(CurrentLink))
	if err != nil {
		return ""
	}
	t = filepath.ToSlash(t)
	if slot, ok := strings.CutPrefix(t, slotPrefix); ok && validSlot(slot) {
		return slot
	}
	return ""
}

// link points current at slot (a relative link, so the tree reads the same
// from the device and from a host that mounted its card).
func (s *Slots) link(slot string) error {
	if s.currentSlot() == slot {
		return nil
	}
	if err := s.fs().Symlink(slotPrefix+slot, s.path(CurrentLink)); err != nil {
		return fmt.Errorf("update: switch current to slot %s: %w", slot, err)
	}
	return nil
}

// readBoard returns the device's compatible board string.
func (s *Slots) readBoard() (string, error) {
	data, err := s.fs().ReadFile(s.path(BoardFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("update: board: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
