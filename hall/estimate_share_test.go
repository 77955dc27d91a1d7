package hall

import (
	"testing"
	"time"
)

// A window shared between services counts, for each, the share of the work
// waiting for it that is that service's (docs: estimate.go servers).
func TestEstimateSharedWindows(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	cfg := Config{
		Services: []ServiceConfig{
			{ID: "a", Name: "综合", Prefix: "A", ServiceTime: 5 * time.Minute},
			{ID: "b", Name: "社保", Prefix: "B", ServiceTime: 10 * time.Minute},
		},
		Windows: []WindowConfig{
			{ID: "1", Number: 1, Name: "一", Kind: KindIntake, Services: []string{"a", "b"}},
			{ID: "2", Number: 2, Name: "二", Kind: KindDomain, Services: []string{"a"}},
		},
		Rules: DefaultRules(),
	}
	tests := []struct {
		name     string
		open     []string // windows open
		waitingB int      // tickets waiting in b before the a ticket
		want     time.Duration
	}{
		// One window, nothing else waiting: the whole window.
		{"shared window, other queue empty", []string{"1"}, 0, 5 * time.Minute},
		// b has 1 ticket × 10 min against a's 5 min: a gets 1/3 of it.
		{"shared window, other queue busy", []string{"1"}, 1, 15 * time.Minute},
		// A window of its own plus a third of the shared one: 4/3 windows.
		{"own window plus a share", []string{"1", "2"}, 1, 3*time.Minute + 45*time.Second},
		{"own window, shared one closed", []string{"2"}, 1, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			do := func(c Command) []Event {
				now = now.Add(time.Second)
				evs, err := h.Do(c, now)
				if err != nil {
					t.Fatalf("%v: %v", c.Op, err)
				}
				return evs
			}
			for _, w := range tt.open {
				do(Command{Op: OpOpenWindow, Window: w, Staff: "S" + w})
			}
			for i := 0; i < tt.waitingB; i++ {
				do(Command{Op: OpIssue, Service: "b"})
			}
			evs := do(Command{Op: OpIssue, Service: "a"})
			// Shares are kept in thousandths of a window: within a second.
			if got := evs[0].Estimate.Point; absDur(got-tt.want) >= time.Second {
				t.Errorf("estimate = %v, want %v", got, tt.want)
			}
		})
	}
}
