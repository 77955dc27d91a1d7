package gpiokey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/windowbus"
)

// Button is one call button.
type Button struct {
	Pin    gpio.PinIn
	Window int           // window the button belongs to
	Key    windowbus.Key // reported on a press
	// LongKey, when not 0, is reported instead of Key for a press held at
	// least Opts.LongPress; Key is then reported on release of a short
	// press.
	LongKey windowbus.Key
}

// Opts configures a Dev. Zero durations take the value in DefaultOpts.
type Opts struct {
	// Debounce is how long the line must be quiet before a change counts.
	Debounce time.Duration
	// LongPress is the hold time of a long press (buttons with LongKey).
	LongPress time.Duration
	// Pull is the pin's pull resistor: gpio.PullUp for a switch to ground
	// (DefaultOpts), gpio.Float (the zero value) for external resistors.
	Pull gpio.Pull
	// ActiveHigh says a pressed button reads high (a switch to the supply
	// with a pull-down); the default is pressed = low.
	ActiveHigh bool
	// Idle is how long a watcher waits for an edge before checking whether
	// it must stop.
	Idle time.Duration
	// Clock times the debounce; the real clock when nil.
	Clock clockwork.Clock
}

// DefaultOpts suit push buttons to ground on the internal pull-up.
var DefaultOpts = Opts{
	Debounce:  30 * time.Millisecond,
	LongPress: 800 * time.Millisecond,
	Pull:      gpio.PullUp,
	Idle:      500 * time.Millisecond,
}

// Dev watches a set of buttons.
type Dev struct {
	buttons []Button
	o       Opts
	out     chan windowbus.Press

	mu      sync.Mutex
	seq     uint16
	cancel  context.CancelFunc
	running bool
}

var _ conn.Resource = (*Dev)(nil)

// New returns a Dev for buttons. o may be nil for DefaultOpts.
func New(buttons []Button, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	opts := *o
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultOpts.Debounce
	}
	if opts.LongPress == 0 {
		opts.LongPress = DefaultOpts.LongPress
	}
	if opts.Idle == 0 {
		opts.Idle = DefaultOpts.Idle
	}
	switch {
	case len(buttons) == 0:
		return nil, errors.New("gpiokey: no buttons")
	case opts.Debounce <= 0 || opts.Debounce > time.Second:
		return nil, fmt.Errorf("gpiokey: debounce %v out of range (0, 1 s]", opts.Debounce)
	case opts.Idle <= 0:
		return nil, fmt.Errorf("gpiokey: idle %v must be positive", opts.Idle)
	}
	for i, b := range buttons {
		switch {
		case b.Pin == nil:
			return nil, fmt.Errorf("gpiokey: button %d has no pin", i)
		case b.Key == 0:
			return nil, fmt.Errorf("gpiokey: button %d (%s) has no key", i, b.Pin)
		case b.LongKey != 0 && opts.LongPress <= opts.Debounce:
			return nil, fmt.Errorf("gpiokey: long press %v must exceed the debounce %v", opts.LongPress, opts.Debounce)
		}
	}
	return &Dev{buttons: append([]Button(nil), buttons...), o: opts, out: make(chan windowbus.Press)}, nil
}

// String lists the pins.
func (d *Dev) String() string {
	names := make([]string, len(d.buttons))
	for i, b := range d.buttons {
		names[i] = b.Pin.String()
	}
	return "gpiokey(" + strings.Join(names, ", ") + ")"
}

// Halt stops Run.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		d.cancel()
	}
	return nil
}

// Presses returns the channel of presses. Press.Addr is 0; Seq counts
// presses of this Dev.
func (d *Dev) Presses() <-chan windowbus.Press { return d.out }

// Run configures the pins as inputs with edge detection and watches them
// until ctx is done or Halt. It returns ctx.Err(), or the error of a pin
// that cannot be configured.
func (d *Dev) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("gpiokey: Run called twice")
	}
	d.running = true
	ctx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	d.mu.Unlock()
	defer cancel()
	for _, b := range d.buttons {
		if err := b.Pin.In(d.o.Pull, gpio.BothEdges); err != nil {
			return fmt.Errorf("gpiokey: %s: %w", b.Pin, err)
		}
	}
	var wg sync.WaitGroup
	for _, b := range d.buttons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.watch(ctx, b)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// active reports whether the pin reads as pressed.
func (d *Dev) active(p gpio.PinIn) bool { return (p.Read() == gpio.High) == d.o.ActiveHigh }

// settle waits until the pin has been quiet for the debounce time and
// returns whether it is then pressed.
func (d *Dev) settle(ctx context.Context, p gpio.PinIn) bool {
	for p.WaitForEdge(d.o.Debounce) {
		if ctx.Err() != nil {
			break
		}
	}
	return d.active(p)
}

// watch follows one button.
func (d *Dev) watch(ctx context.Context, b Button) {
	// A button held at start-up counts only after it has been released.
	pressed := d.active(b.Pin)
	held := pressed
	var since time.Time
	for ctx.Err() == nil {
		wait := d.o.Idle
		if pressed && !held && b.LongKey != 0 {
			wait = d.o.LongPress - d.o.Clock.Since(since)
			if wait <= 0 {
				d.emit(ctx, b, b.LongKey, since)
				held = true
				continue
			}
		}
		if !b.Pin.WaitForEdge(wait) {
			continue
		}
		edge := d.o.Clock.Now()
		now := d.settle(ctx, b.Pin)
		if now == pressed {
			continue // a bounce that came back
		}
		pressed = now
		switch {
		case pressed:
			since, held = edge, false
			if b.LongKey == 0 {
				d.emit(ctx, b, b.Key, since)
				held = true
			}
		case !held: // released before the long-press time
			d.emit(ctx, b, b.Key, since)
		}
	}
}

// emit hands a press to the consumer, waiting for it.
func (d *Dev) emit(ctx context.Context, b Button, k windowbus.Key, at time.Time) {
	d.mu.Lock()
	d.seq = windowbus.NextSeq(d.seq)
	p := windowbus.Press{Window: b.Window, Key: k, Seq: d.seq, At: at}
	d.mu.Unlock()
	select {
	case d.out <- p:
	case <-ctx.Done():
	}
}
