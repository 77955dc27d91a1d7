package daemon_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/hall"
)

// testConfig writes a configuration file for a daemon in dir and returns
// its path and bytes.
func testConfig(t *testing.T, dir, extra string) (string, []byte) {
	t.Helper()
	yml := "gateway:\n  id: gw-d\n  hall_id: hn-t\n  hall_name: 测试大厅\n  data_dir: " + filepath.Join(dir, "data") +
		"\nhttp:\n  listen: 127.0.0.1:0\n" + extra
	p := filepath.Join(dir, "hallgw.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, []byte(yml)
}

type running struct {
	d    *daemon.Daemon
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, path string) *running {
	t.Helper()
	l, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stop: cancel, done: make(chan error, 1)}
	ready := make(chan *daemon.Daemon, 1)
	go func() {
		r.done <- daemon.Run(ctx, daemon.Options{Config: l, ConfigPath: path, Listener: ln, Version: "test",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(d *daemon.Daemon) { ready <- d }})
	}()
	select {
	case r.d = <-ready:
	case err := <-r.done:
		t.Fatalf("daemon did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}
	return r
}

func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
		return nil
	}
}

func TestRunServesAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	path, _ := testConfig(t, dir, "")
	r := start(t, path)
	resp, err := http.Get("http://" + r.d.Addr + "/api/v1/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/state = %d", resp.StatusCode)
	}
	if err := r.d.Healthy(); err != nil {
		t.Errorf("Healthy() = %v on a fresh daemon", err)
	}
	st := r.d.Status()
	if gw, ok := st["gateway"].(map[string]any); !ok || gw["id"] != "gw-d" {
		t.Errorf("Status()[gateway] = %v", st["gateway"])
	}
	if _, err := r.d.Gateway.Do(context.Background(), hall.Command{Op: hall.OpIssue, Service: "general"}); err != nil {
		t.Fatal(err)
	}
	r.stop()
	if err := r.wait(t); err != nil {
		t.Fatalf("Run = %v after a clean stop", err)
	}
	// A clean stop leaves a snapshot, so the next start replays little.
	r2 := start(t, path)
	defer func() { r2.stop(); r2.wait(t) }()
	seq, data, err := r2.d.Journal.LatestSnapshot()
	if err != nil || data == nil || seq == 0 {
		t.Errorf("no snapshot after a clean stop: seq %d, %v", seq, err)
	}
}

func TestApplyConfig(t *testing.T) {
	dir := t.TempDir()
	path, base := testConfig(t, dir, "")
	r := start(t, path)
	ctx := context.Background()

	// Hall rules only: applied at once, file replaced, no restart.
	hallOnly := append(append([]byte(nil), base...), "queue:\n  recall_max: 5\n"...)
	res, err := r.d.ApplyConfig(ctx, hallOnly, "test")
	if err != nil || res.Restart {
		t.Fatalf("ApplyConfig(queue only) = %+v, %v; want applied without restart", res, err)
	}
	var got int
	r.d.Gateway.View(ctx, func(h *hall.Hall) { got = h.Config().Rules.RecallMax })
	if got != 5 {
		t.Errorf("recall_max = %d after the push, want 5", got)
	}
	if b, _ := os.ReadFile(path); string(b) != string(hallOnly) {
		t.Error("configuration file not replaced")
	}

	// A broken one: refused with file, line and field; nothing changes.
	broken := []byte(strings.Replace(string(hallOnly), "recall_max: 5", "recal_max: 5", 1))
	if _, err := r.d.ApplyConfig(ctx, broken, "test"); err == nil || !strings.Contains(err.Error(), "recal_max") {
		t.Errorf("broken configuration: err = %v, want the field named", err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(hallOnly) {
		t.Error("a refused configuration replaced the file")
	}
	// Another gateway's identity is refused.
	other := []byte(strings.Replace(string(hallOnly), "id: gw-d", "id: gw-x", 1))
	if _, err := r.d.ApplyConfig(ctx, other, "test"); err == nil {
		t.Error("configuration of another gateway accepted")
	}

	// Another section: applied through a restart on the new file.
	withToken := []byte(strings.Replace(string(hallOnly), "http:\n  listen: 127.0.0.1:0\n", "http:\n  listen: 127.0.0.1:0\n  token: s3cret\n", 1))
	res, err = r.d.ApplyConfig(ctx, withToken, "test")
	if err != nil || !res.Restart {
		t.Fatalf("ApplyConfig(http) = %+v, %v; want a restart", res, err)
	}
	if err := r.wait(t); !errors.Is(err, daemon.ErrRestart) {
		t.Fatalf("Run = %v, want ErrRestart", err)
	}
	l, err := config.Load(path)
	if err != nil || string(l.HTTP.Token) != "s3cret" {
		t.Fatalf("file after the push: token %q, %v", l.HTTP.Token, err)
	}
}

type order struct {
	name string
	log  *[]string
}

func (o order) Start(context.Context) error { *o.log = append(*o.log, "start "+o.name); return nil }
func (o order) Stop(context.Context) error  { *o.log = append(*o.log, "stop "+o.name); return nil }

var (
	registerOnce sync.Once
	orderLog     []string
)

func TestComponentsStartInOrderAndStopInReverse(t *testing.T) {
	registerOnce.Do(func() {
		daemon.Register("test-b", 1001, func(d *daemon.Daemon) (daemon.Component, error) { return order{"b", &orderLog}, nil })
		daemon.Register("test-a", 1000, func(d *daemon.Daemon) (daemon.Component, error) { return order{"a", &orderLog}, nil })
		daemon.Register("test-off", 999, func(d *daemon.Daemon) (daemon.Component, error) { return nil, nil })
	})
	orderLog = nil
	dir := t.TempDir()
	path, _ := testConfig(t, dir, "")
	r := start(t, path)
	r.stop()
	r.wait(t)
	want := "start a,start b,stop b,stop a"
	if got := strings.Join(orderLog, ","); got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
}

type failing struct{}

func (failing) Start(context.Context) error { return errors.New("no such device") }
func (failing) Stop(context.Context) error  { return nil }

func TestFailingComponentStopsTheStart(t *testing.T) {
	t.Setenv("HALLGW_TEST_FAILING", "1")
	failOnce.Do(func() {
		daemon.Register("test-failing", 1002, func(d *daemon.Daemon) (daemon.Component, error) {
			if os.Getenv("HALLGW_TEST_FAILING") != "1" {
				return nil, nil
			}
			return failing{}, nil
		})
	})
	dir := t.TempDir()
	path, _ := testConfig(t, dir, "")
	l, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	err = daemon.Run(context.Background(), daemon.Options{Config: l, Listener: ln,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Fatalf("Run = %v, want the component's error", err)
	}
}

var failOnce sync.Once
