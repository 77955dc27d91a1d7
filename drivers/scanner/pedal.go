package scanner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// PedalOpts configures a Pedal. A zero field takes its value from
// DefaultPedalOpts.
type PedalOpts struct {
	// Debounce is how long the line must be quiet before a change counts.
	Debounce time.Duration
	// ActiveHigh says a pressed pedal reads high (a switch to the supply
	// with a pull-down); the default is pressed = low, a switch to ground
	// on the pull-up.
	ActiveHigh bool
	// Pull is the pin's resistor; the zero value (PullNoChange) means the
	// internal pull-up, or pull-down when ActiveHigh. Float suits an
	// external resistor.
	Pull gpio.Pull
	// Idle is how long the watcher waits for an edge before looking at
	// whether it must stop.
	Idle time.Duration
	// Clock times the debounce; nil means the real clock.
	Clock clockwork.Clock
}

// DefaultPedalOpts suit a foot switch to ground on the internal pull-up.
var DefaultPedalOpts = PedalOpts{Debounce: 30 * time.Millisecond, Pull: gpio.PullUp, Idle: 500 * time.Millisecond}

// Pedal is a foot pedal on a GPIO input.
type Pedal struct {
	pin     gpio.PinIn
	o       PedalOpts
	presses atomic.Uint64

	mu      sync.Mutex
	cancel  context.CancelFunc
	running bool
}

var _ conn.Resource = (*Pedal)(nil)

// NewPedal returns a Pedal on pin. o may be nil for DefaultPedalOpts.
func NewPedal(pin gpio.PinIn, o *PedalOpts) (*Pedal, error) {
	if pin == nil {
		return nil, errors.New("scanner: pedal without a pin")
	}
	opts := DefaultPedalOpts
	if o != nil {
		opts = *o
		if opts.Debounce == 0 {
			opts.Debounce = DefaultPedalOpts.Debounce
		}
		if opts.Idle == 0 {
			opts.Idle = DefaultPedalOpts.Idle
		}
		if opts.Pull == gpio.PullNoChange {
			opts.Pull = gpio.PullUp
			if opts.ActiveHigh {
				opts.Pull = gpio.PullDown
			}
		}
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Debounce < 0 || opts.Debounce > time.Second || opts.Idle <= 0 {
		return nil, fmt.Errorf("scanner: pedal debounce %v (want ≤ 1s) or idle %v out of range", opts.Debounce, opts.Idle)
	}
	return &Pedal{pin: pin, o: opts}, nil
}

// OpenPin initialises periph's host drivers and returns the GPIO pin with
// the given name ("GPIO17", "P1_11", …) for NewPedal.
func OpenPin(name string) (gpio.PinIn, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("scanner: gpio: %w", err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("scanner: no GPIO pin named %q", name)
	}
	return p, nil
}

// String names the pin.
func (p *Pedal) String() string { return "pedal(" + p.pin.String() + ")" }

// Presses returns how many presses Run has reported.
func (p *Pedal) Presses() uint64 { return p.presses.Load() }

// Halt stops Run within one Idle wait.
func (p *Pedal) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
	return nil
}

func (p *Pedal) active() bool { return (p.pin.Read() == gpio.High) == p.o.ActiveHigh }

// Run configures the pin and calls fn with the time of each press, from
// Run's goroutine (fn should return quickly: start the scan elsewhere). A
// press counts once the line has been quiet for the debounce time; a pedal
// held down when Run starts counts only after it was released. Run returns
// when ctx is done (ctx's error) or on Halt (ErrHalted).
func (p *Pedal) Run(ctx context.Context, fn func(at time.Time)) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("scanner: pedal Run called twice")
	}
	p.running = true
	ctx, cancel := context.WithCancelCause(ctx)
	p.cancel = func() { cancel(ErrHalted) }
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running, p.cancel = false, nil
		p.mu.Unlock()
		cancel(nil)
	}()
	if err := p.pin.In(p.o.Pull, gpio.BothEdges); err != nil {
		return fmt.Errorf("scanner: pedal %s: %w", p.pin, err)
	}
	pressed := p.active()
	for ctx.Err() == nil {
		if !p.pin.WaitForEdge(p.o.Idle) {
			continue
		}
		at := p.o.Clock.Now()
		for ctx.Err() == nil && p.pin.WaitForEdge(p.o.Debounce) {
		}
		now := p.active()
		if now == pressed {
			continue // a bounce that came back
		}
		pressed = now
		if pressed && ctx.Err() == nil {
			p.presses.Add(1)
			fn(at)
		}
	}
	return context.Cause(ctx)
}
