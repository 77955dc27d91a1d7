package hall_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/hall"
)

const powerReason = "市电中断，UPS 电量低，系统即将停机维护"

func suspendCmd(reason string) hall.Command {
	return hall.Command{Op: hall.OpSuspendIssuing, Reason: reason, Source: "power"}
}

var resumeCmd = hall.Command{Op: hall.OpResumeIssuing, Source: "power"}

func withAppointment(f *fixture) {
	f.do(hall.Command{Op: hall.OpLoadAppointments, Appointments: []hall.Appointment{
		{ID: "ap1", Service: "a", Start: base, End: base.Add(30 * time.Minute), HolderHash: "h1"}}})
}

func TestSuspendIssuing(t *testing.T) {
	suspended := func(t *testing.T, f *fixture, want bool) {
		t.Helper()
		if got := f.h.Issuing().Suspended; got != want {
			t.Errorf("Issuing().Suspended = %v, want %v", got, want)
		}
	}
	runCases(t, []tcase{
		{name: "suspend", cmd: suspendCmd(powerReason), types: []hall.EventType{hall.EvIssuingSuspended},
			check: func(t *testing.T, f *fixture, evs []hall.Event) {
				want := hall.IssuingView{Suspended: true, Reason: powerReason, Source: "power", Since: base.UTC()}
				if got := f.h.Issuing(); got != want {
					t.Errorf("Issuing() = %+v, want %+v", got, want)
				}
				if evs[0].Reason != powerReason || evs[0].Source != "power" {
					t.Errorf("event = %+v, want reason and source", evs[0])
				}
			}},
		{name: "issue refused while suspended", setup: func(f *fixture) { f.do(suspendCmd(powerReason)) },
			cmd: hall.Command{Op: hall.OpIssue, Service: "a"}, err: hall.ErrIssuingSuspended,
			check: func(t *testing.T, f *fixture, _ []hall.Event) { suspended(t, f, true) }},
		{name: "refusal names the reason", setup: func(f *fixture) { f.do(suspendCmd(powerReason)) },
			cmd: hall.Command{Op: hall.OpIssue, Service: "zz"}, err: hall.ErrIssuingSuspended,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				_, err := f.h.Decide(hall.Command{Op: hall.OpIssue, Service: "a"}, f.now)
				if err == nil || !strings.Contains(err.Error(), powerReason) {
					t.Errorf("Decide(issue) error = %v, want the reason in it", err)
				}
			}},
		{name: "check-in refused while suspended",
			setup: func(f *fixture) { withAppointment(f); f.do(suspendCmd(powerReason)) },
			cmd:   hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"}, err: hall.ErrIssuingSuspended},
		{name: "windows keep calling issued tickets",
			setup: func(f *fixture) { f.open("w1"); f.issue("a"); f.do(suspendCmd(powerReason)) },
			cmd:   hall.Command{Op: hall.OpCallNext, Window: "w1"}, types: []hall.EventType{hall.EvTicketCalled}},
		{name: "suspend twice", setup: func(f *fixture) { f.do(suspendCmd(powerReason)) },
			cmd: suspendCmd("again"), err: hall.ErrBadState,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if got := f.h.Issuing().Reason; got != powerReason {
					t.Errorf("Issuing().Reason = %q, want %q", got, powerReason)
				}
			}},
		{name: "resume when not suspended", cmd: resumeCmd, err: hall.ErrBadState},
		{name: "suspend without reason", cmd: suspendCmd(""), err: hall.ErrInvalid},
		{name: "suspend reason too long", cmd: suspendCmd(strings.Repeat("停", hall.MaxSuspendReason+1)), err: hall.ErrInvalid},
		{name: "suspend reason not UTF-8", cmd: suspendCmd("\xff\xfe"), err: hall.ErrInvalid},
		{name: "resume", setup: func(f *fixture) { f.do(suspendCmd(powerReason)) },
			cmd: resumeCmd, types: []hall.EventType{hall.EvIssuingResumed},
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				if got := f.h.Issuing(); got != (hall.IssuingView{}) {
					t.Errorf("Issuing() = %+v, want the zero view", got)
				}
			}},
		{name: "issue after resume",
			setup: func(f *fixture) { f.do(suspendCmd(powerReason)); f.do(resumeCmd) },
			cmd:   hall.Command{Op: hall.OpIssue, Service: "a"}, types: []hall.EventType{hall.EvTicketIssued}},
		{name: "check-in after resume",
			setup: func(f *fixture) { withAppointment(f); f.do(suspendCmd(powerReason)); f.do(resumeCmd) },
			cmd:   hall.Command{Op: hall.OpCheckIn, Appointment: "ap1"}, types: []hall.EventType{hall.EvTicketIssued}},
		{name: "suspension outlives the day reset", setup: func(f *fixture) { f.do(suspendCmd(powerReason)) },
			at: 24 * time.Hour, cmd: hall.Command{Op: hall.OpIssue, Service: "a"}, err: hall.ErrIssuingSuspended,
			check: func(t *testing.T, f *fixture, _ []hall.Event) {
				// The refused command's day reset was not applied either;
				// a tick applies it and the hall stays suspended.
				f.do(hall.Command{Op: hall.OpTick})
				if day, _ := f.h.Day(); day != 2 {
					t.Fatalf("Day() = %d, want 2", day)
				}
				suspended(t, f, true)
			}},
	})
}

// TestSuspendSurvivesRestart checks that a suspension comes back from the
// journal replay and from a snapshot, with and without ratings in the
// state.
func TestSuspendSurvivesRestart(t *testing.T) {
	tests := []struct {
		name    string
		ratings bool
		resume  bool
	}{
		{"suspended", false, false},
		{"suspended with ratings", true, false},
		{"resumed", false, true},
		{"resumed with ratings", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *hall.Config) {
				if tt.ratings {
					c.Ratings = hall.DefaultRatingRules()
				}
			})
			f.open("w1")
			f.issue("a")
			f.callNext("w1")
			f.op(hall.OpFinish, "w1") // a rating request when ratings are on
			f.issue("b")
			f.do(suspendCmd(powerReason))
			if tt.resume {
				f.do(resumeCmd)
			}
			want := f.h.Issuing()

			replay, err := hall.New(hall.Config{})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range f.journal {
				if err := replay.Apply(e); err != nil {
					t.Fatalf("replay Apply(%v) = %v", e.Type, err)
				}
			}
			if got := replay.Issuing(); got != want {
				t.Errorf("replayed Issuing() = %+v, want %+v", got, want)
			}
			if replay.Digest() != f.h.Digest() {
				t.Error("replayed digest differs")
			}
			snap, err := f.h.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			restored, err := hall.Restore(snap)
			if err != nil {
				t.Fatalf("Restore(MarshalState()) = %v", err)
			}
			if got := restored.Issuing(); got != want {
				t.Errorf("restored Issuing() = %+v, want %+v", got, want)
			}
			again, err := restored.MarshalState()
			if err != nil || !bytes.Equal(again, snap) {
				t.Errorf("MarshalState(Restore(s)) differs from s (err %v)", err)
			}
			_, err = restored.Decide(hall.Command{Op: hall.OpIssue, Service: "a"}, f.now)
			if gotRefused := errors.Is(err, hall.ErrIssuingSuspended); gotRefused != want.Suspended {
				t.Errorf("issue after restore: error %v, want refused = %v", err, want.Suspended)
			}
		})
	}
}

// TestSuspendEncodingUnchangedWhenResumed checks that a suspension that
// has ended leaves no trace in the snapshot: the bytes equal those of a hall
// that never suspended, so older snapshots keep their encoding.
func TestSuspendEncodingUnchangedWhenResumed(t *testing.T) {
	for _, ratings := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "ratings"}[ratings]
		t.Run(name, func(t *testing.T) {
			mod := func(c *hall.Config) {
				if ratings {
					c.Ratings = hall.DefaultRatingRules()
				}
			}
			a, b := newFixture(t, mod), newFixture(t, mod)
			for _, f := range []*fixture{a, b} {
				f.open("w1")
				f.issue("a")
				f.callNext("w1")
				f.op(hall.OpFinish, "w1")
			}
			b.do(suspendCmd(powerReason))
			b.do(resumeCmd)
			sa, err := a.h.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			sb, err := b.h.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sa, sb) {
				t.Errorf("MarshalState after suspend+resume differs from a hall that never suspended")
			}
		})
	}
}

func TestRestoreRejectsBadSuspension(t *testing.T) {
	f := newFixture(t, nil)
	f.do(suspendCmd("x"))
	good, err := f.h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	// The suspension section is last: mask byte, reason "x", source
	// "power", time. Locate the mask byte from the end.
	tail := 1 + 2 + 1 + len("power")
	timeLen := len(good) - bytes.LastIndex(good, []byte("power")) - len("power")
	maskAt := len(good) - timeLen - tail
	if good[maskAt] != 2 {
		t.Fatalf("mask byte at %d = %d, want 2 (suspension only)", maskAt, good[maskAt])
	}
	tests := []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"unknown section bit", func(b []byte) []byte { b[maskAt] |= 0x80; return b }},
		{"version 3 without the suspension", func(b []byte) []byte { b[maskAt] = 0; return b }},
		{"ratings bit without ratings", func(b []byte) []byte { b[maskAt] = 3; return b }},
		{"empty reason", func(b []byte) []byte {
			return append(append(b[:maskAt+1:maskAt+1], 0), b[maskAt+3:]...)
		}},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.edit(bytes.Clone(good))
			if _, err := hall.Restore(b); err == nil {
				t.Errorf("Restore(%s) = nil error, want one", tt.name)
			}
		})
	}
	if _, err := hall.Restore(good); err != nil {
		t.Fatalf("Restore(good) = %v", err)
	}
}

func TestEventTypeValuesStableSuspend(t *testing.T) {
	cases := []struct {
		e    hall.EventType
		want int
		name string
	}{
		{hall.EvIssuingSuspended, 27, "issuing_suspended"},
		{hall.EvIssuingResumed, 28, "issuing_resumed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if int(c.e) != c.want || c.e.String() != c.name {
				t.Errorf("%v = %d %q, want %d %q", c.e, c.e, c.e.String(), c.want, c.name)
			}
		})
	}
	ops := []struct {
		op   hall.Op
		want string
	}{{hall.OpSuspendIssuing, "suspend_issuing"}, {hall.OpResumeIssuing, "resume_issuing"}}
	for _, o := range ops {
		if o.op.String() != o.want {
			t.Errorf("Op(%d).String() = %q, want %q", o.op, o.op.String(), o.want)
		}
	}
}

func TestApplySuspendRefusals(t *testing.T) {
	tests := []struct {
		name string
		pre  []hall.Event
		e    hall.Event
	}{
		{"resume when running", nil, hall.Event{Type: hall.EvIssuingResumed, At: base}},
		{"suspend twice", []hall.Event{{Type: hall.EvIssuingSuspended, At: base, Reason: "a"}},
			hall.Event{Type: hall.EvIssuingSuspended, At: base, Reason: "b"}},
		{"suspend without reason", nil, hall.Event{Type: hall.EvIssuingSuspended, At: base}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			for _, e := range tt.pre {
				if err := f.h.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			before := f.h.Digest()
			if err := f.h.Apply(tt.e); !errors.Is(err, hall.ErrBadState) {
				t.Errorf("Apply(%v) = %v, want ErrBadState", tt.e.Type, err)
			}
			if f.h.Digest() != before {
				t.Error("refused Apply changed the state")
			}
		})
	}
}
