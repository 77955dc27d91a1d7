package frontdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/daemon/daemontest"
	"hallgw/firmware/gateway"
	"hallgw/firmware/privacy"
	"hallgw/firmware/testkit"
	"hallgw/hall"
)

// testHall is a running daemon on the default hall's configuration, with no
// front device of its own: tests add a Frontdesk with the devices and
// options they need.
type testHall struct {
	t   testing.TB
	d   *daemon.Daemon
	url string
	log *testkit.Buffer
}

func newHall(t testing.TB, mod func(c *config.Config)) *testHall {
	t.Helper()
	c := config.Default()
	c.Gateway.DataDir = t.TempDir()
	c.HTTP.Listen = "127.0.0.1:0"
	c.Queue.RecallMinGap = 0
	if mod != nil {
		mod(c)
	}
	yml, err := config.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Parse("test.yaml", yml)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.Buffer{}
	d := daemontest.Run(t, daemon.Options{Config: loaded,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return &testHall{t: t, d: d, url: "http://" + d.Addr, log: logs}
}

// start adds the front devices o describes and starts them.
func (h *testHall) start(o Options) *Frontdesk {
	h.t.Helper()
	if o.Open == nil {
		o.Open = openSerial
	}
	f, err := New(h.d, o)
	if err != nil {
		h.t.Fatal(err)
	}
	if f == nil {
		h.t.Fatal("New returned no front devices")
	}
	if err := f.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.Stop(ctx); err != nil {
			h.t.Errorf("stop: %v", err)
		}
	})
	return f
}

// do runs hall commands through the gateway, failing the test on a refusal.
func (h *testHall) do(cmds ...hall.Command) []gateway.Committed {
	h.t.Helper()
	var all []gateway.Committed
	for _, c := range cmds {
		if c.Source == "" {
			c.Source = "test"
		}
		evs, err := h.d.Gateway.Do(context.Background(), c)
		if err != nil {
			h.t.Fatalf("%v: %v", c.Op, err)
		}
		all = append(all, evs...)
	}
	return all
}

// open signs staff in at the windows.
func (h *testHall) open(windows ...string) {
	h.t.Helper()
	for _, w := range windows {
		h.do(hall.Command{Op: hall.OpOpenWindow, Window: w, Staff: "S" + w})
	}
}

// issue takes n tickets for a service straight from the gateway.
func (h *testHall) issue(service string, n int) {
	h.t.Helper()
	for range n {
		h.do(hall.Command{Op: hall.OpIssue, Service: service})
	}
}

// view reads the hall.
func (h *testHall) view(fn func(hl *hall.Hall)) {
	h.t.Helper()
	if err := h.d.Gateway.View(context.Background(), fn); err != nil {
		h.t.Fatal(err)
	}
}

// post sends a JSON request to the daemon and decodes the answer into out.
func (h *testHall) post(path string, body any, out any) int {
	h.t.Helper()
	return h.request(http.MethodPost, path, body, out)
}

// bounded returns a context that ends with the test or after a minute,
// for waits that would otherwise hang the run when something is broken.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitTickets waits for n tickets at the printer emulator p.
func waitTickets(t *testing.T, p *escpossim.Printer, n int) []escpossim.RenderedTicket {
	t.Helper()
	tickets, err := p.WaitTickets(bounded(t), n)
	if err != nil {
		t.Fatalf("waiting for %d tickets: %v (got %d)", n, err, len(tickets))
	}
	return tickets
}

// hangGuard bounds every request the tests make, so that a request that
// never returns fails its test, named, instead of hanging the run. It is
// not a performance limit: every request here answers in milliseconds.
var hangGuard = &http.Client{Timeout: time.Minute}

func (h *testHall) request(method, path string, body any, out any) int {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hangGuard.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// keeper returns a privacy keeper for the hall.
func (h *testHall) keeper() *privacy.Keeper {
	h.t.Helper()
	loc, _ := h.d.Cfg.Location()
	k, err := privacy.Open(h.t.TempDir(), privacy.Opts{Secret: []byte("a test secret, not for halls"), Retention: 24 * time.Hour, Now: h.d.Now, Location: loc})
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// waitFor polls cond until it holds; the bound only keeps a broken test
// from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// emuPrinter starts an emulated ticket printer on a pty.
func emuPrinter(t testing.TB, baud int) *escpossim.Printer {
	t.Helper()
	p, err := escpossim.NewPTY(escpossim.Opts{Baud: baud, Width: 80})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		p.Close()
		<-done
	})
	return p
}

// testBus is an emulated window bus on a pty.
type testBus struct {
	t   testing.TB
	sim *bussim.Sim
	pty *simwire.PTY

	mu    sync.Mutex
	shown map[windowbus.Addr][]string
	stop  func()
}

func newTestBus(t testing.TB, baud int, terms, displays []windowbus.Addr) *testBus {
	t.Helper()
	b := &testBus{t: t, shown: map[windowbus.Addr][]string{}}
	b.plug(baud, terms, displays)
	t.Cleanup(func() { b.unplug() })
	return b
}

// plug starts the emulator on a new pty.
func (b *testBus) plug(baud int, terms, displays []windowbus.Addr) {
	b.t.Helper()
	p, err := simwire.OpenPTY()
	if err != nil {
		b.t.Fatal(err)
	}
	sim, err := bussim.New(p.Master, bussim.Opts{Baud: baud, Terminals: terms, Displays: displays, Seed: 1,
		OnShow: func(c bussim.Change) {
			b.mu.Lock()
			b.shown[c.Addr] = append(b.shown[c.Addr], c.Text)
			b.mu.Unlock()
		}})
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.Run(ctx)
	}()
	b.mu.Lock()
	b.sim, b.pty = sim, p
	b.stop = func() {
		cancel()
		p.Close()
		<-done
	}
	b.mu.Unlock()
}

// unplug closes the pty: the driver's port fails as when a USB adapter is
// pulled.
func (b *testBus) unplug() {
	b.mu.Lock()
	stop := b.stop
	b.stop = nil
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (b *testBus) path() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pty.Path
}

// text returns what the device at a shows.
func (b *testBus) text(a windowbus.Addr) string {
	b.mu.Lock()
	sim := b.sim
	b.mu.Unlock()
	return sim.Text(a)
}

// waitText waits until device a shows want.
func (b *testBus) waitText(a windowbus.Addr, want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.text(a) != want {
		if time.Now().After(deadline) {
			b.t.Fatalf("device %d shows %q, want %q (written: %q)", a, b.text(a), want, b.written(a))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// written returns every text written to a.
func (b *testBus) written(a windowbus.Addr) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.shown[a]...)
}

func (b *testBus) press(a windowbus.Addr, k windowbus.Key, arg uint16) uint16 {
	b.t.Helper()
	b.mu.Lock()
	sim := b.sim
	b.mu.Unlock()
	seq, _, err := sim.Press(a, k, arg)
	if err != nil {
		b.t.Fatal(err)
	}
	return seq
}

// busConfig is a bus with terminals at the window numbers of the default
// hall's windows and a hall display at 201.
func busConfig(port string, baud int, windows ...int) config.Bus {
	bc := config.Bus{ID: "1", Port: port, Baud: baud, Displays: []config.Display{{Address: 201, Name: "大厅"}}}
	for _, w := range windows {
		bc.Terminals = append(bc.Terminals, config.Terminal{Address: w, Window: fmt.Sprint(w)})
	}
	return bc
}

// presses collects press outcomes.
type presses struct {
	mu  sync.Mutex
	all []PressResult
}

func watchPresses(t testing.TB, f *Frontdesk) *presses {
	p := &presses{}
	cancel := f.OnPress(func(r PressResult) {
		p.mu.Lock()
		p.all = append(p.all, r)
		p.mu.Unlock()
	})
	t.Cleanup(cancel)
	return p
}

// wait returns the outcome of the press seq at a.
func (p *presses) wait(t testing.TB, a windowbus.Addr, seq uint16) PressResult {
	t.Helper()
	var out PressResult
	waitFor(t, fmt.Sprintf("press %d at %d", seq, a), func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, r := range p.all {
			if r.Addr == a && r.Seq == seq {
				out = r
				return true
			}
		}
		return false
	})
	return out
}

// contains reports whether s contains every part.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
