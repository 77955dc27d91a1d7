package windowbus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
	"hallgw/firmware/serialport"
)

// rig is a Master driving emulated devices through a real pseudo-terminal
// opened with serialport.Open, as the daemon opens /dev/ttyUSB0.
type rig struct {
	sim    *bussim.Sim
	pty    *simwire.PTY
	port   serialport.Port
	m      *windowbus.Master
	cancel context.CancelFunc
	runErr chan error // Master.Run's result
	simErr chan error

	once  sync.Once
	mu    sync.Mutex
	shown []bussim.Change
	cond  chan struct{} // ticked on every change
}

type rigOpts struct {
	proto     string
	baud      int
	terminals []windowbus.Addr
	displays  []windowbus.Addr
	master    func(*windowbus.Opts)
	sim       func(*bussim.Opts)
	consume   bool // start no consumer: the test reads Presses itself
}

func protocolOf(name string) windowbus.Protocol {
	if name == "vendor" {
		return vendor.Protocol{}
	}
	return modbusrtu.Protocol{}
}

func newRig(t testing.TB, ro rigOpts) *rig {
	t.Helper()
	r := &rig{runErr: make(chan error, 1), simErr: make(chan error, 1), cond: make(chan struct{}, 1)}
	p, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	r.pty = p
	so := bussim.Opts{Baud: ro.baud, Protocol: ro.proto, Terminals: ro.terminals, Displays: ro.displays, Seed: 1,
		OnShow: func(c bussim.Change) {
			r.mu.Lock()
			r.shown = append(r.shown, c)
			r.mu.Unlock()
			select {
			case r.cond <- struct{}{}:
			default:
			}
		}}
	if ro.sim != nil {
		ro.sim(&so)
	}
	sim, err := bussim.New(p, so)
	if err != nil {
		t.Fatal(err)
	}
	r.sim = sim
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.simErr <- sim.Run(ctx) }()

	port, err := serialport.Open(p.Path, serialport.Mode{Baud: ro.baud, ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.port = port
	mo := windowbus.Opts{Baud: ro.baud, ReplyTimeout: 100 * time.Millisecond}
	for _, a := range ro.terminals {
		mo.Terminals = append(mo.Terminals, windowbus.Terminal{Addr: a, Window: int(a)})
	}
	mo.Displays = ro.displays
	if ro.master != nil {
		ro.master(&mo)
	}
	m, err := windowbus.New(port, protocolOf(ro.proto), &mo)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	go func() { r.runErr <- m.Run(ctx) }()
	t.Cleanup(r.close)
	return r
}

func (r *rig) close() {
	r.once.Do(func() {
		r.cancel()
		r.m.Halt()
		r.port.Close()
		r.pty.Close()
		select {
		case <-r.runErr:
		case <-time.After(10 * time.Second):
		}
	})
}

// waitShown waits until device a has been written text, and returns when
// the write crossed the wire.
func (r *rig) waitShown(t testing.TB, a windowbus.Addr, text string) time.Time {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, c := range r.shown {
			if c.Addr == a && c.Text == text {
				r.mu.Unlock()
				return c.At
			}
		}
		r.mu.Unlock()
		select {
		case <-r.cond:
		case <-deadline:
			t.Fatalf("device %d never showed %q (it shows %q)", a, text, r.sim.Text(a))
		}
	}
}

// nextPress waits for the next press delivered by the Master.
func (r *rig) nextPress(t testing.TB) windowbus.Press {
	t.Helper()
	select {
	case p, ok := <-r.m.Presses():
		if !ok {
			t.Fatalf("Presses closed: Run returned")
		}
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("no press delivered within 10 s")
	}
	return windowbus.Press{}
}

// noPress checks that no further press arrives within d.
func (r *rig) noPress(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case p := <-r.m.Presses():
		t.Fatalf("unexpected press %v", p)
	case <-time.After(d):
	}
}

// health returns the Master's health of device a.
func (r *rig) health(a windowbus.Addr) windowbus.Health {
	for _, h := range r.m.Health() {
		if h.Addr == a {
			return h
		}
	}
	return windowbus.Health{}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 10*time.Second, what, cond)
}

// waitWithin polls cond until it holds or d passes.
func waitWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
