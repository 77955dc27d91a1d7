package hall_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hallgw/hall"
)

var (
	issued   = hall.EvTicketIssued
	called   = hall.EvTicketCalled
	expired  = hall.EvTicketExpired
	dayReset = hall.EvDayReset
	nextDay  = 24 * time.Hour // 09:00 the next morning, after the 04:00 reset
)

func issueA() hall.Command { return hall.Command{Op: hall.OpIssue, Service: "a", Source: "kiosk"} }

func wantNumber(n string) func(t *testing.T, f *fixture, evs []hall.Event) {
	return func(t *testing.T, f *fixture, evs []hall.Event) {
		t.Helper()
		for _, e := range evs {
			if e.Type == issued || e.Type == called {
				if e.Number != n {
					t.Errorf("%v number = %s, want %s", e.Type, e.Number, n)
				}
				return
			}
		}
		t.Errorf("no issued or called event in %v", types(evs))
	}
}

func TestNumbering(t *testing.T) {
	runCases(t, []tcase{
		{name: "first ticket", cmd: issueA(), types: []hall.EventType{issued}, check: wantNumber("A001")},
		{name: "sequence per service", setup: func(f *fixture) { f.issue("a"); f.issue("a"); f.issue("b") },
			cmd: issueA(), check: wantNumber("A003")},
		{name: "other service starts at 1", setup: func(f *fixture) { f.issue("a"); f.issue("a") },
			cmd: hall.Command{Op: hall.OpIssue, Service: "b"}, check: wantNumber("B001")},
		{name: "width 4", mod: func(c *hall.Config) { c.Rules.NumberWidth = 4 }, cmd: issueA(), check: wantNumber("A0001")},
		{name: "numbers grow past the width", mod: func(c *hall.Config) { c.Rules.NumberWidth = 1 },
			setup: func(f *fixture) {
				for i := 0; i < 9; i++ {
					f.issue("a")
				}
			}, cmd: issueA(), check: wantNumber("A10")},
		{name: "restart after the reset, IDs go on", setup: func(f *fixture) { f.issue("a"); f.issue("a") },
			at: nextDay, cmd: issueA(), types: []hall.EventType{expired, expired, dayReset, issued},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				wantNumber("A001")(t, f, evs)
				if id := evs[3].Ticket; id != 3 {
					t.Errorf("ticket ID after reset = %d, want 3", id)
				}
			}},
		{name: "unknown service", cmd: hall.Command{Op: hall.OpIssue, Service: "zz"}, err: hall.ErrUnknownService},
		{name: "daily cap", mod: func(c *hall.Config) { c.Services[0].DailyCap = 2 },
			setup: func(f *fixture) { f.issue("a"); f.issue("a") }, cmd: issueA(), err: hall.ErrDailyCap,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				_, err := f.h.Decide(issueA(), f.now)
				if msg := err.Error(); !strings.Contains(msg, "service a (社保)") || !strings.Contains(msg, "cap of 2") {
					t.Errorf("cap error = %q, want it to name the service and the cap", msg)
				}
			}},
		{name: "daily cap counts per service", mod: func(c *hall.Config) { c.Services[0].DailyCap = 1 },
			setup: func(f *fixture) { f.issue("a") }, cmd: hall.Command{Op: hall.OpIssue, Service: "b"}, check: wantNumber("B001")},
		{name: "daily cap resets with the day", mod: func(c *hall.Config) { c.Services[0].DailyCap = 1 },
			setup: func(f *fixture) { f.issue("a") }, at: nextDay, cmd: issueA(), check: wantNumber("A001")},
		{name: "appointments do not count against the cap", mod: func(c *hall.Config) { c.Services[0].DailyCap = 1 },
			setup: func(f *fixture) {
				loadAppointments(f)
				f.at(10 * time.Minute).do(hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"})
			}, cmd: issueA(), check: wantNumber("A002")},
		{name: "a late check-in counts against the cap", mod: func(c *hall.Config) { c.Services[0].DailyCap = 1 },
			setup: func(f *fixture) { loadAppointments(f); f.issue("a") },
			at:    80 * time.Minute, cmd: hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"}, err: hall.ErrDailyCap},
	})
}

func TestDayReset(t *testing.T) {
	// mixed leaves one ticket in each state: A001 held, A002 no-show, A003
	// finished, A004 serving at w1, A005 called at w2, A006 waiting.
	mixed := func(f *fixture) {
		f.open("w1", "w2")
		for i := 0; i < 6; i++ {
			f.issue("a")
		}
		f.callNext("w1")
		f.op(hall.OpHold, "w1")
		f.callNext("w1")
		f.op(hall.OpSkip, "w1")
		f.callNext("w2")
		f.op(hall.OpFinish, "w2")
		f.do(hall.Command{Op: hall.OpCall, Window: "w1", Ticket: 4})
		f.op(hall.OpStart, "w1")
		f.do(hall.Command{Op: hall.OpCall, Window: "w2", Ticket: 5})
	}
	states := func(want map[string]hall.TicketState) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			got := map[string]hall.TicketState{}
			for _, v := range f.h.Tickets() {
				got[v.Number] = v.State
			}
			for n, s := range want {
				if got[n] != s {
					t.Errorf("ticket %s state = %v, want %v", n, got[n], s)
				}
			}
			if len(got) != len(want) {
				t.Errorf("tickets = %v, want %v", got, want)
			}
		}
	}
	runCases(t, []tcase{
		{name: "tick before the boundary does nothing", at: 18*time.Hour + 59*time.Minute,
			cmd: hall.Command{Op: hall.OpTick}, types: []hall.EventType{}},
		{name: "tick at the boundary resets", at: 19 * time.Hour, cmd: hall.Command{Op: hall.OpTick},
			types: []hall.EventType{dayReset}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				day, started := f.h.Day()
				if day != 2 || !started.Equal(base.Add(19*time.Hour)) {
					t.Errorf("Day() = %d, %v, want 2, %v", day, started, base.Add(19*time.Hour))
				}
				if evs[0].Count != 2 {
					t.Errorf("day reset count = %d, want 2", evs[0].Count)
				}
			}},
		{name: "open tickets expire, serving and finished stay then go", setup: mixed, at: nextDay,
			cmd:   hall.Command{Op: hall.OpTick},
			types: []hall.EventType{expired, expired, expired, expired, dayReset},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				states(map[string]hall.TicketState{"A004": hall.Serving})(t, f, evs)
				for i, n := range []string{"A001", "A002", "A005", "A006"} {
					if evs[i].Number != n || evs[i].Reason != "day_reset" {
						t.Errorf("event %d = %s %s, want %s day_reset", i, evs[i].Number, evs[i].Reason, n)
					}
				}
				if w := f.window("w1"); w.State != hall.Open || w.CurrentNumber != "A004" || len(w.Held) != 0 {
					t.Errorf("w1 = %v current %s held %v, want open with A004 and nothing held", w.State, w.CurrentNumber, w.Held)
				}
				if w := f.window("w2"); w.State != hall.Open || w.Current != 0 {
					t.Errorf("w2 = %v current %d, want open and idle", w.State, w.Current)
				}
				if s := f.h.Stats(); s.Services["a"].Issued != 0 || s.Windows["w1"].Called != 0 || len(s.Staff) != 0 {
					t.Errorf("stats after reset = %+v / %+v / %v, want zero", *s.Services["a"], *s.Windows["w1"], s.Staff)
				}
			}},
		{name: "carry over keeps open tickets but not no-shows", mod: func(c *hall.Config) { c.Rules.CarryOver = true },
			setup: mixed, at: nextDay, cmd: issueA(), types: []hall.EventType{expired, dayReset, issued},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Number != "A002" {
					t.Errorf("expired %s, want the no-show A002", evs[0].Number)
				}
				// A001 is still held: numbering skips it; A002 expired and is free.
				wantNumber("A002")(t, f, evs)
				states(map[string]hall.TicketState{"A001": hall.Held, "A004": hall.Serving, "A005": hall.Called,
					"A006": hall.Waiting, "A002": hall.Waiting})(t, f, evs)
				if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A006", "A002"}) {
					t.Errorf("Queue(a) = %v, want the carried ticket first", q)
				}
			}},
		{name: "numbering skips carried numbers", mod: func(c *hall.Config) { c.Rules.CarryOver = true },
			setup: func(f *fixture) { f.issue("a"); f.issue("a"); f.at(nextDay); f.issue("a") },
			cmd:   issueA(), check: wantNumber("A004")},
		{name: "the command after the reset sees the new day", mod: func(c *hall.Config) { c.Services[0].DailyCap = 1 },
			setup: func(f *fixture) { f.issue("a") }, at: nextDay, cmd: issueA(),
			types: []hall.EventType{expired, dayReset, issued}},
		{name: "reset at a configured hour", mod: func(c *hall.Config) { c.Rules.ResetAt = 13 * time.Hour },
			setup: func(f *fixture) { f.issue("a") }, at: 4 * time.Hour, cmd: hall.Command{Op: hall.OpTick},
			types: []hall.EventType{expired, dayReset}},
		{name: "a late clock passes several days at once", at: 3 * nextDay, cmd: hall.Command{Op: hall.OpTick},
			types: []hall.EventType{dayReset}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				f.at(3*nextDay + time.Hour)
				if evs := f.do(hall.Command{Op: hall.OpTick}); len(evs) != 0 {
					t.Errorf("second tick the same day = %v, want nothing", types(evs))
				}
			}},
	})
}

func TestWindows(t *testing.T) {
	callW1 := hall.Command{Op: hall.OpCallNext, Window: "w1"}
	waitingA := func(f *fixture) { f.issue("a") }
	runCases(t, []tcase{
		{name: "unknown window", cmd: hall.Command{Op: hall.OpCallNext, Window: "w9"}, err: hall.ErrUnknownWindow},
		{name: "closed window cannot call", setup: waitingA, cmd: callW1, err: hall.ErrWindowClosed},
		{name: "paused window cannot call", setup: func(f *fixture) {
			waitingA(f)
			f.open("w1")
			f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "午休"})
		}, cmd: callW1, err: hall.ErrWindowPaused},
		{name: "open needs a staff ID", cmd: hall.Command{Op: hall.OpOpenWindow, Window: "w1"}, err: hall.ErrInvalid},
		{name: "open twice", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "x"}, err: hall.ErrBadState},
		{name: "open", cmd: hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s9"},
			types: []hall.EventType{hall.EvWindowOpened}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w1"); w.State != hall.Open || w.Staff != "s9" {
					t.Errorf("w1 = %v staff %q, want open by s9", w.State, w.Staff)
				}
			}},
		{name: "pause needs a reason", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpPause, Window: "w1"}, err: hall.ErrInvalid},
		{name: "pause while busy", setup: func(f *fixture) { waitingA(f); f.open("w1"); f.callNext("w1") },
			cmd: hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"}, err: hall.ErrWindowBusy},
		{name: "pause a closed window", cmd: hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"}, err: hall.ErrWindowClosed},
		{name: "pause twice", setup: func(f *fixture) {
			f.open("w1")
			f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"})
		}, cmd: hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"}, err: hall.ErrWindowPaused},
		{name: "pause", setup: func(f *fixture) { f.open("w1") }, cmd: hall.Command{Op: hall.OpPause, Window: "w1", Reason: "午休"},
			types: []hall.EventType{hall.EvWindowPaused}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w1"); w.State != hall.Paused || w.PauseReason != "午休" {
					t.Errorf("w1 = %v %q, want paused 午休", w.State, w.PauseReason)
				}
			}},
		{name: "unpause a window that is not paused", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpUnpause, Window: "w1"}, err: hall.ErrBadState},
		{name: "unpause then call", setup: func(f *fixture) {
			waitingA(f)
			f.open("w1")
			f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"})
			f.op(hall.OpUnpause, "w1")
		}, cmd: callW1, types: []hall.EventType{called}},
		{name: "close while busy", setup: func(f *fixture) { waitingA(f); f.open("w1"); f.callNext("w1") },
			cmd: hall.Command{Op: hall.OpCloseWindow, Window: "w1"}, err: hall.ErrWindowBusy},
		{name: "close a closed window", cmd: hall.Command{Op: hall.OpCloseWindow, Window: "w1"}, err: hall.ErrWindowClosed},
		{name: "close a paused window", setup: func(f *fixture) {
			f.open("w1")
			f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"})
		}, cmd: hall.Command{Op: hall.OpCloseWindow, Window: "w1"}, types: []hall.EventType{hall.EvWindowClosed},
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w1"); w.State != hall.Closed || w.Staff != "" || w.PauseReason != "" {
					t.Errorf("w1 = %+v, want closed without staff or reason", w)
				}
			}},
		{name: "a window never has two current tickets", setup: func(f *fixture) {
			waitingA(f)
			waitingA(f)
			f.open("w1")
			f.callNext("w1")
		}, cmd: callW1, err: hall.ErrWindowBusy},
		{name: "unknown op", cmd: hall.Command{Op: 99}, err: hall.ErrInvalid},
		{name: "time out of range", at: -200 * 365 * 24 * time.Hour, cmd: hall.Command{Op: hall.OpTick}, err: hall.ErrInvalid},
	})
}

func TestPriority(t *testing.T) {
	born := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	prio := func(p hall.Priority, reason string) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			e := evs[len(evs)-1]
			if e.Priority != p || e.Reason != reason {
				t.Errorf("%v priority = %v %q, want %v %q", e.Type, e.Priority, e.Reason, p, reason)
			}
			if v := f.ticket(e.Ticket); v.Priority != p || (p == hall.Green && v.GreenReason != reason) {
				t.Errorf("ticket priority = %v %q, want %v %q", v.Priority, v.GreenReason, p, reason)
			}
		}
	}
	runCases(t, []tcase{
		{name: "elderly on the 60th birthday", cmd: hall.Command{Op: hall.OpIssue, Service: "a", BirthDate: born(1966, 3, 2)},
			check: prio(hall.Green, "elderly")},
		{name: "a day short of 60", cmd: hall.Command{Op: hall.OpIssue, Service: "a", BirthDate: born(1966, 3, 3)},
			check: prio(hall.Normal, "")},
		{name: "age uses the hall's local date", at: 15*time.Hour + 30*time.Minute, // 00:30 on 3 March, still 2 March in UTC
			cmd: hall.Command{Op: hall.OpIssue, Service: "a", BirthDate: born(1966, 3, 3)}, check: prio(hall.Green, "elderly")},
		{name: "elderly rule off", mod: func(c *hall.Config) { c.Rules.ElderlyAge = 0 },
			cmd: hall.Command{Op: hall.OpIssue, Service: "a", BirthDate: born(1930, 1, 1)}, check: prio(hall.Normal, "")},
		{name: "disabled", cmd: hall.Command{Op: hall.OpIssue, Service: "a", Priority: hall.Green, GreenReason: "disabled"},
			check: prio(hall.Green, "disabled")},
		{name: "green without a reason", cmd: hall.Command{Op: hall.OpIssue, Service: "a", Priority: hall.Green},
			check: prio(hall.Green, "other")},
		{name: "a stated reason beats the age", cmd: hall.Command{Op: hall.OpIssue, Service: "a", Priority: hall.Green,
			GreenReason: "disabled", BirthDate: born(1940, 1, 1)}, check: prio(hall.Green, "disabled")},
		{name: "reason on a normal ticket", cmd: hall.Command{Op: hall.OpIssue, Service: "a", GreenReason: "x"}, err: hall.ErrInvalid},
		{name: "appointment priority is not issued", cmd: hall.Command{Op: hall.OpIssue, Service: "a", Priority: hall.PriorityAppointment},
			err: hall.ErrInvalid},
		{name: "staff marks a ticket green", setup: func(f *fixture) { f.issue("a"); f.issue("a"); f.issue("a") },
			cmd:   hall.Command{Op: hall.OpSetPriority, Ticket: 3, Priority: hall.Green, Window: "w1"},
			types: []hall.EventType{hall.EvPriorityChanged}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				prio(hall.Green, "staff")(t, f, evs)
				if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A003", "A001", "A002"}) {
					t.Errorf("Queue(a) = %v, want A003 first", q)
				}
			}},
		{name: "back to normal", setup: func(f *fixture) { f.issue("a"); f.green("a") },
			cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 2, Priority: hall.Normal}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				prio(hall.Normal, "")(t, f, evs)
				if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A001", "A002"}) {
					t.Errorf("Queue(a) = %v, want issue order", q)
				}
			}},
		{name: "set priority of a called ticket", setup: func(f *fixture) { f.issue("a"); f.open("w1"); f.callNext("w1") },
			cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 1, Priority: hall.Green}, err: hall.ErrBadState},
		{name: "set the same priority", setup: func(f *fixture) { f.green("a") },
			cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 1, Priority: hall.Green}, err: hall.ErrBadState},
		{name: "set appointment priority", setup: func(f *fixture) { f.issue("a") },
			cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 1, Priority: hall.PriorityAppointment}, err: hall.ErrInvalid},
		{name: "set priority of an unknown ticket", cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 7, Priority: hall.Green},
			err: hall.ErrUnknownTicket},
		{name: "set priority from an unknown window", setup: func(f *fixture) { f.issue("a") },
			cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 1, Priority: hall.Green, Window: "w9"}, err: hall.ErrUnknownWindow},
		{name: "set priority without a ticket", cmd: hall.Command{Op: hall.OpSetPriority, Priority: hall.Green}, err: hall.ErrInvalid},
		{name: "an appointment keeps its priority", setup: func(f *fixture) {
			loadAppointments(f)
			f.at(10 * time.Minute).do(hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"})
		}, cmd: hall.Command{Op: hall.OpSetPriority, Ticket: 1, Priority: hall.Green}, err: hall.ErrBadState},
	})
}

// loadAppointments loads: ap1 (a, 09:30–10:00, holder h1), ap2 (b,
// 11:00–11:30, h2), ap3 (a, 14:00–14:30, h1), ap0 (a, yesterday, h0).
func loadAppointments(f *fixture) {
	f.t.Helper()
	slot := func(id, svc string, start time.Duration, holder string) hall.Appointment {
		return hall.Appointment{ID: id, Service: svc, Start: base.Add(start), End: base.Add(start + 30*time.Minute), HolderHash: holder}
	}
	f.do(hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
		slot("ap1", "a", 30*time.Minute, "h1"), slot("ap2", "b", 2*time.Hour, "h2"),
		slot("ap3", "a", 5*time.Hour, "h1"), slot("ap0", "a", -20*time.Hour, "h0"),
	}})
}

func TestAppointments(t *testing.T) {
	checkIn := func(id string) hall.Command {
		return hall.Command{Op: hall.OpCheckIn, Appointment: id, Source: "kiosk"}
	}
	byCard := func(h string) hall.Command { return hall.Command{Op: hall.OpCheckIn, HolderHash: h} }
	appt := func(id string, p hall.Priority, reason string) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			e := evs[0]
			if e.Appointment != id || e.Priority != p || e.Reason != reason {
				t.Errorf("issued for %q %v %q, want %q %v %q", e.Appointment, e.Priority, e.Reason, id, p, reason)
			}
		}
	}
	runCases(t, []tcase{
		{name: "check in 20 minutes early", setup: loadAppointments, at: 10 * time.Minute, cmd: checkIn("ap1"),
			types: []hall.EventType{issued}, check: appt("ap1", hall.PriorityAppointment, "")},
		{name: "check in at the end of the grace time", setup: loadAppointments, at: 75 * time.Minute, cmd: checkIn("ap1"),
			check: appt("ap1", hall.PriorityAppointment, "")},
		{name: "too early", setup: loadAppointments, at: 10 * time.Minute, cmd: checkIn("ap2"), err: hall.ErrAppointmentEarly,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if _, err := f.h.Decide(checkIn("ap2"), f.now); !strings.Contains(err.Error(), "10:30") {
					t.Errorf("early error = %q, want the local opening time 10:30", err)
				}
			}},
		{name: "late becomes a normal ticket", setup: loadAppointments, at: 76 * time.Minute, cmd: checkIn("ap1"),
			check: appt("ap1", hall.Normal, "late")},
		{name: "yesterday's appointment", setup: loadAppointments, cmd: checkIn("ap0"), err: hall.ErrAppointmentLate},
		{name: "a missed slot of today after a late reset is late, not stale", setup: func(f *fixture) {
			// The day starts with the first command at 09:00 (the hall was
			// off at 04:00); a 06:00 slot belongs to today.
			f.at(nextDay)
			f.do(hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{{ID: "early", Service: "a",
				Start: base.Add(nextDay - 3*time.Hour), End: base.Add(nextDay - 150*time.Minute)}}})
		}, cmd: checkIn("early"), check: appt("early", hall.Normal, "late")},
		{name: "each appointment checks in once", setup: func(f *fixture) { loadAppointments(f); f.do(checkIn("ap1")) },
			cmd: checkIn("ap1"), err: hall.ErrBadState},
		{name: "a reload keeps the check-ins", setup: func(f *fixture) { loadAppointments(f); f.do(checkIn("ap1")); loadAppointments(f) },
			cmd: checkIn("ap1"), err: hall.ErrBadState},
		{name: "unknown appointment", setup: loadAppointments, cmd: checkIn("nope"), err: hall.ErrUnknownAppointment},
		{name: "neither ID nor card", cmd: hall.Command{Op: hall.OpCheckIn}, err: hall.ErrInvalid},
		{name: "card picks the slot that is open", setup: loadAppointments, at: 4*time.Hour + 45*time.Minute, cmd: byCard("h1"),
			check: appt("ap3", hall.PriorityAppointment, "")},
		{name: "card picks the open slot over a missed one", setup: loadAppointments, at: 10 * time.Minute, cmd: byCard("h1"),
			check: appt("ap1", hall.PriorityAppointment, "")},
		{name: "card before any slot opens", setup: loadAppointments, cmd: byCard("h2"), err: hall.ErrAppointmentEarly},
		{name: "card after the first was used", setup: func(f *fixture) { loadAppointments(f); f.do(checkIn("ap1")) },
			at: 4*time.Hour + 45*time.Minute, cmd: byCard("h1"), check: appt("ap3", hall.PriorityAppointment, "")},
		{name: "card with every appointment used", setup: func(f *fixture) {
			loadAppointments(f)
			f.do(checkIn("ap1"))
			f.at(4*time.Hour + 45*time.Minute).do(checkIn("ap3"))
		}, cmd: byCard("h1"), err: hall.ErrBadState},
		{name: "unknown card", setup: loadAppointments, cmd: byCard("h9"), err: hall.ErrUnknownAppointment},
		{name: "appointments first, by slot", setup: func(f *fixture) {
			loadAppointments(f)
			f.issue("a")
			f.green("a")
			f.at(10 * time.Minute).do(checkIn("ap1"))
		}, at: 4*time.Hour + 45*time.Minute, cmd: checkIn("ap3"), check: func(t *testing.T, f *fixture, evs []hall.Event) {
			if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A003", "A004", "A002", "A001"}) {
				t.Errorf("Queue(a) = %v, want ap1 (A003), ap3 (A004), green A002, A001", q)
			}
			if evs[0].Ahead != 1 {
				t.Errorf("ahead of ap3 = %d, want 1", evs[0].Ahead)
			}
		}},
		{name: "load rejects an unknown service", cmd: hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
			{ID: "x", Service: "zz", Start: base, End: base.Add(time.Hour)}}}, err: hall.ErrUnknownService},
		{name: "load rejects a duplicate ID", cmd: hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
			{ID: "x", Service: "a", Start: base, End: base}, {ID: "x", Service: "a", Start: base, End: base}}}, err: hall.ErrInvalid},
		{name: "load rejects a slot ending before it starts", cmd: hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
			{ID: "x", Service: "a", Start: base, End: base.Add(-time.Minute)}}}, err: hall.ErrInvalid},
		{name: "load rejects an empty ID", cmd: hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
			{Service: "a", Start: base, End: base}}}, err: hall.ErrInvalid},
		{name: "load", cmd: hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
			{ID: "x", Service: "a", Start: base, End: base.Add(time.Hour), HolderHash: "h"}}},
			types: []hall.EventType{hall.EvAppointmentsLoaded}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				list, tickets := f.h.Appointments()
				if len(list) != 1 || list[0].ID != "x" || tickets[0] != 0 || !list[0].Start.Equal(base) {
					t.Errorf("Appointments() = %+v %v, want x not checked in", list, tickets)
				}
			}},
	})
}

// calls runs call next (and finish) at window w n times and returns the
// numbers called.
func calls(f *fixture, w string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, f.callNext(w))
		f.op(hall.OpFinish, w)
	}
	return out
}

func TestCallOrder(t *testing.T) {
	order := func(w string, want ...string) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			got := []string{evs[0].Number}
			f.op(hall.OpFinish, w)
			got = append(got, calls(f, w, len(want)-1)...)
			if !slices.Equal(got, want) {
				t.Errorf("call order at %s = %v, want %v", w, got, want)
			}
		}
	}
	callW1 := hall.Command{Op: hall.OpCallNext, Window: "w1"}
	runCases(t, []tcase{
		{name: "normal tickets in issue order", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.issue("a")
			f.issue("a")
		}, cmd: callW1, check: order("w1", "A001", "A002", "A003")},
		{name: "transfers to the window first, then appointments, green, normal", setup: func(f *fixture) {
			f.open("w1", "w3")
			loadAppointments(f)
			f.issue("a")
			f.green("b")
			f.at(10 * time.Minute).do(hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"})
			f.issue("c")
			f.callNext("w3")
			f.do(hall.Command{Op: hall.OpTransfer, Window: "w3", ToWindow: "w1"})
		}, cmd: callW1, check: order("w1", "C001", "A002", "B001", "A001")},
		{name: "the priority ratio lets a normal ticket through", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.green("a")
			f.green("a")
			f.green("a")
		}, cmd: callW1, check: order("w1", "A002", "A003", "A001", "A004")},
		{name: "ratio 1 alternates", mod: func(c *hall.Config) { c.Rules.PriorityRatio = 1 }, setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.issue("b")
			f.green("a")
			f.green("b")
		}, cmd: callW1, check: order("w1", "A002", "A001", "B002", "B001")},
		{name: "priority continues when no normal ticket waits", setup: func(f *fixture) {
			f.open("w1")
			f.green("a")
			f.green("a")
			f.green("a")
		}, cmd: callW1, check: order("w1", "A001", "A002", "A003")},
		{name: "load balance: the longer, older queue first", setup: func(f *fixture) {
			f.open("w1", "w2")
			f.issue("a") // waits 10 min, alone: score 10×1/2
			f.at(5 * time.Minute)
			f.issue("b")
			f.issue("b")
			f.issue("b") // head waits 5 min, three waiting: score 5×3/2
		}, at: 10 * time.Minute, cmd: callW1, check: wantNumber("B001")},
		{name: "load balance counts the open windows of each service", mod: func(c *hall.Config) {
			c.Windows = append(c.Windows, hall.WindowConfig{ID: "w4", Number: 4, Kind: hall.KindDomain, Services: []string{"a"}})
		}, setup: func(f *fixture) {
			f.open("w1", "w2", "w4")
			f.issue("a") // a has 3 open windows, b has 2: same wait and count, b scores higher
			f.issue("b")
		}, at: 5 * time.Minute, cmd: callW1, check: wantNumber("B001")},
		{name: "equal scores: earlier issue, then lower ID", setup: func(f *fixture) {
			f.open("w1", "w2")
			f.issue("b")
			f.issue("a")
		}, at: 5 * time.Minute, cmd: callW1, check: wantNumber("B001")},
		{name: "queue empty", setup: func(f *fixture) { f.open("w1"); f.issue("c") }, cmd: callW1, err: hall.ErrQueueEmpty},
		{name: "call a specific ticket", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.issue("a")
			f.issue("a")
		}, cmd: hall.Command{Op: hall.OpCall, Window: "w1", Ticket: 3}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
			wantNumber("A003")(t, f, evs)
			if evs[0].Reason != "selected" {
				t.Errorf("reason = %q, want selected", evs[0].Reason)
			}
			if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A001", "A002"}) {
				t.Errorf("Queue(a) = %v, want [A001 A002]", q)
			}
		}},
		{name: "call a finished ticket", setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1"); f.op(hall.OpFinish, "w1") },
			cmd: hall.Command{Op: hall.OpCall, Window: "w1", Ticket: 1}, err: hall.ErrBadState},
		{name: "a ticket is never called by two windows", setup: func(f *fixture) { f.open("w1", "w2"); f.issue("a"); f.callNext("w1") },
			cmd: hall.Command{Op: hall.OpCall, Window: "w2", Ticket: 1}, err: hall.ErrBadState},
		{name: "call an unknown ticket", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpCall, Window: "w1", Ticket: 9}, err: hall.ErrUnknownTicket},
		{name: "call a ticket of a service the window does not serve", setup: func(f *fixture) { f.open("w3"); f.issue("a") },
			cmd: hall.Command{Op: hall.OpCall, Window: "w3", Ticket: 1}, err: hall.ErrInvalid},
		{name: "call a ticket addressed to another window", setup: func(f *fixture) {
			f.open("w1", "w2", "w3")
			f.issue("c")
			f.callNext("w3")
			f.do(hall.Command{Op: hall.OpTransfer, Window: "w3", ToWindow: "w1"})
		}, cmd: hall.Command{Op: hall.OpCall, Window: "w2", Ticket: 1}, err: hall.ErrBadState},
		{name: "call without a ticket", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpCall, Window: "w1"}, err: hall.ErrInvalid},
	})
}

func TestRecall(t *testing.T) {
	calledW1 := func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1") }
	recall := hall.Command{Op: hall.OpRecall, Window: "w1"}
	runCases(t, []tcase{
		{name: "recall", setup: calledW1, at: 30 * time.Second, cmd: recall, types: []hall.EventType{hall.EvTicketRecalled},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Count != 1 || f.ticket(1).Recalls != 1 {
					t.Errorf("recall count = %d (view %d), want 1", evs[0].Count, f.ticket(1).Recalls)
				}
			}},
		{name: "too soon", setup: calledW1, at: 29 * time.Second, cmd: recall, err: hall.ErrRecallTooSoon},
		{name: "the gap counts from the last recall", setup: func(f *fixture) { calledW1(f); f.at(time.Minute).do(recall) },
			at: time.Minute + 10*time.Second, cmd: recall, err: hall.ErrRecallTooSoon},
		{name: "limit", mod: func(c *hall.Config) { c.Rules.RecallMax = 2 }, setup: func(f *fixture) {
			calledW1(f)
			f.at(time.Minute).do(recall)
			f.at(2 * time.Minute).do(recall)
		}, at: 3 * time.Minute, cmd: recall, err: hall.ErrRecallLimit},
		{name: "no recalls allowed", mod: func(c *hall.Config) { c.Rules.RecallMax = 0 }, setup: calledW1,
			at: time.Minute, cmd: recall, err: hall.ErrRecallLimit},
		{name: "a ticket in service is not recalled", setup: func(f *fixture) { calledW1(f); f.op(hall.OpStart, "w1") },
			at: time.Minute, cmd: recall, err: hall.ErrBadState},
		{name: "nothing to recall", setup: func(f *fixture) { f.open("w1") }, cmd: recall, err: hall.ErrNoCurrent},
		{name: "another ticket than the current", setup: func(f *fixture) { calledW1(f); f.issue("a") },
			at: time.Minute, cmd: hall.Command{Op: hall.OpRecall, Window: "w1", Ticket: 2}, err: hall.ErrBadState},
		{name: "the current ticket named", setup: calledW1, at: time.Minute,
			cmd: hall.Command{Op: hall.OpRecall, Window: "w1", Ticket: 1}, types: []hall.EventType{hall.EvTicketRecalled}},
	})
}

func TestStartFinish(t *testing.T) {
	calledW1 := func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1") }
	mean := func(want time.Duration, serviceSum time.Duration) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			if got := f.h.Services()[0].MeanServiceTime; got != want {
				t.Errorf("mean service time = %v, want %v", got, want)
			}
			s := f.h.Stats()
			if c := s.Services["a"]; c.Served != 1 || c.ServiceSum != serviceSum || c.ServiceMax != serviceSum {
				t.Errorf("service stats = %+v, want 1 served in %v", *c, serviceSum)
			}
			if v := f.ticket(1); v.State != hall.Finished {
				t.Errorf("ticket state = %v, want finished", v.State)
			}
			if w := f.window("w1"); w.Current != 0 || w.Served != 1 {
				t.Errorf("w1 current %d served %d, want idle and 1", w.Current, w.Served)
			}
		}
	}
	runCases(t, []tcase{
		{name: "start", setup: calledW1, cmd: hall.Command{Op: hall.OpStart, Window: "w1"},
			types: []hall.EventType{hall.EvServiceStarted}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if v := f.ticket(1); v.State != hall.Serving || !v.StartedAt.Equal(base) {
					t.Errorf("ticket = %v started %v, want serving since %v", v.State, v.StartedAt, base)
				}
			}},
		{name: "start twice", setup: func(f *fixture) { calledW1(f); f.op(hall.OpStart, "w1") },
			cmd: hall.Command{Op: hall.OpStart, Window: "w1"}, err: hall.ErrBadState},
		{name: "start with nothing current", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpStart, Window: "w1"}, err: hall.ErrNoCurrent},
		{name: "finish from called counts from the call", setup: calledW1, at: 10 * time.Minute,
			cmd: hall.Command{Op: hall.OpFinish, Window: "w1"}, types: []hall.EventType{hall.EvTicketFinished},
			check: mean(6*time.Minute, 10*time.Minute)}, // 5 + (10−5)×20 %
		{name: "finish from serving counts from the start", setup: func(f *fixture) {
			calledW1(f)
			f.at(2*time.Minute).op(hall.OpStart, "w1")
		}, at: 7 * time.Minute, cmd: hall.Command{Op: hall.OpFinish, Window: "w1"},
			check: mean(5*time.Minute, 5*time.Minute)},
		{name: "a short service pulls the mean down", setup: calledW1, at: time.Minute,
			cmd: hall.Command{Op: hall.OpFinish, Window: "w1"}, check: mean(4*time.Minute+12*time.Second, time.Minute)},
		{name: "finish with nothing current", setup: func(f *fixture) { f.open("w1") },
			cmd: hall.Command{Op: hall.OpFinish, Window: "w1"}, err: hall.ErrNoCurrent},
	})
}

func TestSkipReactivate(t *testing.T) {
	skipped := func(f *fixture) {
		f.open("w1", "w2", "w3")
		f.issue("a")
		f.callNext("w1")
		f.do(hall.Command{Op: hall.OpSkip, Window: "w1", Reason: "absent"})
		f.issue("a")
		f.issue("a")
	}
	react := func(w string) hall.Command { return hall.Command{Op: hall.OpReactivate, Window: w, Ticket: 1} }
	runCases(t, []tcase{
		{name: "skip makes a no-show", setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1") },
			cmd: hall.Command{Op: hall.OpSkip, Window: "w1"}, types: []hall.EventType{hall.EvTicketSkipped},
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if v := f.ticket(1); v.State != hall.NoShow || v.Window != "w1" {
					t.Errorf("ticket = %v at %q, want no-show at w1", v.State, v.Window)
				}
				if f.window("w1").Current != 0 {
					t.Errorf("w1 still has a current ticket")
				}
				if c := f.h.Stats().Windows["w1"]; c.NoShows != 1 {
					t.Errorf("w1 no-shows = %d, want 1", c.NoShows)
				}
			}},
		{name: "skip a ticket in service", setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1"); f.op(hall.OpStart, "w1") },
			cmd: hall.Command{Op: hall.OpSkip, Window: "w1"}, err: hall.ErrBadState},
		{name: "reactivate near the front", setup: skipped, at: 20 * time.Minute, cmd: react("w2"),
			types: []hall.EventType{hall.EvTicketReactivated}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if q := numbers(f.h.Queue("a")); !slices.Equal(q, []string{"A001", "A002", "A003"}) {
					t.Errorf("Queue(a) = %v, want A001 back in front", q)
				}
				if v := f.ticket(1); !v.IssuedAt.Equal(base) {
					t.Errorf("issued at = %v, want the original %v", v.IssuedAt, base)
				}
			}},
		{name: "reactivate too late", setup: skipped, at: 31 * time.Minute, cmd: react("w2"), err: hall.ErrReactivateExpired},
		{name: "reactivate any time when unlimited", mod: func(c *hall.Config) { c.Rules.ReactivateWithin = 0 },
			setup: skipped, at: 8 * time.Hour, cmd: react("w1"), types: []hall.EventType{hall.EvTicketReactivated}},
		{name: "reactivate at a window of another service", setup: skipped, cmd: react("w3"), err: hall.ErrInvalid},
		{name: "reactivate a waiting ticket", setup: skipped,
			cmd: hall.Command{Op: hall.OpReactivate, Window: "w1", Ticket: 2}, err: hall.ErrBadState},
		{name: "reactivate at an unknown window", setup: skipped, cmd: react("w9"), err: hall.ErrUnknownWindow},
		{name: "reactivate without a ticket", setup: skipped, cmd: hall.Command{Op: hall.OpReactivate, Window: "w1"}, err: hall.ErrInvalid},
		{name: "no-shows expire at the reset", setup: skipped, at: nextDay, cmd: react("w1"), err: hall.ErrUnknownTicket},
	})
}

func TestTransfer(t *testing.T) {
	calledW1 := func(f *fixture) { f.open("w1", "w2", "w3"); f.issue("a"); f.issue("a"); f.callNext("w1") }
	xfer := func(c hall.Command) hall.Command { c.Op, c.Window = hall.OpTransfer, "w1"; return c }
	runCases(t, []tcase{
		{name: "to a service, keeping the number", setup: calledW1, cmd: xfer(hall.Command{ToService: "c"}),
			types: []hall.EventType{hall.EvTicketTransferred}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := evs[0]; e.Service != "a" || e.ToService != "c" {
					t.Errorf("event service %s → %s, want a → c", e.Service, e.ToService)
				}
				if q := numbers(f.h.Queue("c")); !slices.Equal(q, []string{"A001"}) {
					t.Errorf("Queue(c) = %v, want [A001]", q)
				}
				if f.window("w1").Current != 0 {
					t.Errorf("w1 not idle after the transfer")
				}
				if got := f.callNext("w3"); got != "A001" {
					t.Errorf("w3 called %s, want A001", got)
				}
				if c := f.h.Stats().Windows["w1"]; c.Transferred != 1 {
					t.Errorf("w1 transferred = %d, want 1", c.Transferred)
				}
			}},
		{name: "to a window, called there first", setup: func(f *fixture) { calledW1(f); f.green("a") },
			cmd: xfer(hall.Command{ToWindow: "w2"}), check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w2"); !slices.Equal(w.Addressed, []hall.TicketID{1}) {
					t.Errorf("w2 addressed = %v, want [1]", w.Addressed)
				}
				if v := f.ticket(1); v.State != hall.Waiting || v.Window != "w2" || v.Ahead != 0 {
					t.Errorf("ticket = %v at %q ahead %d, want waiting for w2 first", v.State, v.Window, v.Ahead)
				}
				if got := f.callNext("w2"); got != "A001" {
					t.Errorf("w2 called %s, want A001 before the green ticket", got)
				}
			}},
		{name: "with return, back to the front at the first window", setup: func(f *fixture) {
			calledW1(f)
			f.issue("c")
			f.callNext("w3")
			f.do(hall.Command{Op: hall.OpTransfer, Window: "w3", ToWindow: "w1"}) // C001 now waits for w1
			f.do(xfer(hall.Command{ToWindow: "w3", Return: true}))
			f.callNext("w3")
		}, at: 5 * time.Minute, cmd: hall.Command{Op: hall.OpFinish, Window: "w3"}, types: []hall.EventType{hall.EvTicketReturned},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := evs[0]; e.ToWindow != "w1" || e.ToService != "a" {
					t.Errorf("returned to %s/%s, want w1/a", e.ToWindow, e.ToService)
				}
				if v := f.ticket(1); v.State != hall.Waiting || v.Window != "w1" {
					t.Errorf("ticket = %v at %q, want waiting for w1", v.State, v.Window)
				}
				if got := calls(f, "w1", 3); !slices.Equal(got, []string{"A001", "C001", "A002"}) {
					t.Errorf("w1 calls = %v, want the returned A001, the transfer C001, then A002", got)
				}
				if v := f.ticket(1); v.State != hall.Finished {
					t.Errorf("returned ticket finished at home = %v, want finished", v.State)
				}
				if c := f.h.Stats().Windows["w3"]; c.Served != 1 || c.ServiceSum != 5*time.Minute {
					t.Errorf("w3 stats = %+v, want the return counted as served", *c)
				}
			}},
		{name: "with return through a service", setup: func(f *fixture) {
			calledW1(f)
			f.do(xfer(hall.Command{ToService: "c", Return: true}))
			f.callNext("w3")
		}, cmd: hall.Command{Op: hall.OpFinish, Window: "w3"}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
			if v := f.ticket(1); v.Service != "a" || v.Window != "w1" || v.Number != "A001" {
				t.Errorf("ticket = %s %s at %q, want A001 back in a at w1", v.Number, v.Service, v.Window)
			}
		}},
		{name: "unknown service", setup: calledW1, cmd: xfer(hall.Command{ToService: "zz"}), err: hall.ErrUnknownService},
		{name: "unknown window", setup: calledW1, cmd: xfer(hall.Command{ToWindow: "w9"}), err: hall.ErrUnknownWindow},
		{name: "both targets", setup: calledW1, cmd: xfer(hall.Command{ToService: "c", ToWindow: "w3"}), err: hall.ErrInvalid},
		{name: "no target", setup: calledW1, cmd: xfer(hall.Command{}), err: hall.ErrInvalid},
		{name: "to its own window", setup: calledW1, cmd: xfer(hall.Command{ToWindow: "w1"}), err: hall.ErrInvalid},
		{name: "to its own service", setup: calledW1, cmd: xfer(hall.Command{ToService: "a"}), err: hall.ErrInvalid},
		{name: "nothing current", setup: func(f *fixture) { f.open("w1") }, cmd: xfer(hall.Command{ToService: "c"}), err: hall.ErrNoCurrent},
	})
}

func TestHoldResume(t *testing.T) {
	held := func(f *fixture) {
		f.open("w1", "w2")
		f.issue("a")
		f.issue("a")
		f.callNext("w1")
		f.op(hall.OpHold, "w1")
	}
	resume := func(w string) hall.Command { return hall.Command{Op: hall.OpResume, Window: w, Ticket: 1} }
	runCases(t, []tcase{
		{name: "hold frees the window", setup: held, cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				wantNumber("A002")(t, f, evs)
				if w := f.window("w1"); !slices.Equal(w.Held, []hall.TicketID{1}) {
					t.Errorf("w1 held = %v, want [1]", w.Held)
				}
				if v := f.ticket(1); v.State != hall.Held || v.Window != "w1" {
					t.Errorf("ticket = %v at %q, want held at w1", v.State, v.Window)
				}
			}},
		{name: "resume when idle", setup: held, at: 10 * time.Minute, cmd: resume("w1"),
			types: []hall.EventType{hall.EvTicketResumed}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w1"); w.Current != 1 || len(w.Held) != 0 {
					t.Errorf("w1 current %d held %v, want 1 and none", w.Current, w.Held)
				}
				if v := f.ticket(1); v.State != hall.Called || !v.CalledAt.Equal(base.Add(10*time.Minute)) {
					t.Errorf("ticket = %v called %v, want called at resume", v.State, v.CalledAt)
				}
			}},
		{name: "resume while busy", setup: func(f *fixture) { held(f); f.callNext("w1") }, cmd: resume("w1"), err: hall.ErrWindowBusy},
		{name: "resume at another window", setup: held, cmd: resume("w2"), err: hall.ErrBadState},
		{name: "resume a waiting ticket", setup: held, cmd: hall.Command{Op: hall.OpResume, Window: "w1", Ticket: 2}, err: hall.ErrBadState},
		{name: "resume at a paused window", setup: func(f *fixture) {
			held(f)
			f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "break"})
		}, cmd: resume("w1"), err: hall.ErrWindowPaused},
		{name: "hold with nothing current", setup: held, cmd: hall.Command{Op: hall.OpHold, Window: "w1"}, err: hall.ErrNoCurrent},
		{name: "a held ticket can be finished after resume", setup: func(f *fixture) { held(f); f.do(resume("w1")) },
			cmd: hall.Command{Op: hall.OpFinish, Window: "w1"}, types: []hall.EventType{hall.EvTicketFinished}},
	})
}

func TestEstimates(t *testing.T) {
	m := time.Minute
	est := func(point, lo, hi time.Duration) hall.Estimate {
		return hall.Estimate{Point: point, Lo: lo, Hi: hi, Known: true}
	}
	issuedEst := func(ahead int, want hall.Estimate) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			e := evs[0]
			if e.Ahead != ahead || e.Estimate != want {
				t.Errorf("issued ahead %d estimate %+v, want %d %+v", e.Ahead, e.Estimate, ahead, want)
			}
			if v := f.ticket(e.Ticket); v.Estimate != want || v.Remaining != want || v.Ahead != ahead {
				t.Errorf("view ahead %d estimate %+v remaining %+v, want %d %+v", v.Ahead, v.Estimate, v.Remaining, ahead, want)
			}
		}
	}
	runCases(t, []tcase{
		{name: "no open window: unknown", cmd: issueA(), check: issuedEst(0, hall.Estimate{})},
		{name: "first in line at one window", setup: func(f *fixture) { f.open("w1") }, cmd: issueA(),
			check: issuedEst(0, est(5*m, 4*m, 6*m))},
		{name: "two ahead at two windows", setup: func(f *fixture) { f.open("w1", "w2"); f.issue("a"); f.issue("a") },
			cmd: issueA(), check: issuedEst(2, est(7*m+30*time.Second, 6*m, 9*m))},
		{name: "paused windows do not count", setup: func(f *fixture) {
			f.open("w1", "w2")
			f.do(hall.Command{Op: hall.OpPause, Window: "w2", Reason: "break"})
		}, cmd: issueA(), check: issuedEst(0, est(5*m, 4*m, 6*m))},
		{name: "windows of other services do not count", setup: func(f *fixture) { f.open("w3") }, cmd: issueA(),
			check: issuedEst(0, hall.Estimate{})},
		{name: "service view", setup: func(f *fixture) { f.open("w1", "w2"); f.issue("b"); f.issue("b"); f.issue("b") },
			cmd: hall.Command{Op: hall.OpTick}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				s := f.h.Services()[1]
				want := hall.ServiceView{ID: "b", Name: "户籍", Prefix: "B", Waiting: 3, Issued: 3, OpenWindows: 2,
					MeanServiceTime: 10 * m, Estimate: est(20*m, 16*m, 24*m)}
				if s != want {
					t.Errorf("Services()[1] = %+v, want %+v", s, want)
				}
			}},
		{name: "remaining follows the queue", setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.issue("a"); f.issue("a") },
			cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"}, check: func(t *testing.T, f *fixture, _ []hall.Event) {
				v := f.ticket(3)
				if v.Ahead != 1 || v.Remaining != est(10*m, 8*m, 12*m) || v.Estimate != est(15*m, 12*m, 18*m) {
					t.Errorf("A003 ahead %d remaining %+v at issue %+v, want 1, 10 min, 15 min", v.Ahead, v.Remaining, v.Estimate)
				}
			}},
		{name: "accuracy at the first call", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a") // estimate 5 min (4–6)
			f.issue("a") // estimate 10 min (8–12)
			f.issue("a") // estimate 15 min (12–18)
			f.at(10 * time.Minute).callNext("w1")
			f.op(hall.OpFinish, "w1")
			f.at(11 * time.Minute).callNext("w1")
			f.op(hall.OpSkip, "w1")
			f.do(hall.Command{Op: hall.OpReactivate, Window: "w1", Ticket: 2})
		}, at: 12 * time.Minute, cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				wantNumber("A002")(t, f, evs) // the second call of A002 is not a new sample
				a := f.h.Stats().Accuracy
				want := hall.Accuracy{Samples: 2, AbsErrSum: 5*m + m, Under: 1, Within: 1}
				if a != want {
					t.Errorf("Accuracy = %+v, want %+v", a, want)
				}
				if a.MAE() != 3*m {
					t.Errorf("MAE() = %v, want 3m", a.MAE())
				}
			}},
	})
	if got := (hall.Accuracy{}).MAE(); got != 0 {
		t.Errorf("Accuracy{}.MAE() = %v, want 0", got)
	}
}

func TestTurnNear(t *testing.T) {
	near := func(c *hall.Config) { c.Rules.TurnNearAhead = 2 }
	nearNumbers := func(evs []hall.Event) []string {
		var out []string
		for _, e := range evs {
			if e.Type == hall.EvTurnNear {
				out = append(out, e.Number)
			}
		}
		return out
	}
	five := func(f *fixture) {
		f.open("w1")
		for i := 0; i < 5; i++ {
			f.issue("a")
		}
	}
	runCases(t, []tcase{
		{name: "at issue when already near", mod: near, setup: func(f *fixture) { f.open("w1") }, cmd: issueA(),
			types: []hall.EventType{issued, hall.EvTurnNear}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := evs[1]; e.Ahead != 0 || e.Number != "A001" || !e.Estimate.Known {
					t.Errorf("turn near = %+v, want A001 with 0 ahead and an estimate", e)
				}
			}},
		{name: "not at issue when far", mod: near, setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.issue("a"); f.issue("a") },
			cmd: issueA(), types: []hall.EventType{issued}},
		{name: "when a call moves the queue", mod: near, setup: five, cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"},
			types: []hall.EventType{called, hall.EvTurnNear}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := evs[1]; e.Number != "A004" || e.Ahead != 2 {
					t.Errorf("turn near %s ahead %d, want A004 ahead 2", e.Number, e.Ahead)
				}
			}},
		{name: "once per queue entry", mod: near, setup: func(f *fixture) { five(f); f.callNext("w1"); f.op(hall.OpFinish, "w1") },
			cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if got := nearNumbers(evs); !slices.Equal(got, []string{"A005"}) {
					t.Errorf("turn near = %v, want only A005", got)
				}
			}},
		{name: "again after reactivation", mod: near, setup: func(f *fixture) {
			five(f)
			f.callNext("w1")
			f.op(hall.OpSkip, "w1")
		}, cmd: hall.Command{Op: hall.OpReactivate, Window: "w1", Ticket: 1}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
			if got := nearNumbers(evs); !slices.Equal(got, []string{"A001"}) {
				t.Errorf("turn near = %v, want A001 again", got)
			}
		}},
		{name: "for tickets addressed to a window", mod: near, setup: func(f *fixture) {
			f.open("w1", "w3")
			f.issue("c")
			f.callNext("w3")
		}, cmd: hall.Command{Op: hall.OpTransfer, Window: "w3", ToWindow: "w1"}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
			if got := nearNumbers(evs); !slices.Equal(got, []string{"C001"}) || evs[1].Window != "w1" {
				t.Errorf("turn near = %v at %q, want C001 at w1", got, evs[len(evs)-1].Window)
			}
		}},
		{name: "off", setup: five, cmd: hall.Command{Op: hall.OpCallNext, Window: "w1"}, types: []hall.EventType{called}},
	})
}

func TestStats(t *testing.T) {
	f := newFixture(t, nil)
	f.open("w1", "w2")
	f.issue("a")
	f.issue("a")
	f.issue("b")
	f.at(4 * time.Minute).callNext("w1") // A001 waited 4 min
	f.at(5*time.Minute).op(hall.OpRecall, "w1")
	f.at(6*time.Minute).op(hall.OpStart, "w1")
	f.at(10*time.Minute).op(hall.OpFinish, "w1") // served 4 min
	f.at(20 * time.Minute).callNext("w2")        // A002 ties with B001 on score, lower ID; waited 20 min
	f.op(hall.OpSkip, "w2")
	if got := f.at(21 * time.Minute).callNext("w1"); got != "B001" { // waited 21 min
		t.Fatalf("w1 called %s, want B001", got)
	}
	f.do(hall.Command{Op: hall.OpTransfer, Window: "w1", ToService: "c"})
	s := f.h.Stats()
	m := time.Minute
	want := map[string]hall.Counters{
		"w1": {Called: 2, Served: 1, Recalls: 1, Transferred: 1, WaitSum: 25 * m, WaitMax: 21 * m,
			ServiceSum: 4 * m, ServiceMax: 4 * m, WaitBuckets: [6]int{0, 1, 0, 0, 0, 1}},
		"w2": {Called: 1, NoShows: 1, WaitSum: 20 * m, WaitMax: 20 * m, WaitBuckets: [6]int{0, 0, 0, 0, 0, 1}},
	}
	got := map[string]hall.Counters{"w1": *s.Windows["w1"], "w2": *s.Windows["w2"]}
	for _, k := range []string{"w1", "w2"} {
		if got[k] != want[k] {
			t.Errorf("Stats().Windows[%s] = %+v, want %+v", k, got[k], want[k])
		}
	}
	if c := s.Staff["staff-w1"]; c == nil || *c != want["w1"] {
		t.Errorf("Stats().Staff[staff-w1] = %+v, want the same as w1", c)
	}
	issuedSum := 0
	for _, c := range s.Services {
		issuedSum += c.Issued
	}
	if issuedSum != 3 || s.Services["a"].Issued != 2 || s.Services["c"].Issued != 0 {
		t.Errorf("issued = %d (a %d, c %d), want 3 (2, 0)", issuedSum, s.Services["a"].Issued, s.Services["c"].Issued)
	}
	if _, ok := s.Windows["w3"]; !ok {
		t.Errorf("Stats().Windows has no entry for the idle w3")
	}
	// The copy is deep.
	s.Windows["w1"].Called = 99
	if f.h.Stats().Windows["w1"].Called != 2 {
		t.Errorf("changing a Stats() copy changed the hall")
	}
}

func TestApplyConfig(t *testing.T) {
	without := func(svc string) *hall.Config {
		c := testConfig()
		c.Services = slices.DeleteFunc(c.Services, func(s hall.ServiceConfig) bool { return s.ID == svc })
		for i := range c.Windows {
			c.Windows[i].Services = slices.DeleteFunc(c.Windows[i].Services, func(s string) bool { return s == svc })
		}
		return &c
	}
	noW3 := func() *hall.Config { c := testConfig(); c.Windows = c.Windows[:2]; return &c }
	apply := func(c *hall.Config) hall.Command { return hall.Command{Op: hall.OpApplyConfig, Config: c} }
	runCases(t, []tcase{
		{name: "same config keeps everything", setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1") },
			cmd: apply(func() *hall.Config { c := testConfig(); return &c }()), types: []hall.EventType{hall.EvConfigApplied},
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if w := f.window("w1"); w.State != hall.Open || w.Current != 1 {
					t.Errorf("w1 = %v current %d, want open with ticket 1", w.State, w.Current)
				}
			}},
		{name: "removing a service expires its tickets", setup: func(f *fixture) { f.issue("c"); f.issue("a"); f.issue("c") },
			cmd: apply(without("c")), types: []hall.EventType{expired, expired, hall.EvConfigApplied},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Reason != "config" || f.ticket(1).State != hall.Expired || f.ticket(2).State != hall.Waiting {
					t.Errorf("after removing c: %v %v, want C001 expired and A001 waiting", f.ticket(1).State, f.ticket(2).State)
				}
				if len(f.h.Services()) != 2 || f.h.Queue("c") != nil {
					t.Errorf("service c still there")
				}
			}},
		{name: "removing a busy window", setup: func(f *fixture) { f.open("w3"); f.issue("c"); f.callNext("w3") },
			cmd: apply(noW3()), err: hall.ErrWindowBusy},
		{name: "removing a service being served", setup: func(f *fixture) { f.open("w3"); f.issue("c"); f.callNext("w3") },
			cmd: apply(without("c")), err: hall.ErrWindowBusy},
		{name: "removing a window expires what waits or is held there", setup: func(f *fixture) {
			f.open("w1", "w3")
			f.issue("c")
			f.issue("a")
			f.callNext("w3")
			f.op(hall.OpHold, "w3")
			f.callNext("w1")
			f.do(hall.Command{Op: hall.OpTransfer, Window: "w1", ToWindow: "w3"})
		}, cmd: apply(noW3()), types: []hall.EventType{expired, expired, hall.EvConfigApplied}},
		{name: "invalid config", cmd: apply(&hall.Config{}), err: hall.ErrInvalid, check: func(t *testing.T, f *fixture, _ []hall.Event) {
			_, err := f.h.Decide(apply(&hall.Config{}), f.now)
			var ce *hall.ConfigError
			if !errors.As(err, &ce) || ce.Field != "rules.number_width" {
				t.Errorf("error = %v, want a *ConfigError at rules.number_width", err)
			}
		}},
		{name: "no config", cmd: hall.Command{Op: hall.OpApplyConfig}, err: hall.ErrInvalid},
		{name: "the learned mean survives", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.callNext("w1")
			f.at(10*time.Minute).op(hall.OpFinish, "w1")
		}, cmd: apply(func() *hall.Config { c := testConfig(); return &c }()), check: func(t *testing.T, f *fixture, _ []hall.Event) {
			if got := f.h.Services()[0].MeanServiceTime; got != 6*time.Minute {
				t.Errorf("mean = %v, want the learned 6m", got)
			}
		}},
		{name: "a new service time restarts the mean", setup: func(f *fixture) {
			f.open("w1")
			f.issue("a")
			f.callNext("w1")
			f.at(10*time.Minute).op(hall.OpFinish, "w1")
		}, cmd: apply(func() *hall.Config { c := testConfig(); c.Services[0].ServiceTime = 3 * time.Minute; return &c }()),
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if got := f.h.Services()[0].MeanServiceTime; got != 3*time.Minute {
					t.Errorf("mean = %v, want the new 3m", got)
				}
			}},
		{name: "a return to a removed window is dropped", setup: func(f *fixture) {
			f.open("w1", "w2")
			f.issue("a")
			f.callNext("w2")
			f.do(hall.Command{Op: hall.OpTransfer, Window: "w2", ToWindow: "w1", Return: true})
		}, cmd: apply(func() *hall.Config { c := testConfig(); c.Windows = slices.Delete(c.Windows, 1, 2); return &c }()),
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				f.callNext("w1")
				if evs := f.op(hall.OpFinish, "w1"); evs[0].Type != hall.EvTicketFinished {
					t.Errorf("finish = %v, want ticket_finished", evs[0].Type)
				}
			}},
	})
}

func TestViews(t *testing.T) {
	f := newFixture(t, nil)
	f.open("w1")
	f.issueCmd(hall.Command{Op: hall.OpIssue, Service: "a", Source: "kiosk", Personal: []byte("sealed")})
	f.issue("b")
	f.callNext("w1")
	type lookup struct {
		name string
		get  func() (any, bool)
		want any // nil: not found
	}
	cases := []lookup{
		{"ticket by number", func() (any, bool) { v, ok := f.h.TicketByNumber("B001"); return v.ID, ok }, hall.TicketID(2)},
		{"unknown number", func() (any, bool) { _, ok := f.h.TicketByNumber("Z999"); return nil, ok }, nil},
		{"ticket by ID", func() (any, bool) { v, ok := f.h.Ticket(1); return v.Number, ok }, "A001"},
		{"unknown ticket", func() (any, bool) { _, ok := f.h.Ticket(42); return nil, ok }, nil},
		{"window", func() (any, bool) { v, ok := f.h.Window("w1"); return v.CurrentNumber, ok }, "A001"},
		{"unknown window", func() (any, bool) { _, ok := f.h.Window("w9"); return nil, ok }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.get()
			if ok != (c.want != nil) || !reflect.DeepEqual(got, c.want) {
				t.Errorf("lookup = %v, %v, want %v, %v", got, ok, c.want, c.want != nil)
			}
		})
	}
	if q := f.h.Queue("zz"); q != nil {
		t.Errorf("Queue(zz) = %v, want nil", q)
	}
	a := f.number("A001")
	if a.State != hall.Called || a.Window != "w1" || a.Source != "kiosk" || string(a.Personal) != "sealed" || a.Day != 1 {
		t.Errorf("A001 view = %+v", a)
	}
	a.Personal[0] = 'X'
	if string(f.number("A001").Personal) != "sealed" {
		t.Errorf("changing a view's Personal changed the hall")
	}
	if all := numbers(f.h.Tickets()); !slices.Equal(all, []string{"A001", "B001"}) {
		t.Errorf("Tickets() = %v, want [A001 B001]", all)
	}
	w := f.window("w1")
	w.Services[0] = "zz"
	if f.window("w1").Services[0] != "a" || f.h.Config().Windows[0].Services[0] != "a" {
		t.Errorf("changing a view's services changed the hall")
	}
}
