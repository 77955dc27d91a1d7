package update

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// testBoard is the board string of the test devices.
const testBoard = "hallgw-test-board-1"

// testKey returns a deterministic key pair named by a seed byte.
func testKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// daemon returns fake daemon bytes for a version and arch.
func daemon(version, arch string) []byte {
	return []byte("\x7fELF fake hallgw " + version + " for " + arch + "\n" + string(bytes.Repeat([]byte{'x'}, 300)))
}

// spec returns a bundle spec with daemons for arm64 and armv7 and a config.
func spec(version string, sv uint64) BundleSpec {
	return BundleSpec{
		Version:         version,
		SecurityVersion: sv,
		Compatible:      testBoard,
		Created:         time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC),
		Payloads: []Payload{
			{Name: "hallgw-linux-arm64", Arch: "arm64", Mode: 0o755, Data: daemon(version, "arm64")},
			{Name: "hallgw-linux-armv7", Arch: "armv7", Mode: 0o755, Data: daemon(version, "armv7")},
			{Name: "default.yaml", Mode: 0o644, Data: []byte("# default configuration " + version + "\nhall:\n  name: test\n")},
		},
	}
}

// mustBundle writes a bundle or fails the test.
func mustBundle(t testing.TB, sp BundleSpec, key ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteBundle(&buf, sp, key); err != nil {
		t.Fatalf("WriteBundle: %v", err)
	}
	return buf.Bytes()
}

// entry is one tar member, for building broken bundles by hand.
type entry struct {
	name string
	data []byte
	typ  byte
}

// untar splits a plain tar bundle into entries.
func untar(t testing.TB, b []byte) []entry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []entry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("untar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("untar: %v", err)
		}
		out = append(out, entry{name: hdr.Name, data: data, typ: hdr.Typeflag})
	}
}

// retar joins entries into a tar.
func retar(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.data))
		} else {
			hdr.Linkname = "elsewhere"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("retar: %v", err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatalf("retar: %v", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("retar: %v", err)
	}
	return buf.Bytes()
}

// device is a test root with keys, a board and v1 provisioned in slot a.
type device struct {
	t     testing.TB
	root  string
	clock *clockwork.FakeClock
}

// newDevice prepares a root trusting the given keys.
func newDevice(t testing.TB, keys ...ed25519.PublicKey) *device {
	t.Helper()
	d := &device{t: t, root: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))}
	d.writeKeys(keys...)
	d.write(BoardFile, []byte(testBoard+"\n"))
	if _, err := d.slots(nil).Provision(ProvisionOpts{Binary: daemon("1.0.0", "arm64"), Version: "1.0.0", SecurityVersion: 1}); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return d
}

// slots returns the slot store of the device over fsys (nil: OSFS).
func (d *device) slots(fsys FS) *Slots {
	return &Slots{Root: d.root, FS: fsys, Clock: d.clock, Arch: "arm64"}
}

func (d *device) write(rel string, data []byte) {
	d.t.Helper()
	p := filepath.Join(d.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// writeKeys replaces the trusted key list.
func (d *device) writeKeys(keys ...ed25519.PublicKey) {
	d.t.Helper()
	dir := filepath.Join(d.root, KeysDir)
	if err := os.RemoveAll(dir); err != nil {
		d.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		d.t.Fatal(err)
	}
	for _, k := range keys {
		d.write(filepath.Join(KeysDir, KeyID(k)+".pub"), MarshalPublicKey(k))
	}
}

// state reads state.json.
func (d *device) state() *State {
	d.t.Helper()
	st, err := d.slots(nil).loadState()
	if err != nil {
		d.t.Fatalf("loadState: %v", err)
	}
	return st
}

// running returns the daemon bytes systemd would start through current.
func (d *device) running() string {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.root, CurrentLink, BinaryName))
	if err != nil {
		d.t.Fatalf("read current daemon: %v", err)
	}
	return string(b)
}

// install applies a bundle.
func (d *device) install(b []byte) (*Installed, error) {
	return d.slots(nil).Install(d.t.Context(), bytes.NewReader(b))
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }
