package hall_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"hallgw/hall"
)

var codes = []error{hall.ErrUnknownWindow, hall.ErrUnknownService, hall.ErrUnknownTicket, hall.ErrWindowClosed,
	hall.ErrWindowPaused, hall.ErrWindowBusy, hall.ErrNoCurrent, hall.ErrQueueEmpty, hall.ErrDailyCap,
	hall.ErrRecallLimit, hall.ErrRecallTooSoon, hall.ErrBadState, hall.ErrUnknownAppointment,
	hall.ErrAppointmentEarly, hall.ErrAppointmentLate, hall.ErrReactivateExpired, hall.ErrInvalid,
	hall.ErrNoRating, hall.ErrRatingClosed, hall.ErrIssuingSuspended}

// propConfigs are the configurations the property test switches between:
// the test hall with ratings, one with carry-over, turn-near and tight
// rules and no ratings, one without service c and window w3, one with an
// extra service and window and a short rating timeout.
func propConfigs() []hall.Config {
	plain := testConfig()
	plain.Services[0].DailyCap = 6
	plain.Ratings = hall.DefaultRatingRules()
	tight := testConfig()
	tight.Rules = hall.Rules{ResetAt: 13 * time.Hour, NumberWidth: 2, PriorityRatio: 1, ElderlyAge: 60,
		RecallMax: 1, TurnNearAhead: 2, AppointmentEarly: time.Hour, AppointmentLate: 0,
		ReactivateWithin: 0, EWMAWeight: 100, CarryOver: true}
	small := testConfig()
	small.Services = small.Services[:2]
	small.Windows = small.Windows[:2]
	small.Rules.TurnNearAhead = 1
	big := testConfig()
	big.Services = append(big.Services, hall.ServiceConfig{ID: "d", Name: "税务", Prefix: "D", DailyCap: 3, ServiceTime: time.Minute})
	big.Windows = append(big.Windows, hall.WindowConfig{ID: "w4", Number: 4, Kind: hall.KindCrossRegion, Services: []string{"d", "c", "a"}})
	big.Rules.CarryOver = true
	big.Ratings = hall.RatingRules{Timeout: 40 * time.Second, Reasons: hall.DefaultRatingRules().Reasons[:3]}
	return []hall.Config{plain, tight, small, big}
}

var (
	propWindows  = []string{"w1", "w2", "w3", "w4", "w1", "w2", "w9", ""}
	propServices = []string{"a", "b", "c", "d", "a", "zz"}
	propOps      = []hall.Op{
		hall.OpIssue, hall.OpIssue, hall.OpIssue, hall.OpIssue, hall.OpCheckIn, hall.OpCallNext, hall.OpCallNext,
		hall.OpCallNext, hall.OpCall, hall.OpRecall, hall.OpStart, hall.OpStart, hall.OpSkip, hall.OpReactivate,
		hall.OpTransfer, hall.OpHold, hall.OpResume, hall.OpPause, hall.OpUnpause, hall.OpFinish, hall.OpFinish,
		hall.OpFinish, hall.OpOpenWindow, hall.OpOpenWindow, hall.OpCloseWindow, hall.OpSetPriority,
		hall.OpLoadAppointments, hall.OpApplyConfig, hall.OpTick, hall.Op(0), hall.Op(77),
		hall.OpRate, hall.OpRate, hall.OpSetCase, hall.OpSuspendIssuing, hall.OpResumeIssuing,
	}
	propReasons = [][]string{nil, {"attitude"}, {"efficiency", "other"}, {"unstated"}, {"nope"},
		{"attitude", "attitude"}, {"waiting"}}
	propSources = []string{"", hall.PadKeys, hall.PadTablet, hall.PadTablet}
)

// drawGoodRate draws a well-formed OpRate at window w: what a pad sends.
func drawGoodRate(t *rapid.T, w string) hall.Command {
	cmd := hall.Command{Op: hall.OpRate, Window: w, Grade: hall.Grade(rapid.IntRange(1, 5).Draw(t, "good_grade")),
		Source: rapid.SampledFrom([]string{hall.PadKeys, hall.PadTablet}).Draw(t, "good_pad")}
	if cmd.Grade.Bad() {
		if cmd.Source == hall.PadKeys {
			cmd.ReasonNumber = rapid.IntRange(0, 3).Draw(t, "good_reason_n")
		} else {
			cmd.Reasons = []string{rapid.SampledFrom([]string{"attitude", "efficiency", "not_informed"}).Draw(t, "good_reason")}
		}
	}
	return cmd
}

// drawRate draws OpRate at window w, often malformed.
func drawRate(t *rapid.T, h *hall.Hall, w string) hall.Command {
	cmd := hall.Command{Op: hall.OpRate, Window: w,
		Grade:  hall.Grade(rapid.IntRange(0, 6).Draw(t, "grade")),
		Source: rapid.SampledFrom(propSources).Draw(t, "pad")}
	if cmd.Grade.Bad() || rapid.IntRange(0, 5).Draw(t, "stray_reasons") == 0 {
		cmd.Reasons = rapid.SampledFrom(propReasons).Draw(t, "reasons")
	}
	if rapid.IntRange(0, 3).Draw(t, "reason_number") == 0 {
		cmd.ReasonNumber = rapid.IntRange(-1, 9).Draw(t, "reason_n")
	}
	if pend := h.PendingRatings(); len(pend) > 0 && rapid.IntRange(0, 3).Draw(t, "by_id") == 0 {
		cmd.Rating = rapid.SampledFrom(pend).Draw(t, "rating").ID
	} else if rapid.IntRange(0, 9).Draw(t, "stale_id") == 0 {
		cmd.Rating = hall.RatingID(rapid.IntRange(1, 20).Draw(t, "rating_raw"))
	}
	return cmd
}

// drawTicket picks an existing ticket (any state), 0 or an unknown ID.
func drawTicket(t *rapid.T, h *hall.Hall) hall.TicketID {
	all := h.Tickets()
	if len(all) == 0 || rapid.IntRange(0, 9).Draw(t, "ticket_kind") == 0 {
		return hall.TicketID(rapid.SampledFrom([]uint64{0, 1, 999}).Draw(t, "ticket_raw"))
	}
	return rapid.SampledFrom(all).Draw(t, "ticket").ID
}

// drawLikely draws a command that fits the state of a window most of the
// time, so that long flows (call, hold, resume, transfer and return,
// skip and reactivate, check-in) happen often.
func drawLikely(t *rapid.T, h *hall.Hall) (hall.Command, bool) {
	wins := h.Windows()
	if len(wins) == 0 {
		return hall.Command{}, false
	}
	if pend := h.PendingRatings(); len(pend) > 0 && rapid.IntRange(0, 2).Draw(t, "likely_rate") == 0 {
		return drawGoodRate(t, rapid.SampledFrom(pend).Draw(t, "likely_pending").Window), true
	}
	w := rapid.SampledFrom(wins).Draw(t, "likely_window")
	cmd := hall.Command{Window: w.ID, Source: "window"}
	pickTicket := func(label string, ok func(v hall.TicketView) bool) hall.TicketID {
		var ids []hall.TicketID
		for _, v := range h.Tickets() {
			if ok(v) {
				ids = append(ids, v.ID)
			}
		}
		if len(ids) == 0 {
			return 0
		}
		return rapid.SampledFrom(ids).Draw(t, label)
	}
	switch {
	case w.State == hall.Closed:
		cmd.Op, cmd.Staff = hall.OpOpenWindow, rapid.SampledFrom([]string{"s1", "s2", "s3"}).Draw(t, "likely_staff")
	case w.State == hall.Paused:
		cmd.Op = hall.OpUnpause
	case w.Current == 0:
		switch rapid.IntRange(0, 9).Draw(t, "idle_op") {
		case 0:
			cmd.Op, cmd.Ticket = hall.OpResume, pickTicket("held", func(v hall.TicketView) bool { return v.State == hall.Held && v.Window == w.ID })
		case 1:
			cmd.Op, cmd.Ticket = hall.OpReactivate, pickTicket("no_show", func(v hall.TicketView) bool { return v.State == hall.NoShow })
		case 2:
			cmd.Op, cmd.Ticket = hall.OpCall, pickTicket("waiting", func(v hall.TicketView) bool {
				return v.State == hall.Waiting && (v.Window == w.ID || v.Window == "" && slices.Contains(w.Services, v.Service))
			})
		case 3:
			list, tickets := h.Appointments()
			i := slices.Index(tickets, 0)
			if i < 0 {
				return hall.Command{}, false
			}
			cmd = hall.Command{Op: hall.OpCheckIn, Appointment: list[i].ID, Source: "kiosk"}
		case 7, 8:
			if _, ok := h.PendingRating(w.ID); ok {
				cmd = drawGoodRate(t, w.ID)
			} else {
				cmd.Op = hall.OpCallNext
			}
		case 4:
			if rapid.Bool().Draw(t, "pause_or_close") {
				cmd.Op, cmd.Reason = hall.OpPause, "break"
			} else {
				cmd.Op = hall.OpCloseWindow
			}
		default:
			cmd.Op = hall.OpCallNext
		}
	default:
		cur, _ := h.Ticket(w.Current)
		switch rapid.IntRange(0, 9).Draw(t, "current_op") {
		case 0:
			cmd.Op = hall.OpRecall
		case 1:
			cmd.Op = hall.OpSkip
		case 2:
			cmd.Op = hall.OpHold
		case 3:
			cmd.Op, cmd.Return = hall.OpTransfer, rapid.Bool().Draw(t, "likely_return")
			if rapid.Bool().Draw(t, "to_window") {
				cmd.ToWindow = rapid.SampledFrom(wins).Draw(t, "likely_to_window").ID
			} else {
				svcs := h.Services()
				cmd.ToService = rapid.SampledFrom(svcs).Draw(t, "likely_to_service").ID
			}
		case 7:
			if _, ok := h.PendingRating(w.ID); ok {
				return drawGoodRate(t, w.ID), true
			}
			cmd.Op = hall.OpFinish
		case 6:
			cmd.Op, cmd.Case = hall.OpSetCase, rapid.SampledFrom([]string{"2026-SB-0001", "2026-HJ-0420"}).Draw(t, "likely_case")
		case 4, 5:
			if cur.State == hall.Called {
				cmd.Op = hall.OpStart
			} else {
				cmd.Op = hall.OpFinish
			}
		default:
			cmd.Op = hall.OpFinish
		}
	}
	return cmd, true
}

func drawCommand(t *rapid.T, h *hall.Hall, now time.Time, cfgs []hall.Config) hall.Command {
	if h.Issuing().Suspended && rapid.IntRange(0, 5).Draw(t, "power_back") == 0 {
		return hall.Command{Op: hall.OpResumeIssuing, Source: "power"}
	}
	if rapid.IntRange(0, 9).Draw(t, "likely") < 6 {
		if cmd, ok := drawLikely(t, h); ok {
			return cmd
		}
	}
	cmd := hall.Command{
		Op:     rapid.SampledFrom(propOps).Draw(t, "op"),
		Window: rapid.SampledFrom(propWindows).Draw(t, "window"),
		Source: rapid.SampledFrom([]string{"", "kiosk", "window", "sim"}).Draw(t, "source"),
	}
	switch cmd.Op {
	case hall.OpIssue:
		cmd.Service = rapid.SampledFrom(propServices).Draw(t, "service")
		switch rapid.IntRange(0, 5).Draw(t, "issue_kind") {
		case 0:
			cmd.Priority, cmd.GreenReason = hall.Green, rapid.SampledFrom([]string{"", "disabled"}).Draw(t, "reason")
		case 1:
			cmd.BirthDate = time.Date(rapid.IntRange(1940, 2010).Draw(t, "birth_year"), 3, 2, 0, 0, 0, 0, time.UTC)
		case 2:
			cmd.Personal = []byte(rapid.StringN(0, 8, -1).Draw(t, "personal"))
		case 3:
			cmd.Priority = hall.Priority(rapid.IntRange(0, 4).Draw(t, "priority"))
		}
	case hall.OpCheckIn:
		if rapid.Bool().Draw(t, "by_id") {
			cmd.Appointment = rapid.SampledFrom([]string{"ap0", "ap1", "ap2", "ap3", "nope"}).Draw(t, "appointment")
		} else {
			cmd.HolderHash = rapid.SampledFrom([]string{"h0", "h1", "h9", ""}).Draw(t, "holder")
		}
	case hall.OpCall, hall.OpReactivate, hall.OpResume, hall.OpSetPriority:
		cmd.Ticket = drawTicket(t, h)
		cmd.Priority = hall.Priority(rapid.IntRange(0, 2).Draw(t, "priority"))
	case hall.OpRecall, hall.OpStart, hall.OpSkip, hall.OpHold, hall.OpFinish:
		if rapid.IntRange(0, 5).Draw(t, "name_ticket") == 0 {
			cmd.Ticket = drawTicket(t, h)
		}
	case hall.OpTransfer:
		switch rapid.IntRange(0, 3).Draw(t, "transfer_kind") {
		case 0:
			cmd.ToService = rapid.SampledFrom(propServices).Draw(t, "to_service")
		case 1:
			cmd.ToWindow = rapid.SampledFrom(propWindows).Draw(t, "to_window")
		case 2:
			cmd.ToService, cmd.ToWindow = "a", "w1"
		}
		cmd.Return = rapid.Bool().Draw(t, "return")
	case hall.OpPause:
		cmd.Reason = rapid.SampledFrom([]string{"", "break", "午休"}).Draw(t, "pause_reason")
	case hall.OpOpenWindow:
		cmd.Staff = rapid.SampledFrom([]string{"", "s1", "s2", "s3"}).Draw(t, "staff")
	case hall.OpLoadAppointments:
		n := rapid.IntRange(0, 4).Draw(t, "appointments")
		bad := rapid.IntRange(0, 4).Draw(t, "bad_appointments") == 0
		for i := 0; i < n; i++ {
			start := now.Add(time.Duration(rapid.IntRange(-90, 60).Draw(t, "slot_min")) * time.Minute)
			a := hall.Appointment{ID: fmt.Sprintf("ap%d", i), Service: rapid.SampledFrom([]string{"a", "b"}).Draw(t, "appt_service"),
				Start: start, End: start.Add(30 * time.Minute), HolderHash: rapid.SampledFrom([]string{"h0", "h1"}).Draw(t, "appt_holder")}
			if bad {
				a.ID = rapid.SampledFrom([]string{"ap0", "ap1", ""}).Draw(t, "appt_id")
				a.Service = rapid.SampledFrom(propServices).Draw(t, "appt_bad_service")
				a.End = start.Add(time.Duration(rapid.IntRange(-5, 60).Draw(t, "slot_len")) * time.Minute)
			}
			cmd.Appointments = append(cmd.Appointments, a)
		}
	case hall.OpRate:
		return drawRate(t, h, cmd.Window)
	case hall.OpSuspendIssuing:
		cmd.Reason = rapid.SampledFrom([]string{"", "市电中断，系统即将停机维护", "x", strings.Repeat("停", hall.MaxSuspendReason+1)}).Draw(t, "suspend_reason")
	case hall.OpSetCase:
		cmd.Case = rapid.SampledFrom([]string{"", "C-1", "has space", strings.Repeat("9", hall.MaxCaseLen+1)}).Draw(t, "case")
	case hall.OpApplyConfig:
		if rapid.IntRange(0, 9).Draw(t, "bad_config") > 0 {
			c := rapid.SampledFrom(cfgs).Draw(t, "config")
			cmd.Config = &c
		} else {
			cmd.Config = &hall.Config{Rules: hall.Rules{NumberWidth: 3}}
		}
	}
	return cmd
}

// checkViews verifies the invariants through the public views.
//
// notified is rebuilt from the journal: whether a ticket got EvTurnNear
// since it last entered a queue.
func checkViews(t *rapid.T, h *hall.Hall, notified map[hall.TicketID]bool) {
	if err := h.Check(); err != nil {
		t.Fatalf("Check() = %v", err)
	}
	tickets := h.Tickets()
	byID := map[hall.TicketID]hall.TicketView{}
	numbers := map[string]bool{}
	day, _ := h.Day()
	today := 0
	for _, v := range tickets {
		byID[v.ID] = v
		if numbers[v.Number] {
			t.Fatalf("number %s used twice", v.Number)
		}
		numbers[v.Number] = true
		if v.Day == day {
			today++
		}
	}
	issued := 0
	for _, c := range h.Stats().Services {
		issued += c.Issued
	}
	if issued != today {
		t.Fatalf("issued today %d, but %d tickets of today (waiting+called+serving+held+no-show+finished+expired)", issued, today)
	}
	current := map[hall.TicketID]string{}
	placed := map[hall.TicketID]int{}
	for _, w := range h.Windows() {
		if w.Current != 0 {
			if other, dup := current[w.Current]; dup {
				t.Fatalf("ticket %d current at %s and %s", w.Current, other, w.ID)
			}
			current[w.Current] = w.ID
			v := byID[w.Current]
			if (v.State != hall.Called && v.State != hall.Serving) || v.Window != w.ID || w.CurrentNumber != v.Number {
				t.Fatalf("window %s current %d is %v at %q", w.ID, w.Current, v.State, v.Window)
			}
			if w.State != hall.Open {
				t.Fatalf("window %s is %v with a current ticket", w.ID, w.State)
			}
		}
		for _, id := range w.Held {
			if v := byID[id]; v.State != hall.Held || v.Window != w.ID {
				t.Fatalf("window %s holds %d which is %v at %q", w.ID, id, v.State, v.Window)
			}
			placed[id]++
		}
		for i, id := range w.Addressed {
			if v := byID[id]; v.State != hall.Waiting || v.Window != w.ID || v.Ahead != i {
				t.Fatalf("window %s addressed %d is %v at %q ahead %d", w.ID, id, v.State, v.Window, v.Ahead)
			}
			placed[id]++
		}
	}
	open := map[string]int{}
	for i, p := range h.PendingRatings() {
		open[p.Window]++
		if !p.Due.After(p.RequestedAt) || p.Staff == "" || p.Number == "" {
			t.Fatalf("pending rating %d = %+v", i, p)
		}
		if v, ok := h.PendingRating(p.Window); !ok || v.ID < p.ID {
			t.Fatalf("PendingRating(%s) = %+v, %v, want the newest, at least %d", p.Window, v, ok, p.ID)
		}
	}
	for id, c := range h.Stats().Windows {
		if got := c.Ratings.Pending(); got != open[id] {
			t.Fatalf("window %s counts %d open ratings, %d pending", id, got, open[id])
		}
	}
	near := h.Config().Rules.TurnNearAhead
	for _, s := range h.Services() {
		q := h.Queue(s.ID)
		if len(q) != s.Waiting {
			t.Fatalf("service %s: queue %d, waiting %d", s.ID, len(q), s.Waiting)
		}
		for i, v := range q {
			if v.State != hall.Waiting || v.Service != s.ID || v.Window != "" || v.Ahead != i {
				t.Fatalf("queue %s[%d] = %s %v %s %q ahead %d", s.ID, i, v.Number, v.State, v.Service, v.Window, v.Ahead)
			}
			if i > 0 && q[i-1].Priority < v.Priority {
				t.Fatalf("queue %s: %v before %v", s.ID, q[i-1].Priority, v.Priority)
			}
			placed[v.ID]++
		}
	}
	for _, v := range tickets {
		switch v.State {
		case hall.Called, hall.Serving:
			if current[v.ID] != v.Window {
				t.Fatalf("ticket %s is %v at %s, which does not have it", v.Number, v.State, v.Window)
			}
		case hall.Waiting, hall.Held:
			if placed[v.ID] != 1 {
				t.Fatalf("ticket %s (%v) is in %d lists", v.Number, v.State, placed[v.ID])
			}
			if v.State == hall.Waiting && near > 0 && v.Ahead <= near && !notified[v.ID] {
				t.Fatalf("ticket %s is %d ahead without a turn-near notice", v.Number, v.Ahead)
			}
			if v.State == hall.Waiting && v.Notified != notified[v.ID] {
				t.Fatalf("ticket %s: Notified = %v, journal says %v", v.Number, v.Notified, notified[v.ID])
			}
		default:
			if placed[v.ID] != 0 || current[v.ID] != "" {
				t.Fatalf("ticket %s is %v but still placed", v.Number, v.State)
			}
		}
	}
}

// sameViews compares everything the public views show of two halls.
func sameViews(a, b *hall.Hall) error {
	ca, _ := a.Config().MarshalBinary()
	cb, _ := b.Config().MarshalBinary()
	da, sa := a.Day()
	db, sb := b.Day()
	switch {
	case string(ca) != string(cb):
		return errors.New("configs differ")
	case da != db || !sa.Equal(sb):
		return fmt.Errorf("day %d %v vs %d %v", da, sa, db, sb)
	case !reflect.DeepEqual(a.Tickets(), b.Tickets()):
		return errors.New("tickets differ")
	case !reflect.DeepEqual(a.Windows(), b.Windows()):
		return errors.New("windows differ")
	case !reflect.DeepEqual(a.Services(), b.Services()):
		return errors.New("services differ")
	case !reflect.DeepEqual(a.Stats(), b.Stats()):
		return errors.New("stats differ")
	}
	la, ta := a.Appointments()
	lb, tb := b.Appointments()
	if !reflect.DeepEqual(la, lb) || !slices.Equal(ta, tb) {
		return errors.New("appointments differ")
	}
	if !reflect.DeepEqual(a.PendingRatings(), b.PendingRatings()) {
		return errors.New("pending ratings differ")
	}
	if a.Issuing() != b.Issuing() {
		return fmt.Errorf("issuing %+v vs %+v", a.Issuing(), b.Issuing())
	}
	return nil
}

func TestPropertyRandomCommands(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfgs := propConfigs()
		h, err := hall.New(hall.Config{})
		if err != nil {
			t.Fatal(err)
		}
		var journal []hall.Event
		notified := map[hall.TicketID]bool{}
		ratings := map[hall.RatingID]string{} // "open" or "closed"
		var lastRating hall.RatingID
		suspended := false // issuing suspended, as the journal says
		now := base.Add(-time.Hour)
		do := func(cmd hall.Command) {
			before := h.Digest()
			evs, err := h.Decide(cmd, now)
			if h.Digest() != before {
				t.Fatalf("Decide(%v) changed the state", cmd.Op)
			}
			issuing := cmd.Op == hall.OpIssue || cmd.Op == hall.OpCheckIn
			if refused := errors.Is(err, hall.ErrIssuingSuspended); refused != (suspended && issuing) {
				t.Fatalf("Decide(%v) error = %v with issuing suspended = %v", cmd.Op, err, suspended)
			}
			if err != nil {
				var he *hall.Error
				if !errors.As(err, &he) || !slices.Contains(codes, he.Code) || strings.HasPrefix(he.Msg, "internal") {
					t.Fatalf("Decide(%v) error = %#v", cmd.Op, err)
				}
				return
			}
			timeout := h.Config().Ratings.Timeout
			for i, e := range evs {
				checkRatingEvent(t, evs, i, timeout, ratings, &lastRating)
				b, err := e.MarshalBinary()
				if err != nil {
					t.Fatalf("%v.MarshalBinary() = %v", e.Type, err)
				}
				var back hall.Event
				if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(back, e) {
					t.Fatalf("%v round trip = %+v, %v, want %+v", e.Type, back, err, e)
				}
				if err := h.Apply(e); err != nil {
					t.Fatalf("Apply(%+v) = %v", e, err)
				}
				switch e.Type {
				case hall.EvIssuingSuspended, hall.EvIssuingResumed:
					if suspended == (e.Type == hall.EvIssuingSuspended) {
						t.Fatalf("%v while suspended = %v", e.Type, suspended)
					}
					suspended = e.Type == hall.EvIssuingSuspended
				}
				if e.Type == hall.EvTicketIssued && suspended {
					t.Fatalf("ticket %s issued while issuing is suspended", e.Number)
				}
				switch e.Type {
				case hall.EvTicketIssued, hall.EvTicketReactivated, hall.EvTicketTransferred, hall.EvTicketReturned:
					notified[e.Ticket] = false
				case hall.EvTurnNear:
					if notified[e.Ticket] {
						t.Fatalf("second turn-near for %s in one queue entry", e.Number)
					}
					notified[e.Ticket] = true
				}
			}
			journal = append(journal, evs...)
			checkViews(t, h, notified)
			if v := h.Issuing(); v.Suspended != suspended || v.Suspended == (v.Reason == "") {
				t.Fatalf("Issuing() = %+v, journal says suspended = %v", v, suspended)
			}
		}
		first := rapid.SampledFrom(cfgs).Draw(t, "first_config")
		do(hall.Command{Op: hall.OpApplyConfig, Config: &first})
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 30).Draw(t, "clock") {
			case 0: // overnight, across the reset
				now = now.Add(time.Duration(rapid.IntRange(6, 40).Draw(t, "hours")) * time.Hour)
			case 1: // the clock steps back a little (NTP)
				now = now.Add(-time.Duration(rapid.IntRange(1, 120).Draw(t, "back")) * time.Second)
			case 2, 3, 4: // quick steps: a citizen at the pad
				now = now.Add(time.Duration(rapid.IntRange(0, 20).Draw(t, "quick")) * time.Second)
			default:
				now = now.Add(time.Duration(rapid.IntRange(0, 240).Draw(t, "seconds")) * time.Second)
			}
			do(drawCommand(t, h, now, cfgs))
		}
		replay, err := hall.New(hall.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range journal {
			if err := replay.Apply(e); err != nil {
				t.Fatalf("replay event %d (%v): %v", i, e.Type, err)
			}
		}
		if replay.Digest() != h.Digest() {
			t.Fatalf("replayed digest differs from the live hall")
		}
		if err := sameViews(replay, h); err != nil {
			t.Fatalf("replay: %v", err)
		}
		snap, err := h.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		restored, err := hall.Restore(snap)
		if err != nil {
			t.Fatalf("Restore(MarshalState()) = %v", err)
		}
		if restored.Digest() != h.Digest() {
			t.Fatalf("restored digest differs")
		}
		if err := sameViews(restored, h); err != nil {
			t.Fatalf("restore: %v", err)
		}
	})
}

// checkRatingEvent checks event i of one decision against the rating rules:
// every service that ends at a window asks for a rating (when ratings are
// on), request IDs grow, each request is closed exactly once, a 差评 has
// reasons and a request not rated carries no grade.
func checkRatingEvent(t *rapid.T, evs []hall.Event, i int, timeout time.Duration, ratings map[hall.RatingID]string, last *hall.RatingID) {
	e := evs[i]
	switch e.Type {
	case hall.EvTicketFinished, hall.EvTicketReturned:
		if timeout > 0 {
			if i+1 >= len(evs) || evs[i+1].Type != hall.EvRatingRequested || evs[i+1].Ticket != e.Ticket || evs[i+1].Window != e.Window {
				t.Fatalf("%v of %s at %s is not followed by its rating request", e.Type, e.Number, e.Window)
			}
		}
	case hall.EvRatingRequested:
		if e.Rating <= *last || ratings[e.Rating] != "" || e.Due.Sub(e.At) != timeout {
			t.Fatalf("request %d (last %d, %q) due in %v, want %v", e.Rating, *last, ratings[e.Rating], e.Due.Sub(e.At), timeout)
		}
		*last = e.Rating
		ratings[e.Rating] = "open"
	case hall.EvRatingGiven, hall.EvRatingNotRated:
		if ratings[e.Rating] != "open" {
			t.Fatalf("%v of rating %d which is %q", e.Type, e.Rating, ratings[e.Rating])
		}
		ratings[e.Rating] = "closed"
		switch {
		case e.Type == hall.EvRatingNotRated && (e.Grade != 0 || e.Reason == ""):
			t.Fatalf("not rated %d with grade %d, reason %q", e.Rating, e.Grade, e.Reason)
		case e.Type == hall.EvRatingGiven && (!e.Grade.Valid() || e.Grade.Bad() != (len(e.Reasons) > 0)):
			t.Fatalf("rating %d grade %d with reasons %v", e.Rating, e.Grade, e.Reasons)
		}
	case hall.EvDayReset:
		for id, st := range ratings {
			if st == "open" {
				t.Fatalf("day reset with rating %d open", id)
			}
		}
	}
}
