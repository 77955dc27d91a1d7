package power

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// in is one input at t0 + at: a UPS sample, a contact change or a tick.
type in struct {
	at   time.Duration
	kind string // "ups", "stale", "contact", "tick"
	// ups
	ob, lb  bool
	runtime time.Duration // 0: unknown
	// contact
	contact Contact
	active  bool
	// expected actions, as Action.String
	want      []string
	wantState State
}

func ups(at time.Duration, ob, lb bool, rt time.Duration, st State, want ...string) in {
	return in{at: at, kind: "ups", ob: ob, lb: lb, runtime: rt, want: want, wantState: st}
}
func stale(at time.Duration, st State, want ...string) in {
	return in{at: at, kind: "stale", want: want, wantState: st}
}
func contact(at time.Duration, c Contact, active bool, st State, want ...string) in {
	return in{at: at, kind: "contact", contact: c, active: active, want: want, wantState: st}
}
func tick(at time.Duration, st State, want ...string) in {
	return in{at: at, kind: "tick", want: want, wantState: st}
}

var (
	onBatteryStart = []string{"raise-alarm on-battery", "show-notice on-battery"}
	shutdownSeq    = []string{"raise-alarm power-critical", "stop-tickets", "show-notice maintenance",
		"flush-journal", "kill-power", "shutdown"}
	resumeSeq = []string{"clear-alarm on-battery", "clear-notice", "resume"}
)

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

func TestPolicy(t *testing.T) {
	s := time.Second
	m := time.Minute
	tests := []struct {
		name   string
		inputs []in
	}{
		{"steady mains does nothing", []in{
			ups(0, false, false, 0, Normal), tick(s, Normal), ups(2*s, false, false, 2*time.Hour, Normal),
		}},
		{"mains fails: alarm and notice at once, on the first sample", []in{
			ups(0, false, false, 0, Normal),
			ups(s, true, false, 0, OnBattery, onBatteryStart...),
			ups(2*s, true, false, 0, OnBattery),
		}},
		{"contact edge raises the alarm before the next poll", []in{
			contact(100*time.Millisecond, ContactOnBattery, true, OnBattery, onBatteryStart...),
			ups(s, true, false, 0, OnBattery),
		}},
		{"mains returns: resume only after the hold", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			ups(m, false, false, 0, Restoring),
			tick(m+29*s, Restoring),
			tick(m+30*s, Normal, resumeSeq...),
			tick(m+31*s, Normal),
		}},
		{"flapping mains keeps one alarm and does not resume", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			ups(s, false, false, 0, Restoring),
			ups(2*s, true, false, 0, OnBattery),
			ups(3*s, false, false, 0, Restoring),
			ups(20*s, true, false, 0, OnBattery),
			ups(21*s, false, false, 0, Restoring),
			tick(50*s, Restoring),
			tick(51*s, Normal, resumeSeq...),
		}},
		{"low battery shuts down", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			ups(m, true, true, 0, ShuttingDown, shutdownSeq...),
		}},
		{"low battery on the first sample: alarm then shutdown", []in{
			ups(0, true, true, 0, ShuttingDown, cat(onBatteryStart, shutdownSeq)...),
		}},
		{"low battery contact shuts down", []in{
			contact(0, ContactOnBattery, true, OnBattery, onBatteryStart...),
			contact(time.Hour, ContactLowBattery, true, ShuttingDown, shutdownSeq...),
		}},
		{"low battery while on mains (recharging) is ignored", []in{
			ups(0, false, true, 0, Normal),
			contact(s, ContactLowBattery, true, Normal),
		}},
		{"shutting down is final", []in{
			ups(0, true, true, 0, ShuttingDown, cat(onBatteryStart, shutdownSeq)...),
			ups(s, false, false, 0, ShuttingDown),
			tick(time.Hour, ShuttingDown),
			contact(time.Hour, ContactOnBattery, false, ShuttingDown),
		}},
		{"runtime updates when it moves a minute", []in{
			ups(0, true, false, 60*m, OnBattery, cat(onBatteryStart, []string{"runtime 1h0m0s"})...),
			ups(s, true, false, 59*m+30*s, OnBattery),
			ups(2*s, true, false, 59*m, OnBattery, "runtime 59m0s"),
			ups(3*s, true, false, 61*m, OnBattery, "runtime 1h1m0s"),
		}},
		{"runtime below the minimum must be confirmed", []in{
			ups(0, true, false, 20*m, OnBattery, cat(onBatteryStart, []string{"runtime 20m0s"})...),
			ups(s, true, false, 4*m, OnBattery, "runtime 4m0s"),
			ups(5*s, true, false, 6*m, OnBattery, "runtime 6m0s"),
			ups(6*s, true, false, 4*m, OnBattery, "runtime 4m0s"),
			tick(15*s, OnBattery),
			tick(16*s, ShuttingDown, shutdownSeq...),
		}},
		{"runtime unknown never triggers", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			tick(time.Hour, OnBattery),
		}},
		{"UPS lost: alarm once, state kept, cleared on a good sample", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			stale(s, OnBattery, "raise-alarm ups-comm-lost"),
			stale(2*s, OnBattery),
			tick(time.Minute, OnBattery),
			ups(2*m, true, false, 0, OnBattery, "clear-alarm ups-comm-lost"),
		}},
		{"UPS lost on mains: contacts still count", []in{
			stale(0, Normal, "raise-alarm ups-comm-lost"),
			contact(s, ContactOnBattery, true, OnBattery, onBatteryStart...),
			contact(m, ContactLowBattery, true, ShuttingDown, shutdownSeq...),
		}},
		{"mains back needs every source", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			contact(0, ContactOnBattery, true, OnBattery),
			ups(m, false, false, 0, OnBattery),
			tick(2*m, OnBattery),
			contact(2*m, ContactOnBattery, false, Restoring),
			tick(2*m+30*s, Normal, resumeSeq...),
		}},
		{"late input does not move time back", []in{
			ups(m, true, false, 0, OnBattery, onBatteryStart...),
			ups(m+s, false, false, 0, Restoring),
			contact(0, ContactOnBattery, false, Restoring),
			tick(m+31*s, Normal, resumeSeq...),
		}},
		{"second outage after a resume raises again", []in{
			ups(0, true, false, 0, OnBattery, onBatteryStart...),
			ups(s, false, false, 0, Restoring),
			tick(31*s, Normal, resumeSeq...),
			ups(time.Hour, true, false, 0, OnBattery, onBatteryStart...),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range tt.inputs {
				at := t0.Add(x.at)
				var acts []Action
				switch x.kind {
				case "ups":
					acts = p.UPS(Sample{At: at, OnBattery: x.ob, LowBattery: x.lb, Runtime: x.runtime, RuntimeKnown: x.runtime > 0})
				case "stale":
					acts = p.UPS(Sample{At: at, Stale: true})
				case "contact":
					acts = p.Contact(at, x.contact, x.active)
				case "tick":
					acts = p.Tick(at)
				}
				got := make([]string, len(acts))
				for j, a := range acts {
					got[j] = a.String()
					if a.At.Before(at) && x.at > 0 {
						t.Errorf("input %d: action %s stamped %v, before the input at %v", i, a, a.At, at)
					}
				}
				if !slices.Equal(got, x.want) {
					t.Errorf("input %d (%s at %v): actions [%s], want [%s]", i, x.kind, x.at, strings.Join(got, ", "), strings.Join(x.want, ", "))
				}
				if p.State() != x.wantState {
					t.Errorf("input %d (%s at %v): state %v, want %v", i, x.kind, x.at, p.State(), x.wantState)
				}
			}
		})
	}
}

func TestActionDetails(t *testing.T) {
	p, _ := New(Config{MinRuntime: 10 * time.Minute, RuntimeConfirm: time.Second})
	p.UPS(Sample{At: t0, OnBattery: true, Runtime: 9 * time.Minute, RuntimeKnown: true})
	acts := p.Tick(t0.Add(time.Second))
	if len(acts) == 0 || acts[0].Kind != RaiseAlarm || acts[0].Alarm != AlarmCritical {
		t.Fatalf("Tick = %v, want the shutdown sequence", acts)
	}
	if want := "runtime 9m0s below the minimum 10m0s"; acts[0].Reason != want {
		t.Errorf("critical reason = %q, want %q", acts[0].Reason, want)
	}
	for _, a := range acts {
		if !a.At.Equal(t0.Add(time.Second)) {
			t.Errorf("%s stamped %v, want %v", a, a.At, t0.Add(time.Second))
		}
	}
}

func TestNewRejectsNegative(t *testing.T) {
	for _, c := range []Config{{MinRuntime: -1}, {RuntimeConfirm: -1}, {RestoreHold: -1}, {RuntimeStep: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{Normal.String(), "normal"}, {OnBattery.String(), "on-battery"}, {Restoring.String(), "restoring"},
		{ShuttingDown.String(), "shutting-down"}, {State(9).String(), "state(9)"},
		{KillPower.String(), "kill-power"}, {Kind(99).String(), "kind(99)"},
		{Action{Kind: ShowNotice, Notice: NoticeMaintenance}.String(), "show-notice maintenance"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}
