package power

import (
	"fmt"
	"time"
)

// Kind is what an Action asks the daemon to do.
type Kind int

// Action kinds.
const (
	RaiseAlarm    Kind = iota + 1 // send Alarm upstream
	ClearAlarm                    // withdraw Alarm upstream
	ShowNotice                    // show Notice on the displays
	ClearNotice                   // remove the notice
	RuntimeUpdate                 // new runtime estimate (displays, upstream)
	StopTickets                   // stop issuing tickets
	FlushJournal                  // make the journal durable
	KillPower                     // UPS shutdown.return: output off after its delay, back with mains
	Shutdown                      // shut the gateway down cleanly (systemd)
	Resume                        // normal service again
)

var kindNames = map[Kind]string{
	RaiseAlarm: "raise-alarm", ClearAlarm: "clear-alarm", ShowNotice: "show-notice",
	ClearNotice: "clear-notice", RuntimeUpdate: "runtime", StopTickets: "stop-tickets",
	FlushJournal: "flush-journal", KillPower: "kill-power", Shutdown: "shutdown", Resume: "resume",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Alarms raised upstream.
const (
	AlarmOnBattery = "on-battery"
	AlarmCritical  = "power-critical" // low battery or runtime below the minimum: shutting down
	AlarmUPSLost   = "ups-comm-lost"
)

// Notices shown on the displays.
const (
	NoticeOnBattery   = "on-battery"  // mains failed, the hall runs on battery
	NoticeMaintenance = "maintenance" // the hall stops: power failure
)

// Action is one thing for the daemon to do, in the order returned.
type Action struct {
	Kind    Kind
	At      time.Time
	Alarm   string        // RaiseAlarm, ClearAlarm
	Notice  string        // ShowNotice
	Runtime time.Duration // RuntimeUpdate
	Reason  string        // why, for the log and the alarm text
}

func (a Action) String() string {
	switch a.Kind {
	case RaiseAlarm, ClearAlarm:
		return a.Kind.String() + " " + a.Alarm
	case ShowNotice:
		return a.Kind.String() + " " + a.Notice
	case RuntimeUpdate:
		return a.Kind.String() + " " + a.Runtime.String()
	}
	return a.Kind.String()
}

// Sample is one UPS status poll as the policy needs it.
type Sample struct {
	At time.Time
	// Stale is true when the poll failed and the UPS counts as lost (the
	// driver's ErrStale); the other fields are then ignored.
	Stale      bool
	OnBattery  bool
	LowBattery bool
	// Runtime is the estimated time left on battery, when RuntimeKnown.
	Runtime      time.Duration
	RuntimeKnown bool
}

// Contact names a dry-contact input.
type Contact int

// The contacts.
const (
	ContactOnBattery Contact = iota
	ContactLowBattery
)

// State is where the policy stands.
type State int

// States.
const (
	Normal       State = iota // on mains
	OnBattery                 // mains failed, serving on battery
	Restoring                 // mains back, waiting RestoreHold before resuming
	ShuttingDown              // the shutdown sequence was issued (final)
)

func (s State) String() string {
	switch s {
	case Normal:
		return "normal"
	case OnBattery:
		return "on-battery"
	case Restoring:
		return "restoring"
	case ShuttingDown:
		return "shutting-down"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Config tunes the policy. Zero fields take DefaultConfig's values.
type Config struct {
	// MinRuntime: below this estimated runtime the gateway shuts down
	// while it still can.
	MinRuntime time.Duration
	// RuntimeConfirm is how long the runtime must stay below MinRuntime,
	// so one low estimate does not stop the hall.
	RuntimeConfirm time.Duration
	// RestoreHold is how long mains must stay back before the hall
	// resumes.
	RestoreHold time.Duration
	// RuntimeStep is the change in the runtime estimate worth reporting.
	RuntimeStep time.Duration
}

// DefaultConfig: shut down with 5 minutes left, resume after 30 s of
// steady mains.
var DefaultConfig = Config{
	MinRuntime:     5 * time.Minute,
	RuntimeConfirm: 10 * time.Second,
	RestoreHold:    30 * time.Second,
	RuntimeStep:    time.Minute,
}

// Policy is the power-loss state machine. It is not safe for concurrent
// use: the daemon feeds it from one goroutine.
type Policy struct {
	cfg   Config
	state State
	now   time.Time

	upsOB, upsLB    bool // last fresh UPS sample
	contOB, contLB  bool // dry contacts
	upsLost         bool
	runtime         time.Duration
	runtimeKnown    bool
	lastRuntime     time.Duration // last reported
	runtimeReported bool
	lowSince        time.Time // runtime below MinRuntime since
	restoreSince    time.Time
}

// New returns a policy in the Normal state.
func New(cfg Config) (*Policy, error) {
	d := DefaultConfig
	if cfg.MinRuntime == 0 {
		cfg.MinRuntime = d.MinRuntime
	}
	if cfg.RuntimeConfirm == 0 {
		cfg.RuntimeConfirm = d.RuntimeConfirm
	}
	if cfg.RestoreHold == 0 {
		cfg.RestoreHold = d.RestoreHold
	}
	if cfg.RuntimeStep == 0 {
		cfg.RuntimeStep = d.RuntimeStep
	}
	if cfg.MinRuntime < 0 || cfg.RuntimeConfirm < 0 || cfg.RestoreHold < 0 || cfg.RuntimeStep < 0 {
		return nil, fmt.Errorf("power: negative duration in %+v", cfg)
	}
	return &Policy{cfg: cfg}, nil
}

// State returns the current state.
func (p *Policy) State() State { return p.state }

// clock moves the policy's time forward (inputs may arrive slightly out of
// order; time never goes back).
func (p *Policy) clock(at time.Time) {
	if at.After(p.now) {
		p.now = at
	}
}

// UPS takes one status sample.
func (p *Policy) UPS(s Sample) []Action {
	p.clock(s.At)
	if p.state == ShuttingDown {
		return nil
	}
	var out []Action
	if s.Stale {
		if !p.upsLost {
			p.upsLost = true
			out = append(out, p.act(Action{Kind: RaiseAlarm, Alarm: AlarmUPSLost, Reason: "no valid reply from the UPS"}))
		}
		return append(out, p.step()...)
	}
	if p.upsLost {
		p.upsLost = false
		out = append(out, p.act(Action{Kind: ClearAlarm, Alarm: AlarmUPSLost}))
	}
	p.upsOB, p.upsLB = s.OnBattery, s.LowBattery
	p.runtime, p.runtimeKnown = s.Runtime, s.RuntimeKnown
	return append(out, p.step()...)
}

// Contact takes one settled dry-contact change.
func (p *Policy) Contact(at time.Time, c Contact, active bool) []Action {
	p.clock(at)
	if p.state == ShuttingDown {
		return nil
	}
	switch c {
	case ContactOnBattery:
		p.contOB = active
	case ContactLowBattery:
		p.contLB = active
	}
	return p.step()
}

// Tick advances the timers to now; the daemon calls it about once a second.
func (p *Policy) Tick(now time.Time) []Action {
	p.clock(now)
	if p.state == ShuttingDown {
		return nil
	}
	return p.step()
}

func (p *Policy) act(a Action) Action {
	a.At = p.now
	return a
}

// step applies the rules to the present inputs.
func (p *Policy) step() []Action {
	onBattery := p.upsOB || p.contOB
	low := onBattery && (p.upsLB || p.contLB)
	var out []Action

	switch p.state {
	case Normal:
		if !onBattery {
			return nil
		}
		p.state = OnBattery
		p.lowSince = time.Time{}
		p.runtimeReported = false
		out = append(out,
			p.act(Action{Kind: RaiseAlarm, Alarm: AlarmOnBattery, Reason: "mains failed, running on the UPS battery"}),
			p.act(Action{Kind: ShowNotice, Notice: NoticeOnBattery}))
	case Restoring:
		if onBattery {
			p.state = OnBattery // mains flapped: stay on battery, no new alarm
			break
		}
		if p.now.Sub(p.restoreSince) >= p.cfg.RestoreHold {
			p.state = Normal
			return []Action{
				p.act(Action{Kind: ClearAlarm, Alarm: AlarmOnBattery}),
				p.act(Action{Kind: ClearNotice}),
				p.act(Action{Kind: Resume, Reason: "mains back for " + p.cfg.RestoreHold.String()}),
			}
		}
		return nil
	}

	// On battery.
	if !onBattery {
		p.state = Restoring
		p.restoreSince = p.now
		p.lowSince = time.Time{}
		return out
	}
	if low {
		return append(out, p.critical("battery low")...)
	}
	if p.runtimeKnown {
		if p.runtime < p.cfg.MinRuntime {
			if p.lowSince.IsZero() {
				p.lowSince = p.now
			}
			if p.now.Sub(p.lowSince) >= p.cfg.RuntimeConfirm {
				return append(out, p.critical(fmt.Sprintf("runtime %v below the minimum %v", p.runtime.Round(time.Second), p.cfg.MinRuntime))...)
			}
		} else {
			p.lowSince = time.Time{}
		}
		d := p.runtime - p.lastRuntime
		if !p.runtimeReported || d >= p.cfg.RuntimeStep || -d >= p.cfg.RuntimeStep {
			p.lastRuntime, p.runtimeReported = p.runtime, true
			out = append(out, p.act(Action{Kind: RuntimeUpdate, Runtime: p.runtime}))
		}
	}
	return out
}

// critical issues the shutdown sequence and enters ShuttingDown.
func (p *Policy) critical(reason string) []Action {
	p.state = ShuttingDown
	return []Action{
		p.act(Action{Kind: RaiseAlarm, Alarm: AlarmCritical, Reason: reason}),
		p.act(Action{Kind: StopTickets, Reason: reason}),
		p.act(Action{Kind: ShowNotice, Notice: NoticeMaintenance, Reason: reason}),
		p.act(Action{Kind: FlushJournal}),
		p.act(Action{Kind: KillPower, Reason: "restore the gateway when mains returns"}),
		p.act(Action{Kind: Shutdown, Reason: reason}),
	}
}
