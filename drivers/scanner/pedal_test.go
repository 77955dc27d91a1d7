package scanner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

const debounce = 30 * time.Millisecond

// pedalRig drives a Pedal on a gpiotest pin with a fake clock. It counts
// the clock's waiters: one idle wait per settled step (the pin's timers
// are never stopped, and the idle ones never expire in the test) and one
// debounce wait per edge since the last settle.
type pedalRig struct {
	t       *testing.T
	ctx     context.Context
	clock   *clockwork.FakeClock
	pin     *gpiotest.Pin
	p       *Pedal
	presses chan time.Time
	done    chan error
	idle    int
	pending int
}

func newPedalRig(t *testing.T, activeHigh bool, start gpio.Level) *pedalRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	clock := clockwork.NewFakeClock()
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level), Clock: clock}
	p, err := NewPedal(pin, &PedalOpts{Debounce: debounce, Idle: time.Hour, ActiveHigh: activeHigh, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	r := &pedalRig{t: t, ctx: ctx, clock: clock, pin: pin, p: p, presses: make(chan time.Time, 16), done: make(chan error, 1), idle: 1}
	go func() { r.done <- p.Run(ctx, func(at time.Time) { r.presses <- at }) }()
	r.wait(1)
	// The pull resistor set by In gave the idle level; now set the level
	// the test starts from (a pedal held at start-up) before any edge.
	if pin.Read() != start {
		t.Fatalf("pin reads %v after In, want the released level %v", pin.Read(), start)
	}
	return r
}

func (r *pedalRig) wait(n int) {
	r.t.Helper()
	if err := r.clock.BlockUntilContext(r.ctx, n); err != nil {
		r.t.Fatalf("pedal never waited (%d waiters): %v", n, err)
	}
}

// edge delivers one edge to the watcher (the channel is unbuffered).
func (r *pedalRig) edge(l gpio.Level) {
	r.t.Helper()
	select {
	case r.pin.EdgesChan <- l:
		r.pending++
	case <-r.ctx.Done():
		r.t.Fatal("the pedal took no edge")
	}
}

// settle lets the debounce time pass and waits until the watcher is idle
// again, having reported what it decided.
func (r *pedalRig) settle() {
	r.t.Helper()
	r.wait(r.idle + r.pending)
	r.clock.Advance(debounce)
	r.pending = 0
	r.idle++
	r.wait(r.idle)
}

func (r *pedalRig) count() int {
	n := 0
	for {
		select {
		case <-r.presses:
			n++
		default:
			return n
		}
	}
}

func TestPedal(t *testing.T) {
	L, H := gpio.Low, gpio.High
	tests := []struct {
		name       string
		activeHigh bool
		steps      [][]gpio.Level // edges, then a settle
		want       int
	}{
		{"clean press", false, [][]gpio.Level{{L}}, 1},
		{"press and release", false, [][]gpio.Level{{L}, {H}}, 1},
		{"bouncing press", false, [][]gpio.Level{{L, H, L, H, L}}, 1},
		{"bounce that comes back", false, [][]gpio.Level{{L, H}}, 0},
		{"bounce on release", false, [][]gpio.Level{{L}, {H, L, H}}, 1},
		{"two presses", false, [][]gpio.Level{{L}, {H}, {L, H, L}, {H}}, 2},
		{"active high", true, [][]gpio.Level{{H}, {L}, {H}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			released := gpio.High
			if tt.activeHigh {
				released = gpio.Low
			}
			r := newPedalRig(t, tt.activeHigh, released)
			for _, step := range tt.steps {
				for _, l := range step {
					r.edge(l)
				}
				r.settle()
			}
			if got := r.count(); got != tt.want || int(r.p.Presses()) != tt.want {
				t.Errorf("presses = %d (counter %d), want %d", got, r.p.Presses(), tt.want)
			}
			r.p.Halt()
			r.clock.Advance(time.Hour)
			if err := <-r.done; !errors.Is(err, ErrHalted) {
				t.Errorf("Run after Halt = %v, want ErrHalted", err)
			}
		})
	}
}

// TestPedalHeldAtStart: a pedal already down when Run starts (stuck, or
// resting on it) counts only after it was released and pressed again.
func TestPedalHeldAtStart(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Active high on a floating line held high from outside: In leaves
	// the level alone.
	pin := &gpiotest.Pin{N: "GPIO5", L: gpio.High, EdgesChan: make(chan gpio.Level), Clock: clock}
	p, err := NewPedal(pin, &PedalOpts{Debounce: debounce, Idle: time.Hour, ActiveHigh: true, Pull: gpio.Float, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	r := &pedalRig{t: t, ctx: ctx, clock: clock, pin: pin, p: p, presses: make(chan time.Time, 4), done: make(chan error, 1), idle: 1}
	go func() { r.done <- p.Run(ctx, func(at time.Time) { r.presses <- at }) }()
	r.wait(1)
	r.edge(gpio.High) // a bounce while held: still held
	r.settle()
	if n := r.count(); n != 0 {
		t.Fatalf("presses while held since start = %d, want 0", n)
	}
	r.edge(gpio.Low)
	r.settle()
	r.edge(gpio.High)
	r.settle()
	if n := r.count(); n != 1 {
		t.Fatalf("presses after release and press = %d, want 1", n)
	}
	cancel()
	r.clock.Advance(time.Hour)
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestNewPedal(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO1", EdgesChan: make(chan gpio.Level)}
	tests := []struct {
		name string
		pin  gpio.PinIn
		o    *PedalOpts
		ok   bool
		pull gpio.Pull
	}{
		{"defaults", pin, nil, true, gpio.PullUp},
		{"active high pulls down", pin, &PedalOpts{ActiveHigh: true}, true, gpio.PullDown},
		{"no pin", nil, nil, false, 0},
		{"long debounce", pin, &PedalOpts{Debounce: 2 * time.Second}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPedal(tt.pin, tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("NewPedal = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && (p.o.Pull != tt.pull || p.String() != "pedal(GPIO1(0))") {
				t.Errorf("NewPedal pull = %v, name %s; want %v, pedal(GPIO1(0))", p.o.Pull, p, tt.pull)
			}
		})
	}
}
