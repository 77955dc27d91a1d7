package windowbus

import (
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// Terminal is a keypad/bar at a window, registered with the Master.
type Terminal struct {
	Addr   Addr
	Window int // window number shown to staff and written to the journal
}

// Opts configures a Master. Zero fields take the value in DefaultOpts, so
// callers set only what they need.
type Opts struct {
	// Baud is the line speed, used for timeouts and airtime figures.
	Baud int
	// Terminals are polled for key presses, in this order.
	Terminals []Terminal
	// Displays are hall displays: written and health-checked, not polled
	// for keys.
	Displays []Addr
	// ReplyTimeout is how long a device may take to start its reply after
	// a request; see LinkOpts.
	ReplyTimeout time.Duration
	// MaxMisses failed transactions in a row mark a device down.
	MaxMisses int
	// Backoff is the first interval between probes of a down device; it
	// doubles with each failed probe up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// WritesPerPoll is how many queued (Show, Beep, Configure) writes may
	// go between two polls. Writes caused by a press (ShowNow) and
	// acknowledgements are not limited.
	WritesPerPoll int
	// Backlog is how many presses may wait for the consumer. When it is
	// full, further presses stay unacknowledged in the terminals' FIFOs and
	// are read again later: none is lost.
	Backlog int
	// CheckEvery is the interval between health checks of devices without
	// keys (hall displays).
	CheckEvery time.Duration
	// Clock is the Master's clock (timestamps, back-off); the real clock
	// when nil.
	Clock clockwork.Clock
}

// DefaultOpts are the defaults for zero fields of Opts.
var DefaultOpts = Opts{
	Baud:          9600,
	ReplyTimeout:  50 * time.Millisecond,
	MaxMisses:     3,
	Backoff:       time.Second,
	MaxBackoff:    30 * time.Second,
	WritesPerPoll: 1,
	Backlog:       64,
	CheckEvery:    10 * time.Second,
}

// withDefaults returns o with zero fields filled in, validated.
func (o Opts) withDefaults() (Opts, error) {
	d := DefaultOpts
	if o.Baud == 0 {
		o.Baud = d.Baud
	}
	if o.ReplyTimeout == 0 {
		o.ReplyTimeout = d.ReplyTimeout
	}
	if o.MaxMisses == 0 {
		o.MaxMisses = d.MaxMisses
	}
	if o.Backoff == 0 {
		o.Backoff = d.Backoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = d.MaxBackoff
	}
	if o.WritesPerPoll == 0 {
		o.WritesPerPoll = d.WritesPerPoll
	}
	if o.Backlog == 0 {
		o.Backlog = d.Backlog
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = d.CheckEvery
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if err := (LinkOpts{Baud: o.Baud, ReplyTimeout: o.ReplyTimeout}).Validate(); err != nil {
		return o, err
	}
	switch {
	case o.MaxMisses < 1:
		return o, fmt.Errorf("windowbus: MaxMisses %d must be at least 1", o.MaxMisses)
	case o.Backoff < 0 || o.MaxBackoff < o.Backoff:
		return o, fmt.Errorf("windowbus: back-off %v..%v is not a range", o.Backoff, o.MaxBackoff)
	case o.WritesPerPoll < 1:
		return o, fmt.Errorf("windowbus: WritesPerPoll %d must be at least 1", o.WritesPerPoll)
	case o.Backlog < 1:
		return o, fmt.Errorf("windowbus: Backlog %d must be at least 1", o.Backlog)
	case o.CheckEvery < 0:
		return o, fmt.Errorf("windowbus: CheckEvery %v is negative", o.CheckEvery)
	case len(o.Terminals)+len(o.Displays) == 0:
		return o, fmt.Errorf("windowbus: no terminals or displays")
	}
	seen := map[Addr]bool{}
	check := func(a Addr) error {
		if !a.Valid() {
			return fmt.Errorf("windowbus: address %d out of range 1–%d", a, MaxAddr)
		}
		if seen[a] {
			return fmt.Errorf("windowbus: address %d registered twice", a)
		}
		seen[a] = true
		return nil
	}
	for _, t := range o.Terminals {
		if err := check(t.Addr); err != nil {
			return o, err
		}
		if t.Window < 0 {
			return o, fmt.Errorf("windowbus: terminal %d: window %d is negative", t.Addr, t.Window)
		}
	}
	for _, a := range o.Displays {
		if err := check(a); err != nil {
			return o, err
		}
	}
	return o, nil
}
