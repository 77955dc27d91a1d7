package powerd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/simwire"
	"hallgw/drivers/ups"
	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/firmware/serialport"
	"hallgw/firmware/uplink"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// jumpClock is the real clock whose reading a test can move forward: its
// timers and tickers run in real time (polls keep their pace), while Now
// jumps, so the policy's hold times and the UPS model's discharge pass in an
// instant.
type jumpClock struct {
	clockwork.Clock
	mu  sync.Mutex
	off time.Duration
	// skip, when set, makes every After of at least skip jump the reading
	// by its duration and fire at once: a battery test's sampling interval
	// then passes in an instant while polls keep their real pace.
	skip time.Duration
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	skip := c.skip > 0 && d >= c.skip
	c.mu.Unlock()
	if !skip {
		return c.Clock.After(d)
	}
	c.Jump(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func newJumpClock() *jumpClock { return &jumpClock{Clock: clockwork.NewRealClock()} }

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *jumpClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *jumpClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Jump moves the reading forward by d.
func (c *jumpClock) Jump(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// eventually waits, generously, until cond holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder keeps every byte the UPS emulator reads: the requests the
// driver sent.
type recorder struct {
	rw  io.ReadWriter
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.rw.Read(p)
	r.mu.Lock()
	r.buf.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

func (r *recorder) Write(p []byte) (int, error) { return r.rw.Write(p) }

// requests returns the request lines seen so far.
func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.FieldsFunc(r.buf.String(), func(c rune) bool { return c == '\r' || c == '\n' })
}

// upsRig is an emulated UPS on a pseudo-terminal.
type upsRig struct {
	sim  *upssim.Sim
	pty  *simwire.PTY
	rec  *recorder
	path string
}

func startUPS(t testing.TB, cfg upssim.Config) *upsRig {
	t.Helper()
	sim, err := upssim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{rw: p.Master}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.Serve(ctx, rec)
	}()
	t.Cleanup(func() {
		cancel()
		p.Close()
		<-done
	})
	return &upsRig{sim: sim, pty: p, rec: rec, path: p.Path}
}

// hallRig is a journal and the gateway on it, in a directory that
// survives a restart.
type hallRig struct {
	dir string
	j   *journal.Journal
	g   *gateway.Gateway
}

func openHall(t testing.TB, dir string, now func() time.Time) *hallRig {
	t.Helper()
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Open(context.Background(), gateway.Options{Journal: j, GatewayID: "gw-test", Hall: halltest.Config(), Now: now})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	r := &hallRig{dir: dir, j: j, g: g}
	t.Cleanup(r.close)
	return r
}

func (r *hallRig) close() {
	if r.g != nil {
		r.g.Close(context.Background())
		r.g = nil
	}
	if r.j != nil {
		r.j.Close()
		r.j = nil
	}
}

func (r *hallRig) view(t testing.TB) (hall.NoticeView, hall.IssuingView) {
	t.Helper()
	var n hall.NoticeView
	var iss hall.IssuingView
	if err := r.g.View(context.Background(), func(h *hall.Hall) { n, iss = h.Notice(), h.Issuing() }); err != nil {
		t.Fatal(err)
	}
	return n, iss
}

// records returns the power records and the alerts journaled so far.
func (r *hallRig) records(t testing.TB) (recs, alerts []Record) {
	t.Helper()
	all, err := r.j.Read(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		var rec Record
		switch x.Kind {
		case KindPower, uplink.KindAlert:
			if err := json.Unmarshal(x.Data, &rec); err != nil {
				t.Fatalf("record %d: %v", x.Seq, err)
			}
		default:
			continue
		}
		if x.Kind == KindPower {
			recs = append(recs, rec)
		} else {
			alerts = append(alerts, rec)
		}
	}
	return recs, alerts
}

func recordTypes(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Type
	}
	return out
}

func (r *hallRig) hasRecord(t testing.TB, typ string) bool {
	recs, _ := r.records(t)
	return slices.Contains(recordTypes(recs), typ)
}

// fakeRunner records the shutdown commands instead of running them.
type fakeRunner struct {
	mu    sync.Mutex
	calls [][]string
	// before, when set, runs inside the call (to look at the journal at
	// that moment).
	before func()
}

func (f *fakeRunner) run(ctx context.Context, argv []string) error {
	if f.before != nil {
		f.before()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(argv))
	return nil
}

func (f *fakeRunner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// monitorRig runs a Monitor.
type monitorRig struct {
	m      *Monitor
	reg    *health.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startMonitor(t testing.TB, h *hallRig, o Options) *monitorRig {
	t.Helper()
	reg := health.NewRegistry(nil)
	o.Hall, o.Journal, o.Health = h.g, h.j, reg
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	if o.OpenPort == nil {
		o.OpenPort = func(name string, baud int) (io.ReadWriteCloser, error) {
			return serialport.Open(name, serialport.Mode{Baud: baud})
		}
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &monitorRig{m: m, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		m.Run(ctx)
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *monitorRig) stop() {
	r.cancel()
	<-r.done
}

func (r *monitorRig) health() health.Device {
	d, _ := r.reg.Get(HealthID)
	return d
}

// serialConfig is a UPS on path, polled every 100 ms.
//
// The emulators here are unpaced and the jump clocks poll hours of battery
// in seconds: a fast line keeps the driver's wait for a reply's airtime
// (ups.Opts.Baud) to a few milliseconds.
func serialConfig(path string) config.Power {
	return config.Power{UPS: config.UPSPort{Port: path, Baud: 115200, Poll: config.Duration(100 * time.Millisecond), BatteryNominal: 24}}
}

// fastUPS shortens the driver's reply timeout for silent-UPS tests.
var fastUPS = &ups.Opts{ReplyTimeout: 400 * time.Millisecond}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
