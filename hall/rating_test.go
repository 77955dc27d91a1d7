package hall_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hallgw/hall"
)

var (
	requested = hall.EvRatingRequested
	given     = hall.EvRatingGiven
	notRated  = hall.EvRatingNotRated
	caseSet   = hall.EvCaseSet
	finished  = hall.EvTicketFinished
)

func withRatings(c *hall.Config) { c.Ratings = hall.DefaultRatingRules() }

// served issues a ticket of service at w, calls, starts and finishes it at
// base+at, and returns the finish's events.
func served(f *fixture, w, service string, at time.Duration) []hall.Event {
	f.t.Helper()
	f.at(at)
	f.issue(service)
	f.callNext(w)
	f.op(hall.OpStart, w)
	return f.op(hall.OpFinish, w)
}

// servedOpen opens w and serves one ticket of service a there at base.
func servedOpen(f *fixture) {
	f.t.Helper()
	f.open("w1", "w2", "w3")
	served(f, "w1", "a", 0)
}

func rate(w string, g hall.Grade, pad string, reasons ...string) hall.Command {
	return hall.Command{Op: hall.OpRate, Window: w, Grade: g, Source: pad, Reasons: reasons}
}

// lastOf returns the last event of type typ in evs.
func lastOf(t *testing.T, evs []hall.Event, typ hall.EventType) hall.Event {
	t.Helper()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	t.Fatalf("no %v in %v", typ, types(evs))
	return hall.Event{}
}

func TestEventTypeValuesStableRatings(t *testing.T) {
	cases := []struct {
		e    hall.EventType
		want int
		name string
	}{
		{hall.EvNotice, 22, "notice"},
		{hall.EvRatingRequested, 23, "rating_requested"},
		{hall.EvRatingGiven, 24, "rating_given"},
		{hall.EvRatingNotRated, 25, "rating_not_rated"},
		{hall.EvCaseSet, 26, "case_set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if int(c.e) != c.want || c.e.String() != c.name {
				t.Errorf("%v = %d %q, want %d %q", c.e, c.e, c.e.String(), c.want, c.name)
			}
		})
	}
	if hall.OpRate.String() != "rate" || hall.OpSetCase.String() != "set_case" {
		t.Errorf("op names = %q %q, want rate set_case", hall.OpRate, hall.OpSetCase)
	}
}

func TestGrades(t *testing.T) {
	cases := []struct {
		g          hall.Grade
		name       string
		label      string
		valid, bad bool
	}{
		{0, "grade(0)", "", false, false},
		{hall.GradeVerySatisfied, "very_satisfied", "非常满意", true, false},
		{hall.GradeSatisfied, "satisfied", "满意", true, false},
		{hall.GradeBasicallySatisfied, "basically_satisfied", "基本满意", true, false},
		{hall.GradeDissatisfied, "dissatisfied", "不满意", true, true},
		{hall.GradeVeryDissatisfied, "very_dissatisfied", "非常不满意", true, true},
		{6, "grade(6)", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.g.String() != c.name || c.g.Label() != c.label || c.g.Valid() != c.valid || c.g.Bad() != c.bad {
				t.Errorf("Grade(%d) = %q %q valid %v bad %v, want %q %q %v %v", c.g, c.g.String(), c.g.Label(),
					c.g.Valid(), c.g.Bad(), c.name, c.label, c.valid, c.bad)
			}
		})
	}
}

func TestRatingRequests(t *testing.T) {
	wantRequest := func(number, service, window string) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			r := lastOf(t, evs, requested)
			v, _ := f.h.TicketByNumber(number)
			if r.Ticket != v.ID || r.Number != number || r.Service != service || r.Window != window ||
				r.Staff != "staff-"+window || !r.Due.Equal(f.now.Add(3*time.Minute)) || r.Source != "window" {
				t.Errorf("request = %+v, want %s %s at %s by staff-%s due in 3 min from the window", r, number, service, window, window)
			}
			if p, ok := f.h.PendingRating(window); !ok || p.ID != r.Rating || p.Ticket != r.Ticket {
				t.Errorf("PendingRating(%s) = %+v, %v, want rating %d", window, p, ok, r.Rating)
			}
		}
	}
	finishW1 := hall.Command{Op: hall.OpFinish, Window: "w1", Source: "window"}
	serving := func(f *fixture) {
		f.open("w1", "w2", "w3")
		f.issue("a")
		f.callNext("w1")
		f.op(hall.OpStart, "w1")
	}
	runCases(t, []tcase{
		{name: "finish asks for a rating", mod: withRatings, setup: serving, at: 5 * time.Minute, cmd: finishW1,
			types: []hall.EventType{finished, requested}, check: wantRequest("A001", "a", "w1")},
		{name: "finish without start asks too", mod: withRatings,
			setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.callNext("w1") },
			cmd:   finishW1, types: []hall.EventType{finished, requested}, check: wantRequest("A001", "a", "w1")},
		{name: "ratings off", setup: serving, cmd: finishW1, types: []hall.EventType{finished}},
		{name: "a served ticket transferred is rated for the service it had", mod: withRatings, setup: serving,
			cmd:   hall.Command{Op: hall.OpTransfer, Window: "w1", ToService: "c", Source: "window"},
			types: []hall.EventType{hall.EvTicketTransferred, requested}, check: wantRequest("A001", "a", "w1")},
		{name: "a transfer before the service started asks nothing", mod: withRatings,
			setup: func(f *fixture) { f.open("w1", "w3"); f.issue("a"); f.callNext("w1") },
			cmd:   hall.Command{Op: hall.OpTransfer, Window: "w1", ToWindow: "w3"}, types: []hall.EventType{hall.EvTicketTransferred}},
		{name: "a transfer with return asks nothing yet", mod: withRatings, setup: serving,
			cmd:   hall.Command{Op: hall.OpTransfer, Window: "w1", ToWindow: "w3", Return: true},
			types: []hall.EventType{hall.EvTicketTransferred}},
		{name: "the window serving a returned ticket is rated", mod: withRatings,
			setup: func(f *fixture) {
				serving(f)
				f.do(hall.Command{Op: hall.OpTransfer, Window: "w1", ToWindow: "w3", Return: true})
				f.callNext("w3")
			},
			cmd: hall.Command{Op: hall.OpFinish, Window: "w3", Source: "window"}, types: []hall.EventType{hall.EvTicketReturned, requested},
			check: wantRequest("A001", "a", "w3")},
		{name: "a transferred ticket is rated once per service", mod: withRatings,
			setup: func(f *fixture) {
				serving(f)
				f.do(hall.Command{Op: hall.OpTransfer, Window: "w1", ToService: "c"})
				f.callNext("w3")
				f.op(hall.OpStart, "w3")
			},
			cmd: hall.Command{Op: hall.OpFinish, Window: "w3", Source: "window"}, types: []hall.EventType{finished, requested},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				wantRequest("A001", "c", "w3")(t, f, evs)
				var items []string
				for _, e := range f.journal {
					if e.Type == requested {
						items = append(items, e.Service+"@"+e.Window)
					}
				}
				if !slices.Equal(items, []string{"a@w1", "c@w3"}) {
					t.Errorf("requests = %v, want a@w1 then c@w3", items)
				}
			}},
		{name: "request IDs grow", mod: withRatings,
			setup: func(f *fixture) { f.open("w1"); served(f, "w1", "a", 0); served(f, "w1", "a", time.Minute) },
			at:    2 * time.Minute, cmd: hall.Command{Op: hall.OpTick},
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				var ids []hall.RatingID
				for _, p := range f.h.PendingRatings() {
					ids = append(ids, p.ID)
				}
				if !slices.Equal(ids, []hall.RatingID{1, 2}) {
					t.Errorf("pending IDs = %v, want [1 2]", ids)
				}
			}},
	})
}

func TestCaseNumbers(t *testing.T) {
	setCase := func(w, c string) hall.Command { return hall.Command{Op: hall.OpSetCase, Window: w, Case: c} }
	current := func(f *fixture) { f.open("w1", "w2"); f.issue("a"); f.callNext("w1") }
	runCases(t, []tcase{
		{name: "on the current ticket, taken by the request", mod: withRatings, setup: current,
			cmd: setCase("w1", "2026-SB-0042"), types: []hall.EventType{caseSet},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Ticket != 1 || evs[0].Rating != 0 || evs[0].Case != "2026-SB-0042" {
					t.Errorf("case event = %+v, want ticket 1", evs[0])
				}
				r := lastOf(t, f.op(hall.OpFinish, "w1"), requested)
				if r.Case != "2026-SB-0042" {
					t.Errorf("request case = %q, want 2026-SB-0042", r.Case)
				}
				// The next ticket at the window starts without one.
				f.issue("a")
				f.callNext("w1")
				f.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: 1, Source: hall.PadTablet})
				if r := lastOf(t, f.op(hall.OpFinish, "w1"), requested); r.Case != "" {
					t.Errorf("next request case = %q, want none", r.Case)
				}
			}},
		{name: "scanned after the finish, on the open request", mod: withRatings,
			setup: func(f *fixture) { current(f); f.op(hall.OpFinish, "w1") },
			cmd:   setCase("w1", "HJ-7"), types: []hall.EventType{caseSet},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if p, _ := f.h.PendingRating("w1"); p.Case != "HJ-7" || evs[0].Rating != p.ID {
					t.Errorf("pending = %+v, event %+v, want case HJ-7", p, evs[0])
				}
				g := lastOf(t, f.do(rate("w1", 2, hall.PadTablet)), given)
				if g.Case != "HJ-7" {
					t.Errorf("rating case = %q, want HJ-7", g.Case)
				}
			}},
		{name: "rescanned replaces", mod: withRatings,
			setup: func(f *fixture) { current(f); f.do(setCase("w1", "X-1")) },
			cmd:   setCase("w1", "X-2"), check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if r := lastOf(t, f.op(hall.OpFinish, "w1"), requested); r.Case != "X-2" {
					t.Errorf("request case = %q, want X-2", r.Case)
				}
			}},
		{name: "kept at the window across a transfer back", mod: withRatings,
			setup: func(f *fixture) {
				current(f)
				f.do(setCase("w1", "K-1"))
				f.op(hall.OpStart, "w1")
				f.do(hall.Command{Op: hall.OpTransfer, Window: "w1", ToWindow: "w2", Return: true})
				f.callNext("w2")
				f.op(hall.OpFinish, "w2")
				f.callNext("w1")
			},
			cmd: hall.Command{Op: hall.OpFinish, Window: "w1"}, types: []hall.EventType{finished, requested},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[1].Case != "K-1" {
					t.Errorf("request case = %q, want K-1", evs[1].Case)
				}
			}},
		{name: "empty", mod: withRatings, setup: current, cmd: setCase("w1", ""), err: hall.ErrInvalid},
		{name: "with a space", mod: withRatings, setup: current, cmd: setCase("w1", "A 1"), err: hall.ErrInvalid},
		{name: "too long", mod: withRatings, setup: current, cmd: setCase("w1", strings.Repeat("1", hall.MaxCaseLen+1)), err: hall.ErrInvalid},
		{name: "nothing at the window", mod: withRatings, setup: func(f *fixture) { f.open("w1") },
			cmd: setCase("w1", "C-1"), err: hall.ErrNoCurrent},
		{name: "unknown window", cmd: setCase("w9", "C-1"), err: hall.ErrUnknownWindow},
	})
}

func TestRate(t *testing.T) {
	wantGiven := func(g hall.Grade, pad string, reasons ...string) func(t *testing.T, f *fixture, evs []hall.Event) {
		return func(t *testing.T, f *fixture, evs []hall.Event) {
			t.Helper()
			e := lastOf(t, evs, given)
			if e.Grade != g || e.Source != pad || !slices.Equal(e.Reasons, reasons) || e.Ticket != 1 ||
				e.Number != "A001" || e.Service != "a" || e.Window != "w1" || e.Staff != "staff-w1" || e.Rating != 1 {
				t.Errorf("rating = %+v, want grade %v from %s with reasons %v for A001 a w1 staff-w1", e, g, pad, reasons)
			}
			if _, ok := f.h.PendingRating("w1"); ok {
				t.Errorf("request still pending after the rating")
			}
		}
	}
	keys := func(g hall.Grade, n int) hall.Command {
		return hall.Command{Op: hall.OpRate, Window: "w1", Grade: g, ReasonNumber: n, Source: hall.PadKeys}
	}
	runCases(t, []tcase{
		{name: "satisfied on the tablet", mod: withRatings, setup: servedOpen, at: time.Minute,
			cmd: rate("w1", hall.GradeSatisfied, hall.PadTablet), types: []hall.EventType{given},
			check: wantGiven(hall.GradeSatisfied, hall.PadTablet)},
		{name: "差评 with reasons", mod: withRatings, setup: servedOpen,
			cmd:   rate("w1", hall.GradeVeryDissatisfied, hall.PadTablet, "attitude", "waiting"),
			check: wantGiven(hall.GradeVeryDissatisfied, hall.PadTablet, "attitude", "waiting")},
		{name: "差评 without a reason is refused", mod: withRatings, setup: servedOpen,
			cmd: rate("w1", hall.GradeDissatisfied, hall.PadTablet), err: hall.ErrInvalid},
		{name: "unknown reason", mod: withRatings, setup: servedOpen,
			cmd: rate("w1", hall.GradeDissatisfied, hall.PadTablet, "rude"), err: hall.ErrInvalid},
		{name: "reason twice", mod: withRatings, setup: servedOpen,
			cmd: rate("w1", hall.GradeDissatisfied, hall.PadTablet, "other", "other"), err: hall.ErrInvalid},
		{name: "unstated only from keys", mod: withRatings, setup: servedOpen,
			cmd: rate("w1", hall.GradeDissatisfied, hall.PadTablet, hall.ReasonUnstated), err: hall.ErrInvalid},
		{name: "reasons with a good grade are refused", mod: withRatings, setup: servedOpen,
			cmd: rate("w1", hall.GradeBasicallySatisfied, hall.PadTablet, "waiting"), err: hall.ErrInvalid},
		{name: "key 差评 without a reason number is unstated", mod: withRatings, setup: servedOpen,
			cmd: keys(hall.GradeDissatisfied, 0), check: wantGiven(hall.GradeDissatisfied, hall.PadKeys, hall.ReasonUnstated)},
		{name: "key 差评 with a reason number", mod: withRatings, setup: servedOpen,
			cmd: keys(hall.GradeVeryDissatisfied, 2), check: wantGiven(hall.GradeVeryDissatisfied, hall.PadKeys, "efficiency")},
		{name: "key reason number out of range", mod: withRatings, setup: servedOpen,
			cmd: keys(hall.GradeVeryDissatisfied, 9), err: hall.ErrInvalid},
		{name: "key number before a good grade is ignored", mod: withRatings, setup: servedOpen,
			cmd: keys(hall.GradeVerySatisfied, 3), check: wantGiven(hall.GradeVerySatisfied, hall.PadKeys)},
		{name: "grade 0", mod: withRatings, setup: servedOpen, cmd: rate("w1", 0, hall.PadTablet), err: hall.ErrInvalid},
		{name: "grade 6", mod: withRatings, setup: servedOpen, cmd: rate("w1", 6, hall.PadKeys), err: hall.ErrInvalid},
		{name: "no pad kind", mod: withRatings, setup: servedOpen, cmd: rate("w1", 1, ""), err: hall.ErrInvalid},
		{name: "window without a request", mod: withRatings, setup: servedOpen,
			cmd: rate("w2", hall.GradeSatisfied, hall.PadKeys), err: hall.ErrNoRating},
		{name: "unknown window", mod: withRatings, setup: servedOpen,
			cmd: rate("w9", hall.GradeSatisfied, hall.PadKeys), err: hall.ErrUnknownWindow},
		{name: "re-rating is refused", mod: withRatings,
			setup: func(f *fixture) { servedOpen(f); f.do(rate("w1", 1, hall.PadKeys)) },
			cmd:   rate("w1", hall.GradeVeryDissatisfied, hall.PadTablet, "other"), err: hall.ErrRatingClosed},
		{name: "re-rating by ID is refused", mod: withRatings,
			setup: func(f *fixture) { servedOpen(f); f.do(rate("w1", 1, hall.PadKeys)) },
			cmd:   hall.Command{Op: hall.OpRate, Window: "w1", Rating: 1, Grade: 2, Source: hall.PadTablet}, err: hall.ErrRatingClosed},
		{name: "by ID at another window", mod: withRatings, setup: servedOpen,
			cmd: hall.Command{Op: hall.OpRate, Window: "w2", Rating: 1, Grade: 2, Source: hall.PadTablet}, err: hall.ErrBadState},
		{name: "by unknown ID", mod: withRatings, setup: servedOpen,
			cmd: hall.Command{Op: hall.OpRate, Window: "w1", Rating: 7, Grade: 2, Source: hall.PadTablet}, err: hall.ErrNoRating},
		{name: "the newest request of the window is rated", mod: withRatings,
			setup: func(f *fixture) { f.open("w1"); served(f, "w1", "a", 0); served(f, "w1", "b", time.Minute) },
			cmd:   rate("w1", hall.GradeSatisfied, hall.PadKeys),
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := lastOf(t, evs, given); e.Number != "B001" || e.Rating != 2 {
					t.Errorf("rated %s (rating %d), want B001 (2)", e.Number, e.Rating)
				}
				if p, ok := f.h.PendingRating("w1"); !ok || p.Number != "A001" {
					t.Errorf("still pending = %+v, %v, want A001", p, ok)
				}
			}},
		{name: "an older request rated by ID", mod: withRatings,
			setup: func(f *fixture) { f.open("w1"); served(f, "w1", "a", 0); served(f, "w1", "b", time.Minute) },
			cmd:   hall.Command{Op: hall.OpRate, Window: "w1", Rating: 1, Grade: 3, Source: hall.PadTablet},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if e := lastOf(t, evs, given); e.Number != "A001" {
					t.Errorf("rated %s, want A001", e.Number)
				}
			}},
		{name: "rated while the window is paused", mod: withRatings,
			setup: func(f *fixture) { servedOpen(f); f.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "午休"}) },
			cmd:   rate("w1", hall.GradeSatisfied, hall.PadTablet), types: []hall.EventType{given}},
		{name: "counted for the staff who served, after they signed out", mod: withRatings,
			setup: func(f *fixture) {
				servedOpen(f)
				f.op(hall.OpCloseWindow, "w1")
				f.do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "relief"})
			},
			cmd: rate("w1", hall.GradeDissatisfied, hall.PadKeys),
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				s := f.h.Stats()
				if e := lastOf(t, evs, given); e.Staff != "staff-w1" {
					t.Errorf("rating staff = %s, want staff-w1", e.Staff)
				}
				if c := s.Staff["staff-w1"]; c == nil || c.Ratings.Bad() != 1 {
					t.Errorf("staff-w1 ratings = %+v, want one 差评", c)
				}
				if c := s.Staff["relief"]; c != nil && c.Ratings != (hall.RatingCounts{}) {
					t.Errorf("relief ratings = %+v, want none", c.Ratings)
				}
			}},
	})
}

func TestRatingTimeout(t *testing.T) {
	tick := hall.Command{Op: hall.OpTick}
	runCases(t, []tcase{
		{name: "open until the deadline", mod: withRatings, setup: servedOpen,
			at: 3*time.Minute - time.Second, cmd: tick, types: []hall.EventType{}},
		{name: "not rated at the deadline", mod: withRatings, setup: servedOpen, at: 3 * time.Minute, cmd: tick,
			types: []hall.EventType{notRated}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				e := evs[0]
				if e.Reason != "timeout" || e.Grade != 0 || e.Rating != 1 || e.Staff != "staff-w1" || e.Number != "A001" {
					t.Errorf("not rated = %+v, want rating 1 of A001 by staff-w1, timeout, no grade", e)
				}
				c := f.h.Stats().Windows["w1"].Ratings
				if c.NotRated != 1 || c.Given() != 0 || c.Satisfied() != 0 {
					t.Errorf("w1 ratings = %+v, want one not rated and nothing satisfied", c)
				}
			}},
		{name: "a late rating is refused", mod: withRatings, setup: servedOpen, at: 4 * time.Minute,
			cmd: rate("w1", hall.GradeVerySatisfied, hall.PadKeys), err: hall.ErrNoRating,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				_, err := f.h.Decide(rate("w1", 1, hall.PadKeys), f.now)
				if !strings.Contains(err.Error(), "timed out") {
					t.Errorf("late rating error = %q, want it to say the request timed out", err)
				}
			}},
		{name: "after the timeout another rating is refused", mod: withRatings,
			setup: func(f *fixture) { servedOpen(f); f.at(4 * time.Minute).do(tick) },
			cmd:   rate("w1", hall.GradeVerySatisfied, hall.PadTablet), err: hall.ErrNoRating},
		{name: "any command closes due requests first", mod: withRatings, setup: servedOpen, at: 5 * time.Minute,
			cmd: issueA(), types: []hall.EventType{notRated, issued}},
		{name: "the day reset closes open requests first", mod: func(c *hall.Config) {
			withRatings(c)
			c.Ratings.Timeout = 24 * time.Hour
		}, setup: func(f *fixture) { servedOpen(f); f.issue("a") }, at: nextDay - 2*time.Hour, cmd: tick,
			types: []hall.EventType{notRated, expired, dayReset},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Reason != "day_reset" {
					t.Errorf("reason = %q, want day_reset", evs[0].Reason)
				}
				if c := f.h.Stats().Windows["w1"].Ratings; c != (hall.RatingCounts{}) {
					t.Errorf("ratings after the reset = %+v, want a fresh day", c)
				}
			}},
		{name: "due and day reset together", mod: withRatings, setup: servedOpen, at: nextDay, cmd: tick,
			types: []hall.EventType{notRated, dayReset}, check: func(t *testing.T, f *fixture, evs []hall.Event) {
				if evs[0].Reason != "timeout" {
					t.Errorf("reason = %q, want timeout", evs[0].Reason)
				}
			}},
	})
}

func TestRatingStatistics(t *testing.T) {
	f := newFixture(t, withRatings)
	f.open("w1", "w2", "w3")
	grades := []struct {
		w     string
		svc   string
		grade hall.Grade // 0: not rated
	}{
		{"w1", "a", hall.GradeVerySatisfied}, {"w1", "a", hall.GradeSatisfied}, {"w1", "b", hall.GradeBasicallySatisfied},
		{"w1", "b", hall.GradeDissatisfied}, {"w1", "a", 0}, {"w2", "a", hall.GradeVeryDissatisfied},
		{"w2", "b", hall.GradeVerySatisfied}, {"w2", "a", 0},
	}
	at := time.Duration(0)
	for _, g := range grades {
		at += 10 * time.Minute
		served(f, g.w, g.svc, at)
		if g.grade != 0 {
			cmd := rate(g.w, g.grade, hall.PadTablet)
			if g.grade.Bad() {
				cmd.Reasons = []string{"attitude"}
			}
			f.do(cmd)
		}
	}
	open := hall.Command{Op: hall.OpIssue, Service: "c"}
	f.at(at + 5*time.Minute).do(open) // closes the last request
	served(f, "w3", "c", at+6*time.Minute)
	s := f.h.Stats()
	cases := []struct {
		name     string
		got      *hall.Counters
		want     hall.RatingCounts
		sat, nrr float64
		bad      int
	}{
		{"window w1", s.Windows["w1"], hall.RatingCounts{Requested: 5, Grades: [5]int{1, 1, 1, 1, 0}, NotRated: 1}, 0.75, 0.2, 1},
		{"window w2", s.Windows["w2"], hall.RatingCounts{Requested: 3, Grades: [5]int{1, 0, 0, 0, 1}, NotRated: 1}, 0.5, 1.0 / 3, 1},
		{"staff of w1", s.Staff["staff-w1"], hall.RatingCounts{Requested: 5, Grades: [5]int{1, 1, 1, 1, 0}, NotRated: 1}, 0.75, 0.2, 1},
		{"service a", s.Services["a"], hall.RatingCounts{Requested: 5, Grades: [5]int{1, 1, 0, 0, 1}, NotRated: 2}, 2.0 / 3, 0.4, 1},
		{"service b", s.Services["b"], hall.RatingCounts{Requested: 3, Grades: [5]int{1, 0, 1, 1, 0}, NotRated: 0}, 2.0 / 3, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got == nil {
				t.Fatal("no counters")
			}
			r := c.got.Ratings
			if r != c.want {
				t.Errorf("Ratings = %+v, want %+v", r, c.want)
			}
			if got, ok := r.SatisfactionRate(); !ok || !near(got, c.sat) {
				t.Errorf("SatisfactionRate() = %v, %v, want %v", got, ok, c.sat)
			}
			if got, ok := r.NotRatedRate(); !ok || !near(got, c.nrr) {
				t.Errorf("NotRatedRate() = %v, %v, want %v", got, ok, c.nrr)
			}
			if r.Bad() != c.bad || r.Pending() != 0 {
				t.Errorf("Bad() = %d, Pending() = %d, want %d, 0", r.Bad(), r.Pending(), c.bad)
			}
		})
	}
	t.Run("open request", func(t *testing.T) {
		r := s.Windows["w3"].Ratings
		if r.Pending() != 1 || r.Requested != 1 {
			t.Errorf("w3 ratings = %+v, want one open request", r)
		}
		if rate, ok := r.SatisfactionRate(); ok {
			t.Errorf("SatisfactionRate() with nothing rated = %v, true, want false", rate)
		}
		if rate, ok := r.NotRatedRate(); !ok || rate != 0 {
			t.Errorf("NotRatedRate() with one open request = %v, %v, want 0, true", rate, ok)
		}
	})
	t.Run("no requests", func(t *testing.T) {
		var r hall.RatingCounts
		if _, ok := r.NotRatedRate(); ok {
			t.Error("NotRatedRate() without requests is ok")
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestRatingReplayAndRestore(t *testing.T) {
	f := newFixture(t, withRatings)
	f.open("w1", "w2", "w3")
	served(f, "w1", "a", 0)
	f.do(rate("w1", hall.GradeVeryDissatisfied, hall.PadTablet, "process"))
	served(f, "w2", "b", time.Minute)
	f.issue("a")
	f.callNext("w1")
	f.do(hall.Command{Op: hall.OpSetCase, Window: "w1", Case: "Z-9"})
	served(f, "w3", "c", 2*time.Minute)
	f.at(4 * time.Minute).do(hall.Command{Op: hall.OpTick}) // w2's request times out
	if len(f.h.PendingRatings()) != 1 {
		t.Fatalf("pending = %+v, want w3's", f.h.PendingRatings())
	}
	r := replay(t, f.journal)
	if r.Digest() != f.h.Digest() {
		t.Fatal("replayed digest differs")
	}
	if err := sameViews(r, f.h); err != nil {
		t.Fatalf("replay: %v", err)
	}
	snap, err := f.h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if snap[6] != 2 {
		t.Errorf("snapshot version = %d, want 2 (with ratings)", snap[6])
	}
	back, err := hall.Restore(snap)
	if err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	if back.Digest() != f.h.Digest() {
		t.Error("restored digest differs")
	}
	if err := sameViews(back, f.h); err != nil {
		t.Errorf("restore: %v", err)
	}
	again, _ := back.MarshalState()
	if !bytes.Equal(again, snap) {
		t.Error("MarshalState is not canonical after Restore")
	}
	// The restored hall goes on: the case number survived, the open request
	// can be rated.
	rf := &fixture{t: t, h: back, now: f.now}
	if e := lastOf(t, rf.op(hall.OpFinish, "w1"), requested); e.Case != "Z-9" {
		t.Errorf("request after restore has case %q, want Z-9", e.Case)
	}
	rf.do(hall.Command{Op: hall.OpRate, Window: "w3", Grade: 1, Source: hall.PadKeys})

	garbage := []struct {
		name string
		data []byte
	}{
		{"version 2 without the rating section", append([]byte("HALLST\x02"), replaySnap(t)[7:]...)},
		{"rating section truncated", snap[:len(snap)-2]},
	}
	for _, c := range garbage {
		t.Run(c.name, func(t *testing.T) {
			if _, err := hall.Restore(c.data); err == nil {
				t.Errorf("Restore(%s) = nil error", c.name)
			}
		})
	}
}

// replaySnap is a snapshot of a hall that never used ratings.
func replaySnap(t *testing.T) []byte {
	f := newFixture(t, nil)
	f.open("w1")
	served(f, "w1", "a", 0)
	b, err := f.h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if b[6] != 1 {
		t.Fatalf("snapshot version without ratings = %d, want 1", b[6])
	}
	return b
}

func TestApplyRefusesBadRatingEvents(t *testing.T) {
	f := newFixture(t, withRatings)
	servedOpen(f)
	now := f.now
	cases := []struct {
		name string
		e    hall.Event
	}{
		{"given for an unknown request", hall.Event{Type: given, At: now, Rating: 9, Window: "w1", Grade: 1}},
		{"given at another window", hall.Event{Type: given, At: now, Rating: 1, Window: "w2", Grade: 1}},
		{"given without a grade", hall.Event{Type: given, At: now, Rating: 1, Window: "w1"}},
		{"not rated twice", hall.Event{Type: notRated, At: now, Rating: 3, Window: "w1"}},
		{"request reusing an ID", hall.Event{Type: requested, At: now, Rating: 1, Ticket: 1, Number: "A001",
			Service: "a", Window: "w1", Due: now.Add(time.Minute)}},
		{"request due before it", hall.Event{Type: requested, At: now, Rating: 2, Ticket: 1, Number: "A001",
			Service: "a", Window: "w1", Due: now}},
		{"case on an idle window's ticket", hall.Event{Type: caseSet, At: now, Ticket: 1, Window: "w1", Case: "x"}},
		{"empty case", hall.Event{Type: caseSet, At: now, Rating: 1, Window: "w1"}},
		{"day reset with a request open", hall.Event{Type: dayReset, At: now.Add(nextDay), Count: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.h.Digest()
			if err := f.h.Apply(c.e); !errors.Is(err, hall.ErrBadState) {
				t.Errorf("Apply(%v) = %v, want ErrBadState", c.e.Type, err)
			}
			if f.h.Digest() != before {
				t.Errorf("refused Apply changed the state")
			}
		})
	}
}

func TestRatingRulesValidate(t *testing.T) {
	reasons := hall.DefaultRatingRules().Reasons
	cases := []struct {
		name  string
		r     hall.RatingRules
		field string // "" = valid
	}{
		{"default", hall.DefaultRatingRules(), ""},
		{"off", hall.RatingRules{}, ""},
		{"off with reasons kept", hall.RatingRules{Reasons: reasons}, ""},
		{"timeout too short", hall.RatingRules{Timeout: 5 * time.Second, Reasons: reasons}, "ratings.timeout"},
		{"timeout too long", hall.RatingRules{Timeout: 25 * time.Hour, Reasons: reasons}, "ratings.timeout"},
		{"negative timeout", hall.RatingRules{Timeout: -time.Minute, Reasons: reasons}, "ratings.timeout"},
		{"on without reasons", hall.RatingRules{Timeout: time.Minute}, "ratings.reasons"},
		{"bad code", hall.RatingRules{Timeout: time.Minute, Reasons: []hall.Reason{{Code: "Bad Code", Label: "x"}}}, "ratings.reasons[0].code"},
		{"reserved code", hall.RatingRules{Timeout: time.Minute, Reasons: []hall.Reason{{Code: "unstated", Label: "x"}}}, "ratings.reasons[0].code"},
		{"duplicate code", hall.RatingRules{Timeout: time.Minute, Reasons: []hall.Reason{{Code: "a", Label: "x"}, {Code: "a", Label: "y"}}}, "ratings.reasons[1].code"},
		{"no label", hall.RatingRules{Timeout: time.Minute, Reasons: []hall.Reason{{Code: "a", Label: ""}}}, "ratings.reasons[0].label"},
		{"long label", hall.RatingRules{Timeout: time.Minute, Reasons: []hall.Reason{{Code: "a", Label: strings.Repeat("长", 33)}}}, "ratings.reasons[0].label"},
		{"too many", hall.RatingRules{Timeout: time.Minute, Reasons: make([]hall.Reason, 33)}, "ratings.reasons"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Ratings = c.r
			err := cfg.Validate()
			var ce *hall.ConfigError
			switch {
			case c.field == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case c.field != "" && (!errors.As(err, &ce) || ce.Field != c.field):
				t.Errorf("Validate() = %v, want an error at %s", err, c.field)
			}
		})
	}
}

func TestRatingConfigEncoding(t *testing.T) {
	cfg := testConfig()
	withRatings(&cfg)
	b, err := cfg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 2 {
		t.Errorf("config encoding version = %d, want 2 with ratings", b[0])
	}
	var got hall.Config
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary() = %v", err)
	}
	if !reflect.DeepEqual(got.Ratings, cfg.Ratings) {
		t.Errorf("ratings = %+v, want %+v", got.Ratings, cfg.Ratings)
	}
	plain, err := testConfig().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if plain[0] != 1 {
		t.Errorf("config encoding version without ratings = %d, want 1", plain[0])
	}
	bad := append([]byte{2}, plain[1:]...)
	bad = append(bad, 0, 0) // version 2 with empty rating rules
	if err := got.UnmarshalBinary(bad); err == nil {
		t.Error("UnmarshalBinary(version 2 with empty rules) = nil, want an error")
	}
	c := f0(t).h.Config()
	c.Ratings.Reasons[0].Label = "changed"
	if f0(t).h.Config().Ratings.Reasons[0].Label == "changed" {
		t.Error("Config() shares the reasons with the hall")
	}
}

func f0(t *testing.T) *fixture { return newFixture(t, withRatings) }

func TestRatingEventRoundTrip(t *testing.T) {
	due := at.Add(3 * time.Minute)
	evs := []hall.Event{
		{Type: requested, At: at, Rating: 7, Ticket: 12, Number: "A012", Service: "social", Window: "w1",
			Staff: "s7", Case: "2026-SB-0042", Due: due, Source: "window"},
		{Type: given, At: at, Rating: 7, Ticket: 12, Number: "A012", Service: "social", Window: "w1", Staff: "s7",
			Grade: hall.GradeVeryDissatisfied, Reasons: []string{"attitude", "waiting"}, Source: hall.PadTablet},
		{Type: notRated, At: at, Rating: 8, Ticket: 13, Number: "A013", Window: "w1", Reason: "timeout"},
		{Type: caseSet, At: at, Ticket: 13, Window: "w1", Case: "HJ-7"},
	}
	for _, e := range evs {
		t.Run(e.Type.String(), func(t *testing.T) {
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got hall.Event
			if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(got, e) {
				t.Errorf("UnmarshalBinary(MarshalBinary(e)) = %+v, %v, want %+v", got, err, e)
			}
		})
	}
	t.Run("bad grade", func(t *testing.T) {
		if b, err := (hall.Event{Type: given, At: at, Grade: 6}).MarshalBinary(); err == nil {
			t.Errorf("MarshalBinary(grade 6) = %x, want an error", b)
		}
		b, _ := (hall.Event{Type: given, At: at, Grade: 5}).MarshalBinary()
		b[len(b)-1] = 9
		var e hall.Event
		if err := e.UnmarshalBinary(b); err == nil {
			t.Errorf("UnmarshalBinary(grade 9) = %+v, want an error", e)
		}
	})
	t.Run("rating 0 marked present", func(t *testing.T) {
		b, _ := (hall.Event{Type: notRated, At: at, Rating: 1}).MarshalBinary()
		b[len(b)-1] = 0
		var e hall.Event
		if err := e.UnmarshalBinary(b); err == nil {
			t.Errorf("UnmarshalBinary(rating 0) = %+v, want an error", e)
		}
	})
}

// A service ends at window 1, the pad there asks for a rating, and the
// citizen gives a 差评 with its reason; the next request is not rated.
func ExampleHall_rating() {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cfg := hall.Config{
		Services: []hall.ServiceConfig{{ID: "social", Name: "社保医保", Prefix: "A", ServiceTime: 6 * time.Minute}},
		Windows:  []hall.WindowConfig{{ID: "w1", Number: 1, Kind: hall.KindIntake, Services: []string{"social"}}},
		Rules:    hall.DefaultRules(),
		Location: loc,
		Ratings:  hall.DefaultRatingRules(),
	}
	h, _ := hall.New(cfg)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	do := func(cmd hall.Command, d time.Duration) {
		evs, err := h.Do(cmd, now.Add(d))
		if err != nil {
			fmt.Println(err)
		}
		for _, e := range evs {
			switch e.Type {
			case hall.EvRatingRequested:
				fmt.Printf("%v %d: %s at %s, staff %s, due %s\n", e.Type, e.Rating, e.Number, e.Window, e.Staff,
					e.Due.In(loc).Format("15:04"))
			case hall.EvRatingGiven:
				fmt.Printf("%v %d: %s %v\n", e.Type, e.Rating, e.Grade.Label(), e.Reasons)
			case hall.EvRatingNotRated:
				fmt.Printf("%v %d: %s\n", e.Type, e.Rating, e.Reason)
			case hall.EvTicketIssued, hall.EvTicketCalled, hall.EvTicketFinished:
				fmt.Println(e.Type, e.Number)
			}
		}
	}
	do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "0731"}, 0)
	do(hall.Command{Op: hall.OpIssue, Service: "social"}, 0)
	do(hall.Command{Op: hall.OpIssue, Service: "social"}, 0)
	do(hall.Command{Op: hall.OpCallNext, Window: "w1"}, time.Minute)
	do(hall.Command{Op: hall.OpFinish, Window: "w1"}, 5*time.Minute)
	do(hall.Command{Op: hall.OpCallNext, Window: "w1"}, 6*time.Minute)
	do(hall.Command{Op: hall.OpFinish, Window: "w1"}, 7*time.Minute)
	// The first citizen rates on the tablet, which names the request.
	do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: hall.GradeDissatisfied, Reasons: []string{"waiting"},
		Source: hall.PadTablet, Rating: 1}, 7*time.Minute+30*time.Second)
	do(hall.Command{Op: hall.OpTick}, 20*time.Minute)
	c := h.Stats().Windows["w1"].Ratings
	rate, _ := c.NotRatedRate()
	fmt.Printf("requested %d, 差评 %d, not rated %.0f%%\n", c.Requested, c.Bad(), rate*100)
	// Output:
	// ticket_issued A001
	// ticket_issued A002
	// ticket_called A001
	// ticket_finished A001
	// rating_requested 1: A001 at w1, staff 0731, due 09:08
	// ticket_called A002
	// ticket_finished A002
	// rating_requested 2: A002 at w1, staff 0731, due 09:10
	// rating_given 1: 不满意 [waiting]
	// rating_not_rated 2: timeout
	// requested 2, 差评 1, not rated 50%
}
