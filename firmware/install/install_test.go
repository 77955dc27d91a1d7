package install

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/service"
	"hallgw/firmware/update"
)

const board = "hallgw-test-board"

var defaultYAML = []byte("hall:\n  name: default\n")

// fixture is a root to install into plus its inputs.
type fixture struct {
	root, bin, keys string
	priv            ed25519.PrivateKey
	pub             ed25519.PublicKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	prev := DefaultConfig
	DefaultConfig = func() []byte { return defaultYAML }
	t.Cleanup(func() { DefaultConfig = prev })
	f := &fixture{root: t.TempDir(), keys: t.TempDir()}
	f.bin = filepath.Join(t.TempDir(), "hallgw")
	if err := os.WriteFile(f.bin, []byte("\x7fELF hallgw 1.0.0 arm64"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.priv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	f.pub = f.priv.Public().(ed25519.PublicKey)
	if err := os.WriteFile(filepath.Join(f.keys, "release.pub"), update.MarshalPublicKey(f.pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) opts() Opts {
	return Opts{
		Root: f.root, Binary: f.bin, Version: "1.0.0", SecurityVersion: 1, Board: board, KeysDir: f.keys,
		Clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)),
	}
}

// snapshot describes every entry under root: type, mode, content hash or
// link target.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if e.Name() == ".lock" {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			lines = append(lines, fmt.Sprintf("%s -> %s", rel, target))
		case fi.IsDir():
			lines = append(lines, fmt.Sprintf("%s/ %v", rel, fi.Mode().Perm()))
		default:
			data, _ := os.ReadFile(p)
			lines = append(lines, fmt.Sprintf("%s %v %x", rel, fi.Mode().Perm(), sha256.Sum256(data)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestInstallFreshRoot(t *testing.T) {
	f := newFixture(t)
	res, err := Install(f.opts())
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if res.Slot != "a" || len(res.Warnings) != 0 {
		t.Errorf("Install = slot %s warnings %v, want slot a, none", res.Slot, res.Warnings)
	}
	unit, _ := service.Unit(service.DefaultUnitOpts)
	bin, _ := os.ReadFile(f.bin)
	files := []struct {
		rel  string
		want []byte
		perm fs.FileMode
	}{
		{rel: "var/lib/hallgw/slots/a/hallgw", want: bin, perm: 0o755},
		{rel: "var/lib/hallgw/current/hallgw", want: bin, perm: 0o755},
		{rel: "var/lib/hallgw/boot/hallgw", want: bin, perm: 0o755},
		{rel: "etc/systemd/system/hallgw.service", want: unit, perm: 0o644},
		{rel: "etc/hallgw/hallgw.yaml", want: defaultYAML, perm: 0o600},
		{rel: "etc/hallgw/board", want: []byte(board + "\n"), perm: 0o644},
		{rel: "etc/hallgw/keys/release.pub", want: update.MarshalPublicKey(f.pub), perm: 0o644},
	}
	for _, tt := range files {
		t.Run(tt.rel, func(t *testing.T) {
			p := filepath.Join(f.root, tt.rel)
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("content = %.40q, want %.40q", got, tt.want)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != tt.perm {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.perm)
			}
		})
	}
	if target, err := os.Readlink(filepath.Join(f.root, "etc/systemd/system/multi-user.target.wants/hallgw.service")); err != nil || target != "/etc/systemd/system/hallgw.service" {
		t.Errorf("wants link = %q, %v, want /etc/systemd/system/hallgw.service", target, err)
	}
	if target, err := os.Readlink(filepath.Join(f.root, update.CurrentLink)); err != nil || target != "slots/a" {
		t.Errorf("current link = %q, %v, want slots/a", target, err)
	}
	for _, d := range []string{update.DataDir, update.StagingDir} {
		if fi, err := os.Stat(filepath.Join(f.root, d)); err != nil || !fi.IsDir() {
			t.Errorf("directory %s: %v", d, err)
		}
	}
	rep, err := update.Status(f.root)
	if err != nil || rep.Active != "a" || rep.Version != "1.0.0" || rep.SecurityVersion != 1 {
		t.Errorf("Status = %+v, %v, want active a, 1.0.0, sv 1", rep, err)
	}
}

func TestInstallIdempotent(t *testing.T) {
	f := newFixture(t)
	if _, err := Install(f.opts()); err != nil {
		t.Fatalf("first Install: %v", err)
	}
	before := snapshot(t, f.root)
	res, err := Install(f.opts())
	if err != nil {
		t.Fatalf("second Install: %v", err)
	}
	if res.Changed() {
		t.Errorf("second Install changed things: %+v", res.Actions)
	}
	if after := snapshot(t, f.root); after != before {
		t.Errorf("tree changed by a second Install:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestInstallConfig(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" for none
		force    bool
		file     string // Opts.ConfigFile content
		want     string
	}{
		{name: "default on a fresh root", want: string(defaultYAML)},
		{name: "existing kept", existing: "site: edited\n", want: "site: edited\n"},
		{name: "existing replaced with force", existing: "site: edited\n", force: true, want: string(defaultYAML)},
		{name: "file instead of default", file: "from: file\n", want: "from: file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := filepath.Join(f.root, ConfigFile)
			if tt.existing != "" {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(tt.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o := f.opts()
			o.Force = tt.force
			if tt.file != "" {
				o.ConfigFile = filepath.Join(t.TempDir(), "c.yaml")
				os.WriteFile(o.ConfigFile, []byte(tt.file), 0o644)
			}
			if _, err := Install(o); err != nil {
				t.Fatalf("Install: %v", err)
			}
			if got, _ := os.ReadFile(p); string(got) != tt.want {
				t.Errorf("config = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInstallRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(f *fixture, o *Opts)
		want string
	}{
		{name: "no board on a fresh root", edit: func(f *fixture, o *Opts) { o.Board = "" }, want: "no board string"},
		{name: "board with a space", edit: func(f *fixture, o *Opts) { o.Board = "pi 4" }, want: "bad board"},
		{name: "damaged key", edit: func(f *fixture, o *Opts) {
			os.WriteFile(filepath.Join(f.keys, "bad.pub"), []byte("nonsense"), 0o644)
		}, want: "key bad.pub"},
		{name: "empty key directory", edit: func(f *fixture, o *Opts) { o.KeysDir = os.TempDir() + "/hallgw-no-keys-here" }, want: "keys"},
		{name: "no configuration", edit: func(f *fixture, o *Opts) { DefaultConfig = func() []byte { return nil } }, want: "no default configuration"},
		{name: "missing binary", edit: func(f *fixture, o *Opts) { o.Binary = filepath.Join(f.root, "nope") }, want: "daemon"},
		{name: "missing root", edit: func(f *fixture, o *Opts) { o.Root = filepath.Join(f.root, "nope") }, want: "not a directory"},
		{name: "bad version", edit: func(f *fixture, o *Opts) { o.Version = "" }, want: "bad version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			o := f.opts()
			tt.edit(f, &o)
			if _, err := Install(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Install = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestInstallWithoutKeysWarns(t *testing.T) {
	f := newFixture(t)
	o := f.opts()
	o.KeysDir = ""
	res, err := Install(o)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "every update bundle will be refused") {
		t.Errorf("warnings = %v, want the no-keys warning", res.Warnings)
	}
}

// TestFactoryThenUpdate runs the life of a gateway on a temporary root:
// factory install, a signed update applied, tried and committed, then a
// re-install of a newer daemon by hand.
func TestFactoryThenUpdate(t *testing.T) {
	f := newFixture(t)
	if _, err := Install(f.opts()); err != nil {
		t.Fatalf("Install: %v", err)
	}
	slots := &update.Slots{Root: f.root, Arch: "arm64"}
	if _, err := slots.Select(); err != nil {
		t.Fatalf("first start: %v", err)
	}
	var bundle bytes.Buffer
	_, err := update.WriteBundle(&bundle, update.BundleSpec{
		Version: "2.0.0", SecurityVersion: 2, Compatible: board, Created: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC),
		Payloads: []update.Payload{
			{Name: "hallgw-linux-arm64", Arch: "arm64", Mode: 0o755, Data: []byte("\x7fELF hallgw 2.0.0 arm64")},
			{Name: "default.yaml", Mode: 0o644, Data: defaultYAML},
		},
	}, f.priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slots.Install(t.Context(), bytes.NewReader(bundle.Bytes())); err != nil {
		t.Fatalf("update Install: %v", err)
	}
	if sel, err := slots.Select(); err != nil || !sel.Trial || sel.Slot != "b" {
		t.Fatalf("trial start = %+v, %v", sel, err)
	}
	if ok, err := slots.MarkGood(); !ok || err != nil {
		t.Fatalf("MarkGood = %v, %v", ok, err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.root, update.CurrentLink, update.BinaryName)); string(got) != "\x7fELF hallgw 2.0.0 arm64" {
		t.Errorf("running daemon = %q, want 2.0.0", got)
	}
	// A re-install by hand is the operator's decision: the given daemon runs
	// at once from the inactive slot, the updated one stays as fallback, and
	// the security version does not go back.
	res, err := Install(f.opts())
	if err != nil {
		t.Fatalf("Install over an updated root: %v", err)
	}
	if res.Slot != "a" {
		t.Errorf("re-install used slot %s, want a (the inactive one)", res.Slot)
	}
	rep, err := update.Status(f.root)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Active != "a" || rep.Version != "1.0.0" || rep.SecurityVersion != 2 || rep.Slots[1].Problem != "" || rep.Slots[1].Version != "2.0.0" {
		t.Errorf("after re-install of 1.0.0: %+v, want active a 1.0.0, sv 2, slot b intact 2.0.0", rep)
	}
	if _, err := slots.Install(t.Context(), bytes.NewReader(bundle.Bytes())); err != nil {
		t.Errorf("bundle (sv 2) after the re-install = %v, want accepted", err)
	}
}

func TestInstallOwnExecutableIntoImageWarns(t *testing.T) {
	f := newFixture(t)
	o := f.opts()
	o.Binary = ""
	res, err := Install(o)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "installed this program itself") {
		t.Errorf("warnings = %v, want the own-executable warning", res.Warnings)
	}
	exe, _ := os.Executable()
	want, _ := os.ReadFile(exe)
	if got, _ := os.ReadFile(filepath.Join(f.root, update.CurrentLink, update.BinaryName)); !bytes.Equal(got, want) {
		t.Errorf("installed daemon differs from the running executable")
	}
}
