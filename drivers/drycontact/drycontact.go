package drycontact

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// Input names one of the two contacts.
type Input int

// The contacts.
const (
	OnBattery  Input = iota // utility failed, the UPS runs from its battery
	LowBattery              // the battery is nearly exhausted
)

func (i Input) String() string {
	switch i {
	case OnBattery:
		return "on-battery"
	case LowBattery:
		return "low-battery"
	}
	return fmt.Sprintf("input(%d)", int(i))
}

// Event is a settled change of one contact.
type Event struct {
	Input  Input
	Active bool
	// At is when the change began: the first edge of the burst.
	At time.Time
	// Initial marks the level read when the Dev started, not a change.
	Initial bool
}

// Opts configure a Dev.
type Opts struct {
	// OnBatteryActive and LowBatteryActive are the pin levels that mean
	// "active"; gpio.Low (the zero value) for a contact closing to ground.
	OnBatteryActive, LowBatteryActive gpio.Level
	// Pull is set on both pins and used as given (gpio.PullNoChange keeps
	// the board's own resistors).
	Pull gpio.Pull
	// Debounce is how long a pin must stay quiet before its level counts,
	// 1–80 ms; zero means 20 ms.
	Debounce time.Duration
	// Idle bounds each wait for an edge, so Halt is noticed; it does not
	// delay edges. Zero means 250 ms.
	Idle time.Duration
	// Clock stamps events; nil means the real clock.
	Clock clockwork.Clock
}

// DefaultOpts suit relay contacts closing to ground, with pull-ups.
var DefaultOpts = Opts{
	OnBatteryActive:  gpio.Low,
	LowBatteryActive: gpio.Low,
	Pull:             gpio.PullUp,
	Debounce:         20 * time.Millisecond,
	Idle:             250 * time.Millisecond,
}

// Dev watches the contacts. Events are delivered on Events until Halt.
type Dev struct {
	opts   Opts
	pins   [2]gpio.PinIn
	active [2]gpio.Level
	events chan Event

	mu    sync.Mutex
	state [2]bool

	stop     chan struct{}
	haltOnce sync.Once
	wg       sync.WaitGroup
}

var _ conn.Resource = (*Dev)(nil)

// New configures the pins as inputs with edge detection and starts watching
// them. lowBattery may be nil when only the on-battery contact is wired.
// opts may be nil for DefaultOpts. The first events on Events are the
// Initial levels.
func New(onBattery, lowBattery gpio.PinIn, opts *Opts) (*Dev, error) {
	if onBattery == nil {
		return nil, errors.New("drycontact: nil on-battery pin")
	}
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.Idle == 0 {
		o.Idle = DefaultOpts.Idle
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Debounce < time.Millisecond || o.Debounce > 80*time.Millisecond {
		return nil, fmt.Errorf("drycontact: debounce %v out of range 1ms..80ms (on battery must be seen within 100 ms)", o.Debounce)
	}
	if o.Idle < 0 {
		return nil, fmt.Errorf("drycontact: negative idle time %v", o.Idle)
	}
	d := &Dev{
		opts:   o,
		pins:   [2]gpio.PinIn{onBattery, lowBattery},
		active: [2]gpio.Level{o.OnBatteryActive, o.LowBatteryActive},
		events: make(chan Event, 16),
		stop:   make(chan struct{}),
	}
	now := o.Clock.Now()
	for i, p := range d.pins {
		if p == nil {
			continue
		}
		if err := p.In(o.Pull, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("drycontact: %s pin %s: %w", Input(i), p, err)
		}
		d.state[i] = p.Read() == d.active[i]
		d.events <- Event{Input: Input(i), Active: d.state[i], At: now, Initial: true}
	}
	for i, p := range d.pins {
		if p != nil {
			d.wg.Add(1)
			go d.watch(Input(i), p)
		}
	}
	return d, nil
}

// Events delivers settled changes; it is closed by Halt.
func (d *Dev) Events() <-chan Event { return d.events }

// State returns the settled levels.
func (d *Dev) State() (onBattery, lowBattery bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state[OnBattery], d.state[LowBattery]
}

// String names the pins.
func (d *Dev) String() string {
	var b strings.Builder
	b.WriteString("drycontact(")
	for i, p := range d.pins {
		if p == nil {
			continue
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", Input(i), p)
	}
	b.WriteString(")")
	return b.String()
}

// Halt stops watching, halts the pins (which ends a pending WaitForEdge on
// real hardware) and closes Events. It waits for the watchers, at most Idle.
func (d *Dev) Halt() error {
	var err error
	d.haltOnce.Do(func() {
		close(d.stop)
		for _, p := range d.pins {
			if p != nil {
				if e := p.Halt(); e != nil && err == nil {
					err = fmt.Errorf("drycontact: halt %s: %w", p, e)
				}
			}
		}
		d.wg.Wait()
		close(d.events)
	})
	return err
}

func (d *Dev) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// watch waits for edges on one pin and reports settled changes.
func (d *Dev) watch(in Input, p gpio.PinIn) {
	defer d.wg.Done()
	for !d.stopped() {
		if !p.WaitForEdge(d.opts.Idle) {
			continue
		}
		at := d.opts.Clock.Now()
		// Let the contact settle: wait until no edge for Debounce.
		for p.WaitForEdge(d.opts.Debounce) {
			if d.stopped() {
				return
			}
		}
		active := p.Read() == d.active[in]
		d.mu.Lock()
		changed := active != d.state[in]
		d.state[in] = active
		d.mu.Unlock()
		if !changed {
			continue
		}
		select {
		case d.events <- Event{Input: in, Active: active, At: at}:
		case <-d.stop:
			return
		}
	}
}
