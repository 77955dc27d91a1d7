package identity

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/health"
	"hallgw/firmware/privacy"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

func startSim(t *testing.T) *idcardsim.Sim {
	t.Helper()
	sim, err := idcardsim.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// runReader runs the desk's supervisor of window w1 on the emulator's pty.
func (r *rig) runReader(o ReaderOpts) (stop func()) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() { done <- r.desk.RunReader(ctx, o) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				r.t.Errorf("RunReader = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			r.t.Error("RunReader did not stop")
		}
	}
}

func readerOpts(window, port string, reg *health.Registry) ReaderOpts {
	return ReaderOpts{Window: window, Port: port, Poll: 50 * time.Millisecond, Reopen: 100 * time.Millisecond,
		Driver: &idcard.Opts{MaxBackoff: 100 * time.Millisecond, MaxRetries: 3}, Health: reg}
}

// waitHealth waits until the reader's health is in state.
func waitHealth(t *testing.T, reg *health.Registry, window string, state health.State) health.Device {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, ok := reg.Get(HealthID(window))
		if ok && d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("reader health = %+v, want %s", d, state)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReaderSwipes lays cards on the emulated reader, which the real driver
// reads through a real serial port (a pty).
func TestReaderSwipes(t *testing.T) {
	r := newRig(t)
	sim := startSim(t)
	reg := health.NewRegistry(nil)
	stop := r.runReader(readerOpts("w1", sim.Path(), reg))
	defer stop()
	waitHealth(t, reg, "w1", health.Up)
	steps := []struct {
		c     *idcard.Card
		kind  Kind
		state hall.WindowState
	}{
		{cardGuest, Refused, hall.Closed},
		{cardLi, SignedIn, hall.Open},
		{cardLi, SignedOut, hall.Closed},
	}
	for i, st := range steps {
		if err := sim.Place(st.c); err != nil {
			t.Fatal(err)
		}
		n := r.next()
		if n.Kind != st.kind || n.Window != "w1" {
			t.Fatalf("step %d: notice %+v, want %v at w1", i, n, st.kind)
		}
		if w := r.window("w1"); w.State != st.state {
			t.Fatalf("step %d: window %v, want %v", i, w.State, st.state)
		}
		lift(t, sim)
	}
	if d, _ := reg.Get(HealthID("w1")); d.Port != sim.Path() || d.Kind != "idcard" {
		t.Errorf("reader health = %+v", d)
	}
}

// lift takes the card off and waits until the reader has looked for a
// card twice since, as a person lifting a card takes longer than a poll.
func lift(t *testing.T, sim *idcardsim.Sim) {
	t.Helper()
	sim.Remove()
	n := sim.Requests()
	deadline := time.Now().Add(10 * time.Second)
	for sim.Requests() < n+2 {
		if time.Now().After(deadline) {
			t.Fatal("the reader stopped polling")
		}
		time.Sleep(time.Millisecond)
	}
}

// flaky is a port that fails like an unplugged USB adapter after a number
// of reads.
type flaky struct {
	io.ReadWriteCloser
	left atomic.Int32
}

func (f *flaky) Read(p []byte) (int, error) {
	if f.left.Add(-1) < 0 {
		return 0, errors.New("read /dev/ttyUSB0: input/output error")
	}
	return f.ReadWriteCloser.Read(p)
}

// TestReaderReopens: the port fails (an unplugged adapter), the health goes
// down, the port is opened again after the pause, and cards work again.
func TestReaderReopens(t *testing.T) {
	r := newRig(t)
	sim := startSim(t)
	reg := health.NewRegistry(nil)
	var opens atomic.Int32
	var mu sync.Mutex
	var first *flaky
	o := readerOpts("w1", sim.Path(), reg)
	o.Open = func(name string, baud int) (io.ReadWriteCloser, error) {
		n := opens.Add(1)
		if n == 1 {
			return nil, os.ErrNotExist // not plugged in yet
		}
		p, err := serialport.Open(name, serialport.Mode{Baud: baud})
		if err != nil || n > 2 {
			return p, err
		}
		mu.Lock()
		defer mu.Unlock()
		first = &flaky{ReadWriteCloser: p}
		first.left.Store(1 << 30)
		return first, nil
	}
	stop := r.runReader(o)
	defer stop()
	waitHealth(t, reg, "w1", health.Up)
	if d, _ := reg.Get(HealthID("w1")); d.Errors["disconnect"] != 1 {
		t.Errorf("errors after the failed first open = %v, want one disconnect", d.Errors)
	}
	mu.Lock()
	first.left.Store(0) // unplugged now
	mu.Unlock()
	down := waitHealth(t, reg, "w1", health.Down)
	if !strings.Contains(down.Reason, "input/output error") {
		t.Errorf("down reason = %q", down.Reason)
	}
	waitHealth(t, reg, "w1", health.Up)
	// Missing, flaky, then good; a stale half reply left on the line by
	// the failure may cost one more.
	if n := opens.Load(); n < 3 || n > 4 {
		t.Errorf("%d opens, want 3 or 4", n)
	}
	if err := sim.Place(cardZhao); err != nil {
		t.Fatal(err)
	}
	if n := r.next(); n.Kind != SignedIn || n.Staff != "S002" {
		t.Errorf("swipe after the reopen = %+v, want S002 signed in", n)
	}
	if o.Reopen > MaxReopen || (ReaderOpts{}).Reopen != 0 {
		t.Errorf("reopen pause %v over %v", o.Reopen, MaxReopen)
	}
}

// TestComponent wires the desk as the daemon does, with the privacy
// component's keeper.
func TestComponent(t *testing.T) {
	r := newRig(t)
	sim := startSim(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Gateway.DataDir = "/data"
	d := &daemon.Daemon{
		Options: daemon.Options{Config: &config.Loaded{Config: cfg, Hash: "0123456789abcdef"}, Root: dir,
			Now: r.clock.Now, Logger: slog.New(slog.NewJSONHandler(r.log, nil))},
		Cfg: cfg, Journal: r.j, Gateway: r.g, Health: health.NewRegistry(r.clock.Now), Ctx: r.ctx,
	}
	readers := []config.WindowReader{{Window: "w4", Port: sim.Path()}}
	staff := []config.StaffCard{{ID: "S001", IDHash: r.k.HolderHash(cardLi.Number)}, {ID: "S009"}}
	if c, err := NewComponent(d, nil, staff); c != nil || err != nil {
		t.Fatalf("NewComponent without readers = %v, %v; want nothing", c, err)
	}
	if _, err := NewComponent(d, readers, staff); err == nil || !strings.Contains(err.Error(), "privacy") {
		t.Fatalf("NewComponent without a keeper = %v, want an error about the privacy secret", err)
	}
	pc, err := privacy.NewComponent(d, config.Privacy{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	defer pc.Stop(r.ctx)
	c, err := NewComponent(d, readers, staff)
	if err != nil {
		t.Fatal(err)
	}
	desk := For(d)
	if desk == nil {
		t.Fatal("For(d) = nil")
	}
	notices := make(chan Notice, 4)
	desk.SetNotify(func(n Notice) { notices <- n })
	if err := c.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, d.Health, "w4", health.Up)
	if err := sim.Place(cardLi); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notices:
		if n.Kind != SignedIn || n.Window != "w4" || n.Staff != "S001" {
			t.Errorf("notice = %+v, want S001 signed in at w4", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no sign-in")
	}
	st, ok := d.Status()["identity"].(Status)
	if !ok || st.Roster != 1 || len(st.Recent) != 1 || len(st.Readers) != 1 {
		t.Errorf("status = %#v", d.Status()["identity"])
	}
	if err := c.Stop(r.ctx); err != nil {
		t.Fatal(err)
	}
	if For(d) != nil {
		t.Error("For(d) after Stop")
	}
}
