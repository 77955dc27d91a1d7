package health

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// State is a device's overall condition.
type State string

// Device states.
const (
	Unknown  State = "unknown"
	Up       State = "up"
	Degraded State = "degraded" // working, but needs attention (paper near end, on battery)
	Down     State = "down"
)

// Device is the health of one device.
type Device struct {
	ID       string    `json:"id"`   // e.g. "kiosk-1/printer", "bus-1/t05"
	Kind     string    `json:"kind"` // printer, terminal, display, ups, idcard, barcode, voice, pad, scanner
	Port     string    `json:"port,omitempty"`
	State    State     `json:"state"`
	Reason   string    `json:"reason,omitempty"` // why it is not up, in plain words
	Since    time.Time `json:"since"`            // when State last changed
	LastSeen time.Time `json:"last_seen,omitempty"`
	// Errors counts problems by kind: timeout, garbled, crc, disconnect …
	Errors map[string]uint64 `json:"errors,omitempty"`
	// Detail holds device-specific state (paper_near_end, on_battery, …).
	Detail map[string]any `json:"detail,omitempty"`
}

func (d Device) clone() Device {
	d.Errors = maps.Clone(d.Errors)
	d.Detail = maps.Clone(d.Detail)
	return d
}

// Change is a device's health before and after an update that changed its
// state, reason or detail.
type Change struct {
	Old, New Device
	// Added is true for the first report of a device.
	Added bool
}

// Registry holds the health of all devices.
type Registry struct {
	now func() time.Time

	mu   sync.Mutex
	devs map[string]*Device
	subs map[int]func(Change)
	next int
}

// NewRegistry returns an empty registry on the given clock.
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, devs: map[string]*Device{}, subs: map[int]func(Change){}}
}

// Update changes a device's health with fn (creating it, Unknown, if new).
// Subscribers are told when the state, reason or detail changed; error
// counters and last-seen alone are not changes (they are telemetry).
func (r *Registry) Update(id, kind string, fn func(d *Device)) {
	r.mu.Lock()
	d, ok := r.devs[id]
	added := !ok
	if !ok {
		d = &Device{ID: id, Kind: kind, State: Unknown, Since: r.now()}
		r.devs[id] = d
	}
	old := d.clone()
	fn(d)
	d.ID = id
	if d.Kind == "" {
		d.Kind = kind
	}
	if d.State != old.State {
		d.Since = r.now()
	}
	changed := added || d.State != old.State || d.Reason != old.Reason || !maps.EqualFunc(d.Detail, old.Detail, func(a, b any) bool { return a == b })
	var subs []func(Change)
	if changed {
		for _, k := range sortedKeys(r.subs) {
			subs = append(subs, r.subs[k])
		}
	}
	ch := Change{Old: old, New: d.clone(), Added: added}
	r.mu.Unlock()
	for _, s := range subs {
		s(ch)
	}
}

// Seen marks a device as having answered now.
func (r *Registry) Seen(id, kind string) {
	r.Update(id, kind, func(d *Device) {
		d.LastSeen = r.now()
		if d.State == Unknown || d.State == Down {
			d.State, d.Reason = Up, ""
		}
	})
}

// Count adds one to a device's error counter of the given kind.
func (r *Registry) Count(id, kind, what string) {
	r.Update(id, kind, func(d *Device) {
		if d.Errors == nil {
			d.Errors = map[string]uint64{}
		}
		d.Errors[what]++
	})
}

// Get returns one device's health.
func (r *Registry) Get(id string) (Device, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.devs[id]
	if !ok {
		return Device{}, false
	}
	return d.clone(), true
}

// All returns every device, sorted by id.
func (r *Registry) All() []Device {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Device, 0, len(r.devs))
	for _, d := range r.devs {
		out = append(out, d.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subscribe calls fn on every change, synchronously from Update: fn must
// not block and must not call back into the registry.
func (r *Registry) Subscribe(fn func(Change)) (cancel func()) {
	r.mu.Lock()
	id := r.next
	r.next++
	r.subs[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

func sortedKeys(m map[int]func(Change)) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
