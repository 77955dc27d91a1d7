package power

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestPolicyProperties drives the policy with random inputs and checks
// what must hold whatever happens: alarms balance, a shutdown is final and
// comes last, low battery on battery always shuts down, time never runs
// back in the actions.
func TestPolicyProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		raised := 0
		var last time.Time
		shutdown := false
		steps := rapid.IntRange(1, 60).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			now = now.Add(time.Duration(rapid.IntRange(0, 90_000).Draw(t, "ms")) * time.Millisecond)
			var acts []Action
			lowOnBattery := false
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				s := Sample{At: now, OnBattery: rapid.Bool().Draw(t, "ob"), LowBattery: rapid.Bool().Draw(t, "lb")}
				if rapid.Bool().Draw(t, "rtKnown") {
					s.RuntimeKnown = true
					s.Runtime = time.Duration(rapid.IntRange(0, 300).Draw(t, "rt")) * time.Minute
				}
				lowOnBattery = s.OnBattery && s.LowBattery
				acts = p.UPS(s)
			case 1:
				acts = p.UPS(Sample{At: now, Stale: true})
			case 2:
				acts = p.Contact(now, Contact(rapid.IntRange(0, 1).Draw(t, "contact")), rapid.Bool().Draw(t, "active"))
			case 3:
				acts = p.Tick(now)
			}
			if shutdown && len(acts) > 0 {
				t.Fatalf("actions %v after the shutdown", acts)
			}
			for _, a := range acts {
				if a.At.Before(last) {
					t.Fatalf("action %s at %v before an earlier one at %v", a, a.At, last)
				}
				last = a.At
				switch {
				case a.Kind == RaiseAlarm && a.Alarm == AlarmOnBattery:
					raised++
				case a.Kind == ClearAlarm && a.Alarm == AlarmOnBattery:
					raised--
				case a.Kind == Shutdown:
					shutdown = true
				}
				if raised < 0 || raised > 1 {
					t.Fatalf("on-battery alarm raised %d times more than cleared", raised)
				}
			}
			if shutdown && len(acts) > 0 && acts[len(acts)-1].Kind != Shutdown {
				t.Fatalf("shutdown is not the last action: %v", acts)
			}
			if lowOnBattery && p.State() != ShuttingDown {
				t.Fatalf("low battery on battery left the policy %v", p.State())
			}
			if (p.State() == Normal) != (raised == 0) && !shutdown {
				t.Fatalf("state %v with the on-battery alarm raised %d", p.State(), raised)
			}
		}
	})
}
