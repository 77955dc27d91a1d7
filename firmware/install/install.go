package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/service"
	"hallgw/firmware/update"
)

// DefaultConfig returns the default configuration written to
// /etc/hallgw/hallgw.yaml on a fresh root. The program sets it to its
// embedded default; while it returns nothing, Install needs
// Opts.ConfigFile.
var DefaultConfig = func() []byte { return nil }

// Paths relative to the root.
const (
	ConfigFile = update.ConfigDir + "/hallgw.yaml"
	UnitDir    = "etc/systemd/system"
	WantsDir   = UnitDir + "/multi-user.target.wants"
)

// Opts says what to install where.
type Opts struct {
	// Root is the directory standing for "/"; it must exist.
	Root string
	// Binary is the daemon to install; empty means the running executable.
	Binary string
	// Version and SecurityVersion describe the daemon in its slot record.
	Version         string
	SecurityVersion uint64
	// Board is the compatible board string bundles must carry. Empty keeps
	// the root's; a fresh root needs one.
	Board string
	// KeysDir holds *.pub files to trust; empty adds none.
	KeysDir string
	// ConfigFile replaces DefaultConfig as the configuration source.
	ConfigFile string
	// Force overwrites an existing configuration.
	Force bool
	// Unit are the unit file's paths; the zero value means
	// service.DefaultUnitOpts.
	Unit service.UnitOpts
	// Clock stamps the slot history; nil means the real clock.
	Clock clockwork.Clock
}

// Action is one thing Install did or left alone.
type Action struct {
	Path string // relative to the root
	What string // "wrote", "unchanged", "kept", "created"
}

// Result lists what Install did.
type Result struct {
	Slot     string
	Actions  []Action
	Warnings []string
}

// Changed reports whether anything was written.
func (r *Result) Changed() bool {
	for _, a := range r.Actions {
		if a.What == "wrote" || a.What == "created" {
			return true
		}
	}
	return false
}

// installer carries one run.
type installer struct {
	o   Opts
	fs  update.OSFS
	res *Result
}

// Install lays hallgw down into o.Root.
func Install(o Opts) (*Result, error) {
	if o.Root == "" {
		return nil, errors.New("install: no root directory")
	}
	if fi, err := os.Stat(o.Root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("install: root %s is not a directory", o.Root)
	}
	if o.Unit == (service.UnitOpts{}) {
		o.Unit = service.DefaultUnitOpts
	}
	in := &installer{o: o, res: &Result{}}

	binPath := o.Binary
	if binPath == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("install: find own executable: %w", err)
		}
		binPath = exe
		if abs, err := filepath.Abs(o.Root); err == nil && abs != "/" {
			in.res.Warnings = append(in.res.Warnings, fmt.Sprintf(
				"installed this program itself (built for %s/%s) into %s; for another board's image give the daemon built for it", runtime.GOOS, runtime.GOARCH, o.Root))
		}
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return nil, fmt.Errorf("install: daemon: %w", err)
	}
	if len(bin) == 0 {
		return nil, fmt.Errorf("install: daemon %s is empty", binPath)
	}

	if err := in.board(); err != nil {
		return nil, err
	}
	if err := in.keys(); err != nil {
		return nil, err
	}
	if err := in.config(); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		rel  string
		perm fs.FileMode
	}{{update.DataDir, 0o750}, {update.StagingDir, 0o755}, {update.BootDir, 0o755}} {
		if err := in.mkdir(d.rel, d.perm); err != nil {
			return nil, err
		}
	}
	if err := in.file(filepath.Join(update.BootDir, update.BinaryName), bin, 0o755); err != nil {
		return nil, err
	}

	slots := &update.Slots{Root: o.Root, Clock: o.Clock}
	p, err := slots.Provision(update.ProvisionOpts{Binary: bin, Version: o.Version, SecurityVersion: o.SecurityVersion})
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	in.res.Slot = p.Slot
	what := "unchanged"
	if p.Changed {
		what = "wrote"
	}
	in.note(filepath.Join(update.SlotsDir, p.Slot, update.BinaryName), what)

	unit, err := service.Unit(o.Unit)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	if err := in.mkdir(WantsDir, 0o755); err != nil {
		return nil, err
	}
	if err := in.file(filepath.Join(UnitDir, service.UnitName), unit, 0o644); err != nil {
		return nil, err
	}
	if err := in.link("/"+UnitDir+"/"+service.UnitName, filepath.Join(WantsDir, service.UnitName)); err != nil {
		return nil, err
	}
	return in.res, nil
}

func (in *installer) path(rel string) string { return filepath.Join(in.o.Root, rel) }

func (in *installer) note(rel, what string) {
	in.res.Actions = append(in.res.Actions, Action{Path: filepath.ToSlash(rel), What: what})
}

// file writes data to rel unless it already holds exactly that.
func (in *installer) file(rel string, data []byte, perm fs.FileMode) error {
	p := in.path(rel)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() == perm {
			in.note(rel, "unchanged")
			return nil
		}
	}
	if err := in.fs.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := in.fs.WriteFile(p, bytes.NewReader(data), perm); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in.note(rel, "wrote")
	return nil
}

// mkdir creates a directory.
func (in *installer) mkdir(rel string, perm fs.FileMode) error {
	p := in.path(rel)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return nil
	}
	if err := in.fs.MkdirAll(p, perm); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in.note(rel, "created")
	return nil
}

// link makes rel a symlink to target.
func (in *installer) link(target, rel string) error {
	p := in.path(rel)
	if t, err := os.Readlink(p); err == nil && t == target {
		in.note(rel, "unchanged")
		return nil
	}
	if err := in.fs.Symlink(target, p); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in.note(rel, "wrote")
	return nil
}

// board writes the compatible board string.
func (in *installer) board() error {
	b := strings.TrimSpace(in.o.Board)
	if b == "" {
		data, err := os.ReadFile(in.path(update.BoardFile))
		if err != nil || strings.TrimSpace(string(data)) == "" {
			return errors.New("install: no board string: give one for a fresh root")
		}
		in.note(update.BoardFile, "kept")
		return nil
	}
	if len(b) > 64 || strings.ContainsFunc(b, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fmt.Errorf("install: bad board string %q (1 to 64 printable characters, no spaces)", b)
	}
	return in.file(update.BoardFile, []byte(b+"\n"), 0o644)
}

// keys copies the trusted keys.
func (in *installer) keys() error {
	if in.o.KeysDir != "" {
		ents, err := os.ReadDir(in.o.KeysDir)
		if err != nil {
			return fmt.Errorf("install: keys: %w", err)
		}
		n := 0
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), update.PublicKeySuffix) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(in.o.KeysDir, e.Name()))
			if err != nil {
				return fmt.Errorf("install: keys: %w", err)
			}
			pub, err := update.ParsePublicKey(data)
			if err != nil {
				return fmt.Errorf("install: key %s: %w", e.Name(), err)
			}
			if err := in.file(filepath.Join(update.KeysDir, e.Name()), update.MarshalPublicKey(pub), 0o644); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("install: no *.pub key in %s", in.o.KeysDir)
		}
	}
	if err := in.mkdir(update.KeysDir, 0o755); err != nil {
		return err
	}
	ring, err := update.LoadKeyring(in.path(update.KeysDir))
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if len(ring) == 0 {
		in.res.Warnings = append(in.res.Warnings, "no trusted update keys: every update bundle will be refused")
	}
	return nil
}

// config writes the default configuration unless one exists.
func (in *installer) config() error {
	if _, err := os.Stat(in.path(ConfigFile)); err == nil && !in.o.Force {
		in.note(ConfigFile, "kept")
		return nil
	}
	var data []byte
	if in.o.ConfigFile != "" {
		b, err := os.ReadFile(in.o.ConfigFile)
		if err != nil {
			return fmt.Errorf("install: config: %w", err)
		}
		data = b
	} else if DefaultConfig != nil {
		data = DefaultConfig()
	}
	if len(data) == 0 {
		return errors.New("install: no default configuration to write (give a configuration file)")
	}
	return in.file(ConfigFile, data, 0o600)
}
