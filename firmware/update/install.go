package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// Installed describes a bundle written to a slot.
type Installed struct {
	Slot     string
	Manifest *Manifest
	KeyID    string
}

// Install verifies the bundle in r against the device's policy (trusted
// keys in /etc/hallgw/keys, board in /etc/hallgw/board, committed security
// version, arch), writes it to the inactive slot while checking it a second
// time, re-reads the written files, and only then arms the slot for trial
// and points current at it. The update runs at the next start of the
// service.
//
// The bundle is read twice: a refused bundle never touches the inactive
// slot, which keeps holding the fallback. Only a bundle that changes between
// the two reads can leave that slot empty (never bootable by mistake).
func (s *Slots) Install(ctx context.Context, r io.ReadSeeker) (*Installed, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	if st.Trial != "" {
		return nil, fmt.Errorf("%w (slot %s)", ErrTrialPending, st.Trial)
	}
	kfs, err := loadKeys(s.fs(), s.path(KeysDir))
	if err != nil {
		return nil, err
	}
	pol := Policy{MinSecurityVersion: st.SecurityVersion, Arch: s.arch()}
	for _, k := range kfs {
		pol.Keys = append(pol.Keys, k.pub)
	}
	if len(pol.Keys) == 0 {
		return nil, ErrNoKeys
	}
	if pol.Board, err = s.readBoard(); err != nil {
		return nil, err
	}

	if _, err := readBundle(&ctxReader{ctx: ctx, r: r}, pol, nil); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("update: rewind bundle: %w", err)
	}

	target := otherSlot(st.Active)
	dir := s.slotDir(target)
	fsys := s.fs()
	// Invalidate the target first: the record goes before the files.
	if err := fsys.Remove(filepath.Join(dir, RecordName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("update: clear slot %s: %w", target, err)
	}
	if err := fsys.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("update: clear slot %s: %w", target, err)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("update: slot %s: %w", target, err)
	}
	var files []File
	v, err := readBundle(&ctxReader{ctx: ctx, r: r}, pol, func(f *File, body io.Reader) error {
		name := f.Name
		if f.Arch != "" {
			if f.Arch != pol.Arch {
				return nil // another processor's daemon: hashed, not kept
			}
			name = BinaryName
		}
		if err := fsys.WriteFile(filepath.Join(dir, name), body, f.Perm()); err != nil {
			return fmt.Errorf("update: write slot %s: %w", target, err)
		}
		files = append(files, File{Name: name, Size: f.Size, SHA256: f.SHA256, Mode: f.Mode})
		return nil
	})
	if err != nil {
		fsys.RemoveAll(dir) // best effort: the slot is unbootable either way
		return nil, err
	}
	m := v.Manifest
	// Keep the signed manifest beside the files for audit.
	if err := fsys.WriteFile(filepath.Join(dir, ManifestName), bytes.NewReader(v.Raw), 0o644); err != nil {
		return nil, fmt.Errorf("update: write slot %s: %w", target, err)
	}
	if err := fsys.WriteFile(filepath.Join(dir, SignatureName), bytes.NewReader(v.Sig), 0o644); err != nil {
		return nil, fmt.Errorf("update: write slot %s: %w", target, err)
	}
	// Verify after writing: what is on the disk, not what went past.
	if err := s.checkFiles(dir, files); err != nil {
		return nil, fmt.Errorf("update: slot %s after writing: %w", target, err)
	}
	rec := &SlotRecord{
		Format:          ManifestFormat,
		Version:         m.Version,
		SecurityVersion: m.SecurityVersion,
		Compatible:      m.Compatible,
		KeyID:           v.KeyID,
		Installed:       s.now(),
		Files:           files,
		TrustedKeys:     m.TrustedKeys,
	}
	if err := s.writeJSON(filepath.Join(dir, RecordName), rec); err != nil {
		return nil, fmt.Errorf("update: write slot %s: %w", target, err)
	}
	st.Trial = target
	st.TriesLeft = s.tries()
	st.TrialTries = st.TriesLeft
	st.TrialProblem = ""
	s.event(st, EventInstalled, target, m.Version, "signed by key "+v.KeyID)
	if err := s.saveState(st); err != nil {
		return nil, err
	}
	if err := s.link(target); err != nil {
		return nil, err
	}
	return &Installed{Slot: target, Manifest: m, KeyID: v.KeyID}, nil
}

// ProvisionOpts is what the installer lays into a slot.
type ProvisionOpts struct {
	Binary          []byte // the daemon
	Version         string
	SecurityVersion uint64
}

// Provisioned says what Provision did.
type Provisioned struct {
	Slot    string
	Changed bool // false when the active slot already held this daemon
}

// Provision lays a daemon into a slot without a bundle: the factory
// installer's step. On a fresh root it fills slot a and makes it active; on
// a root that already boots it is idempotent when the active slot holds the
// same daemon, and otherwise fills the inactive slot and makes it active at
// once (an operator's decision, so no trial), keeping the old one as
// fallback. It refuses while an update is on trial.
func (s *Slots) Provision(o ProvisionOpts) (*Provisioned, error) {
	if len(o.Binary) == 0 {
		return nil, errors.New("update: provision: empty daemon binary")
	}
	if !validText(o.Version) {
		return nil, fmt.Errorf("update: provision: bad version %q", o.Version)
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	st, err := s.loadState()
	switch {
	case errors.Is(err, ErrNotInstalled) || errors.Is(err, errBadState):
		st = nil
	case err != nil:
		return nil, err
	case st.Trial != "":
		return nil, fmt.Errorf("%w (slot %s)", ErrTrialPending, st.Trial)
	}
	sum := sha256.Sum256(o.Binary)
	bin := File{Name: BinaryName, Size: int64(len(o.Binary)), SHA256: hex.EncodeToString(sum[:]), Mode: "0755"}
	target := "a"
	if st != nil {
		if rec, err := s.checkSlot(st.Active); err == nil && rec.Version == o.Version && len(rec.Files) == 1 && rec.Files[0] == bin {
			if err := s.link(st.Active); err != nil {
				return nil, err
			}
			return &Provisioned{Slot: st.Active}, nil
		}
		target = otherSlot(st.Active)
	}

	fsys := s.fs()
	dir := s.slotDir(target)
	if err := fsys.Remove(filepath.Join(dir, RecordName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("update: clear slot %s: %w", target, err)
	}
	if err := fsys.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("update: clear slot %s: %w", target, err)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("update: slot %s: %w", target, err)
	}
	if err := fsys.WriteFile(filepath.Join(dir, BinaryName), bytes.NewReader(o.Binary), 0o755); err != nil {
		return nil, fmt.Errorf("update: write slot %s: %w", target, err)
	}
	if err := s.checkFiles(dir, []File{bin}); err != nil {
		return nil, fmt.Errorf("update: slot %s after writing: %w", target, err)
	}
	rec := &SlotRecord{
		Format:          ManifestFormat,
		Version:         o.Version,
		SecurityVersion: o.SecurityVersion,
		Installed:       s.now(),
		Files:           []File{bin},
	}
	if err := s.writeJSON(filepath.Join(dir, RecordName), rec); err != nil {
		return nil, fmt.Errorf("update: write slot %s: %w", target, err)
	}
	if st == nil {
		st = &State{Format: StateFormat}
	}
	st.Active = target
	st.Booted = ""
	st.SecurityVersion = max(st.SecurityVersion, o.SecurityVersion)
	s.event(st, EventProvisioned, target, o.Version, "")
	if err := s.saveState(st); err != nil {
		return nil, err
	}
	if err := s.link(target); err != nil {
		return nil, err
	}
	return &Provisioned{Slot: target, Changed: true}, nil
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
