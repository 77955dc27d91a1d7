package otaupdate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/install"
	"hallgw/firmware/journal"
	"hallgw/firmware/update"
)

const (
	testBoard = "hallgw-test-board"
	testHall  = "hall-ota"
	testGW    = "gw-ota-1"
	testToken = "ota-token-1"
)

// testLogger logs to the test output when -v, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testKey returns a deterministic key pair named by a seed byte.
func testKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// fakeDaemon returns daemon bytes of about n bytes for a version.
func fakeDaemon(version string, n int) []byte {
	b := []byte("\x7fELF fake hallgw " + version + "\n")
	for i := 0; len(b) < n; i++ {
		b = append(b, byte('a'+i%26))
	}
	return b
}

// bundleSpec is a bundle for this processor with a daemon of about n bytes.
func bundleSpec(version string, sv uint64, n int) update.BundleSpec {
	return update.BundleSpec{
		Version: version, SecurityVersion: sv, Compatible: testBoard,
		Created: time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC),
		Payloads: []update.Payload{
			{Name: update.BinaryFileName(update.HostArch()), Arch: update.HostArch(), Mode: 0o755, Data: fakeDaemon(version, n)},
			{Name: "default.yaml", Mode: 0o644, Data: []byte("# default configuration " + version + "\n")},
		},
	}
}

// makeBundle writes a signed bundle and returns its bytes.
func makeBundle(t testing.TB, sp update.BundleSpec, key ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := update.WriteBundle(&buf, sp, key); err != nil {
		t.Fatalf("WriteBundle: %v", err)
	}
	return buf.Bytes()
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// offerOf is the offer of b in chunks of cs bytes.
func offerOf(b []byte, cs int, version string) update.Offer {
	sum := sha256.Sum256(b)
	return update.Offer{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), ChunkSize: cs, Version: version}
}

// tamper flips one byte inside the daemon payload of a plain-tar bundle,
// so that the signature still holds and the payload's hash does not.
func tamper(t testing.TB, b []byte) []byte {
	t.Helper()
	out := bytes.Clone(b)
	i := bytes.Index(out, []byte("\x7fELF fake hallgw"))
	if i < 0 {
		t.Fatal("tamper: no daemon payload found")
	}
	out[i+30] ^= 0x01
	return out
}

// gatewayYAML is the configuration of a test gateway under a root.
func gatewayYAML(broker string) string {
	return `version: v1
gateway:
  id: ` + testGW + `
  hall_id: ` + testHall + `
  data_dir: /var/lib/hallgw/data
mqtt:
  brokers: ["` + broker + `"]
  reconnect_min: 50ms
  reconnect_max: 200ms
  telemetry_every: 200ms
  command_token: ` + testToken + `
`
}

// newRoot lays hallgw down into a temporary root with the installer:
// version 1.0.0 at security version sv in slot a, trusting pub, board
// testBoard, configured for broker.
func newRoot(t testing.TB, sv uint64, broker string, pub ed25519.PublicKey) string {
	t.Helper()
	root, tmp := t.TempDir(), t.TempDir()
	bin := writeFile(t, tmp, "hallgw", fakeDaemon("1.0.0", 4000))
	keys := filepath.Join(tmp, "keys")
	writeFile(t, keys, update.KeyID(pub)+update.PublicKeySuffix, update.MarshalPublicKey(pub))
	cfg := writeFile(t, tmp, "hallgw.yaml", []byte(gatewayYAML(broker)))
	if _, err := install.Install(install.Opts{Root: root, Binary: bin, Version: "1.0.0", SecurityVersion: sv,
		Board: testBoard, KeysDir: keys, ConfigFile: cfg}); err != nil {
		t.Fatalf("install.Install: %v", err)
	}
	return root
}

// gateway is a daemon running on a root.
type gateway struct {
	t      testing.TB
	root   string
	d      *daemon.Daemon
	cancel context.CancelFunc
	errc   chan error
	err    error
	ended  bool
}

// startGateway runs the whole daemon on root's configuration.
func startGateway(t testing.TB, root string) *gateway {
	t.Helper()
	path := filepath.Join(root, install.ConfigFile)
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{t: t, root: root, cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan *daemon.Daemon, 1)
	go func() {
		g.errc <- daemon.Run(ctx, daemon.Options{Config: loaded, ConfigPath: path, Root: root, Listener: ln,
			Logger: testLogger(t), Version: "1.0.0", Ready: func(d *daemon.Daemon) { ready <- d }})
	}()
	select {
	case g.d = <-ready:
	case err := <-g.errc:
		cancel()
		t.Fatalf("daemon: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("daemon did not start")
	}
	t.Cleanup(func() { g.stop() })
	return g
}

// stop stops the daemon (if it still runs) and returns what Run returned.
func (g *gateway) stop() error {
	g.t.Helper()
	if g.ended {
		return g.err
	}
	g.cancel()
	return g.wait(20 * time.Second)
}

// wait waits for Run to return.
func (g *gateway) wait(d time.Duration) error {
	g.t.Helper()
	if g.ended {
		return g.err
	}
	select {
	case g.err = <-g.errc:
		g.ended = true
		return g.err
	case <-time.After(d):
		g.t.Fatal("daemon did not stop")
		return nil
	}
}

// exited reports, without waiting, whether Run returned.
func (g *gateway) exited() bool {
	if g.ended {
		return true
	}
	select {
	case g.err = <-g.errc:
		g.ended = true
		return true
	default:
		return false
	}
}

// records reads the firmware records of a journal file (the daemon must
// have stopped).
func records(t testing.TB, root string) []Record {
	t.Helper()
	j, err := journal.Open(journal.Options{Path: filepath.Join(root, update.DataDir, "journal.db"), GatewayID: testGW})
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	defer j.Close()
	return journalRecords(t, j)
}

// journalRecords decodes the firmware records of an open journal.
func journalRecords(t testing.TB, j *journal.Journal) []Record {
	t.Helper()
	var out []Record
	err := j.Scan(0, func(r journal.Record) error {
		if r.Kind != KindFirmware {
			return nil
		}
		var x Record
		if err := json.Unmarshal(r.Data, &x); err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		t.Fatalf("scan journal: %v", err)
	}
	return out
}

// steps lists the types of records.
func steps(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Type)
	}
	return out
}

// eventually polls cond until it holds, failing after 20 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requestLog counts the chunk requests a platform server saw, by index,
// and can hold requests back.
type requestLog struct {
	mu     sync.Mutex
	counts map[int]int
	after  map[int]int // requests seen since mark
	hold   func(i int) bool
	marked bool
}

func newRequestLog() *requestLog { return &requestLog{counts: map[int]int{}, after: map[int]int{}} }

// intercept is a ServerOpts.Intercept: it counts and applies hold.
func (l *requestLog) intercept(_ string, r Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[r.Index]++
	if l.marked {
		l.after[r.Index]++
	}
	return l.hold == nil || !l.hold(r.Index)
}

// setHold replaces the hold rule (nil: serve everything).
func (l *requestLog) setHold(h func(i int) bool) {
	l.mu.Lock()
	l.hold = h
	l.mu.Unlock()
}

// mark starts counting requests afresh in after.
func (l *requestLog) mark() {
	l.mu.Lock()
	l.marked = true
	l.after = map[int]int{}
	l.mu.Unlock()
}

// since returns the requests seen since mark.
func (l *requestLog) since() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for k, v := range l.after {
		out[k] = v
	}
	return out
}

// slotState reads state.json's bytes, to compare before and after.
func slotState(t testing.TB, root string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, update.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stagingEmpty reports whether the staging area holds no download.
func stagingEmpty(t testing.TB, root string) bool {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, update.StagingDir))
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) == 0
}
