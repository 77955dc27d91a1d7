package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Device kinds the fault classification treats specially; every other kind
// is part of the hall's information system.
const (
	KindUplink   = "uplink"   // the link to the platform's broker
	KindTerminal = "terminal" // a window terminal (keypad + LED bar) on a bus
	KindBus      = "bus"      // an RS-485 window bus adapter
	KindJournal  = "journal"  // the gateway's own event journal (write failures)
)

// Fault is one fault record (故障处理单): it opens when an outage has lasted
// the grace period, records every change of level, ends when the outage
// clears and is closed by ops with a resolution note.
type Fault struct {
	ID       string   `json:"id"` // "<gateway>:F<n>"
	Category Category `json:"category"`
	Level    Level    `json:"level"`
	// LevelSince is when the fault reached its current level.
	LevelSince time.Time `json:"level_since"`
	// Device is what is down: a device id, "windows" for window terminals
	// and buses together, or the uplink.
	Device string `json:"device"`
	// Devices lists the devices down when the fault last changed.
	Devices []string  `json:"devices,omitempty"`
	Cause   string    `json:"cause"`
	Start   time.Time `json:"start"`        // when the outage began
	End     time.Time `json:"end,omitzero"` // when it cleared
	Closed  time.Time `json:"closed,omitzero"`
	Note    string    `json:"note,omitempty"` // ops' resolution note
	// ClosedBy is the platform request that closed the fault.
	ClosedBy string `json:"closed_by,omitempty"`
	// Levels is the history of levels, oldest first.
	Levels []LevelStep `json:"levels"`

	key string // condition key, while ongoing
}

// LevelStep is a level a fault reached and when.
type LevelStep struct {
	Level Level     `json:"level"`
	At    time.Time `json:"at"`
}

// Ongoing reports whether the outage has not cleared yet.
func (f Fault) Ongoing() bool { return f.End.IsZero() }

func (f Fault) clone() Fault {
	f.Devices = append([]string(nil), f.Devices...)
	f.Levels = append([]LevelStep(nil), f.Levels...)
	return f
}

// Fault change types, the "type" of fault events.
const (
	FaultOpened  = "fault_opened"
	FaultLevel   = "fault_level" // the level changed (escalation, or fewer windows down)
	FaultCleared = "fault_cleared"
	FaultClosed  = "fault_closed"
)

// FaultChange is one change of a fault, as journaled and published.
type FaultChange struct {
	Type  string `json:"type"`
	Fault Fault  `json:"fault"`
}

// Store keeps small values durably; the journal's Meta and SetMeta fit.
type Store interface {
	Meta(key string) ([]byte, error)
	SetMeta(key string, val []byte) error
}

// FaultsMetaKey is the Store key of the unresolved faults.
const FaultsMetaKey = "health.faults"

// MaxNoteLen is the longest resolution note, in characters.
const MaxNoteLen = 2000

// Errors Close returns; callers report them to ops.
var (
	ErrUnknownFault = errors.New("health: no unresolved fault with that id")
	ErrFaultOngoing = errors.New("health: the fault is still ongoing")
)

// FaultOptions configure a Faults tracker.
type FaultOptions struct {
	GatewayID string
	Now       func() time.Time
	// Store keeps the unresolved faults across restarts; nil keeps them in
	// memory only.
	Store Store
	Rules FaultRules // zero = DefaultFaultRules
	// OnChange is called for every change, in order, with no lock held. It
	// must not block; it may journal the change.
	OnChange func(FaultChange)
	// Keep bounds the faults that cleared and wait to be closed
	// (default 256); the oldest are dropped from the live list beyond it
	// (they stay in the journal).
	Keep int
}

// Faults classifies outages into fault records and tracks them until ops
// close them. It is safe for concurrent use.
//
// Classification (docs/mqtt.md has the table):
//   - the uplink down: network fault level III (互联网无法访问, the hall works on);
//   - window terminals or buses down: one network fault "windows", level II
//     while some windows still work, level I when every terminal (or every
//     bus) is down;
//   - any other device down (printer, display, voice, reader, UPS, pad, the
//     journal): an information-system fault for that device, level III when
//     it opens, II once it has lasted SystemII, I once it has lasted SystemI.
type Faults struct {
	opts    FaultOptions
	started time.Time

	mu     sync.Mutex
	next   uint64
	faults []*Fault // unresolved, by start
	queue  []FaultChange
	// delivering is true while a goroutine hands out queue, so changes
	// reach OnChange in order.
	delivering bool
}

type faultsState struct {
	Next   uint64   `json:"next"`
	Faults []*Fault `json:"faults"`
	Keys   []string `json:"keys"`
}

// NewFaults returns a tracker, restoring the unresolved faults from the
// store.
func NewFaults(opts FaultOptions) (*Faults, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rules == (FaultRules{}) {
		opts.Rules = DefaultFaultRules
	}
	if err := opts.Rules.validate(); err != nil {
		return nil, err
	}
	if opts.Keep <= 0 {
		opts.Keep = 256
	}
	f := &Faults{opts: opts, started: opts.Now(), next: 1}
	if opts.Store != nil {
		b, err := opts.Store.Meta(FaultsMetaKey)
		if err != nil {
			return nil, fmt.Errorf("health: read faults: %w", err)
		}
		if b != nil {
			var st faultsState
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("health: stored faults: %w", err)
			}
			f.next = max(st.Next, 1)
			for i, ft := range st.Faults {
				if ft == nil {
					continue
				}
				if i < len(st.Keys) && ft.Ongoing() {
					ft.key = st.Keys[i]
				}
				f.faults = append(f.faults, ft)
			}
		}
	}
	return f, nil
}

// condition is an outage that is, or becomes, a fault.
type condition struct {
	category Category
	level    Level
	// levelSince is when the outage reached level: the moment a duration
	// threshold was crossed, or zero for "now".
	levelSince time.Time
	device     string
	devices    []string
	cause      string
	since      time.Time
}

// classify turns the devices that are down into conditions, keyed.
func (f *Faults) classify(devs []Device, now time.Time) map[string]condition {
	r := f.opts.Rules
	out := map[string]condition{}
	var termAll, termDown, busAll, busDown int
	var winDown []string
	var winSince time.Time
	for _, d := range devs {
		down := d.State == Down && now.Sub(d.Since) >= r.Grace
		switch d.Kind {
		case KindTerminal, KindBus:
			if d.Kind == KindTerminal {
				termAll++
			} else {
				busAll++
			}
			if !down {
				continue
			}
			if d.Kind == KindTerminal {
				termDown++
			} else {
				busDown++
			}
			winDown = append(winDown, d.ID)
			if winSince.IsZero() || d.Since.Before(winSince) {
				winSince = d.Since
			}
		case KindUplink:
			if down {
				out["network:"+d.ID] = condition{
					category: Network, level: LevelIII, device: d.ID, devices: []string{d.ID},
					cause: joinCause("platform unreachable", d.Reason), since: d.Since,
				}
			}
		default:
			if down {
				lv := r.systemLevel(now.Sub(d.Since))
				at := d.Since
				switch lv {
				case LevelII:
					at = d.Since.Add(r.SystemII)
				case LevelI:
					at = d.Since.Add(r.SystemI)
				}
				out["system:"+d.ID] = condition{
					category: System, level: lv, levelSince: at, device: d.ID, devices: []string{d.ID},
					cause: joinCause(d.Kind+" down", d.Reason), since: d.Since,
				}
			}
		}
	}
	if len(winDown) > 0 {
		lv := LevelII
		if (termAll > 0 && termDown == termAll) || (busAll > 0 && busDown == busAll) {
			lv = LevelI
		}
		sort.Strings(winDown)
		cause := fmt.Sprintf("%d of %d window terminals and %d of %d buses down", termDown, termAll, busDown, busAll)
		if lv == LevelI {
			cause = "no window can work: " + cause
		} else {
			cause = "some windows cannot work: " + cause
		}
		out["network:windows"] = condition{
			category: Network, level: lv, device: "windows", devices: winDown, cause: cause, since: winSince,
		}
	}
	return out
}

func joinCause(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + reason
}

// Observe compares what is down now with the open faults: it opens,
// escalates, de-escalates and clears faults. Call it on every health change
// and periodically (information-system faults escalate with time).
func (f *Faults) Observe(devs []Device) {
	now := f.opts.Now()
	known := make(map[string]State, len(devs))
	for _, d := range devs {
		known[d.ID] = d.State
	}
	conds := f.classify(devs, now)
	settled := now.Sub(f.started) >= f.opts.Rules.Grace

	f.mu.Lock()
	changed := false
	open := map[string]*Fault{}
	for _, ft := range f.faults {
		if ft.Ongoing() && ft.key != "" {
			open[ft.key] = ft
		}
	}
	// Clear what no longer holds. Right after a start, a fault restored
	// from the store waits until its devices have reported.
	for key, ft := range open {
		if _, still := conds[key]; still {
			continue
		}
		if !settled && !allReported(ft.Devices, known) {
			continue
		}
		ft.End, ft.key = now, ""
		f.emit(FaultCleared, ft)
		changed = true
	}
	keys := make([]string, 0, len(conds))
	for k := range conds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		c := conds[key]
		at := c.levelSince
		if at.IsZero() || at.After(now) {
			at = now
		}
		if ft, ok := open[key]; ok {
			if ft.Cause != c.cause || !slices.Equal(ft.Devices, c.devices) {
				ft.Cause, ft.Devices = c.cause, c.devices
				changed = true
			}
			if c.level != ft.Level {
				ft.Level, ft.LevelSince = c.level, at
				ft.Levels = append(ft.Levels, LevelStep{c.level, at})
				f.emit(FaultLevel, ft)
				changed = true
			}
			continue
		}
		ft := &Fault{
			ID: f.opts.GatewayID + ":F" + strconv.FormatUint(f.next, 10), Category: c.category, Level: c.level,
			LevelSince: at, Device: c.device, Devices: c.devices, Cause: c.cause, Start: c.since,
			Levels: []LevelStep{{c.level, at}}, key: key,
		}
		f.next++
		f.faults = append(f.faults, ft)
		f.emit(FaultOpened, ft)
		changed = true
	}
	f.trim()
	err := f.persistLocked(changed)
	f.mu.Unlock()
	f.deliver()
	_ = err // a failing store raises the journal's own alarm; the faults stay in memory
}

func allReported(ids []string, known map[string]State) bool {
	for _, id := range ids {
		if s, ok := known[id]; !ok || s == Unknown {
			return false
		}
	}
	return true
}

// Close records ops' resolution note on a fault that has cleared and removes
// it from the unresolved list. by names the request (for the record).
func (f *Faults) Close(id, note, by string) (Fault, error) {
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return Fault{}, errors.New("health: a resolution note is required")
	case utf8.RuneCountInString(note) > MaxNoteLen:
		return Fault{}, fmt.Errorf("health: the note is longer than %d characters", MaxNoteLen)
	}
	f.mu.Lock()
	idx := -1
	for i, ft := range f.faults {
		if ft.ID == id {
			idx = i
			break
		}
	}
	if idx < 0 {
		f.mu.Unlock()
		return Fault{}, fmt.Errorf("%w: %q", ErrUnknownFault, id)
	}
	ft := f.faults[idx]
	if ft.Ongoing() {
		f.mu.Unlock()
		return Fault{}, fmt.Errorf("%w: %s (%s)", ErrFaultOngoing, id, ft.Cause)
	}
	ft.Closed, ft.Note, ft.ClosedBy = f.opts.Now(), note, by
	f.faults = append(f.faults[:idx], f.faults[idx+1:]...)
	f.emit(FaultClosed, ft)
	err := f.persistLocked(true)
	out := ft.clone()
	f.mu.Unlock()
	f.deliver()
	if err != nil {
		return out, fmt.Errorf("health: fault closed but not stored: %w", err)
	}
	return out, nil
}

// List returns the unresolved faults (ongoing, or cleared and not yet
// closed), oldest first.
func (f *Faults) List() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, len(f.faults))
	for i, ft := range f.faults {
		out[i] = ft.clone()
	}
	return out
}

// Levels returns the most severe level of the ongoing faults of each
// category.
func (f *Faults) Levels() (network, system Level) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range f.faults {
		if !ft.Ongoing() {
			continue
		}
		switch ft.Category {
		case Network:
			if ft.Level.Worse(network) {
				network = ft.Level
			}
		case System:
			if ft.Level.Worse(system) {
				system = ft.Level
			}
		}
	}
	return network, system
}

// emit queues a change; deliver hands it out after the lock is released.
func (f *Faults) emit(typ string, ft *Fault) {
	f.queue = append(f.queue, FaultChange{Type: typ, Fault: ft.clone()})
}

func (f *Faults) deliver() {
	f.mu.Lock()
	if f.delivering {
		f.mu.Unlock()
		return
	}
	f.delivering = true
	for len(f.queue) > 0 {
		q := f.queue
		f.queue = nil
		f.mu.Unlock()
		for _, c := range q {
			if f.opts.OnChange != nil {
				f.opts.OnChange(c)
			}
		}
		f.mu.Lock()
	}
	f.delivering = false
	f.mu.Unlock()
}

// trim drops the oldest cleared faults beyond Keep.
func (f *Faults) trim() {
	cleared := 0
	for _, ft := range f.faults {
		if !ft.Ongoing() {
			cleared++
		}
	}
	if cleared <= f.opts.Keep {
		return
	}
	drop := cleared - f.opts.Keep
	kept := f.faults[:0]
	for _, ft := range f.faults {
		if drop > 0 && !ft.Ongoing() {
			drop--
			continue
		}
		kept = append(kept, ft)
	}
	f.faults = kept
}

func (f *Faults) persistLocked(changed bool) error {
	if !changed || f.opts.Store == nil {
		return nil
	}
	st := faultsState{Next: f.next, Faults: f.faults, Keys: make([]string, len(f.faults))}
	for i, ft := range f.faults {
		st.Keys[i] = ft.key
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return f.opts.Store.SetMeta(FaultsMetaKey, b)
}

// Rules returns the rules in force.
func (f *Faults) Rules() FaultRules { return f.opts.Rules }
