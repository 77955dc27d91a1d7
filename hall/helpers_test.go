package hall_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

var shanghai = halltest.Location()

// base is Monday 2 March 2026, 09:00 in the hall; the hall is configured an
// hour earlier.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai)

// testConfig is a small hall: services a (5 min), b (10 min), c (2 min);
// windows w1 and w2 serve a and b, w3 serves c. TurnNear is off so event
// lists stay short unless a test turns it on.
func testConfig() hall.Config {
	r := hall.DefaultRules()
	r.TurnNearAhead = 0
	return hall.Config{
		Services: []hall.ServiceConfig{
			{ID: "a", Name: "社保", Prefix: "A", ServiceTime: 5 * time.Minute},
			{ID: "b", Name: "户籍", Prefix: "B", ServiceTime: 10 * time.Minute},
			{ID: "c", Name: "出件", Prefix: "C", ServiceTime: 2 * time.Minute},
		},
		Windows: []hall.WindowConfig{
			{ID: "w1", Number: 1, Name: "一号", Kind: hall.KindIntake, Services: []string{"a", "b"}},
			{ID: "w2", Number: 2, Name: "二号", Kind: hall.KindIntake, Services: []string{"a", "b"}},
			{ID: "w3", Number: 3, Name: "三号", Kind: hall.KindDelivery, Services: []string{"c"}},
		},
		Rules:    r,
		Location: shanghai,
	}
}

// fixture drives a hall through commands, checking after each one that
// Decide did not mutate, that the state is consistent and that every event
// round-trips the codec. It keeps the journal.
type fixture struct {
	t       testing.TB
	h       *hall.Hall
	now     time.Time
	journal []hall.Event
}

func newFixture(t testing.TB, mod func(*hall.Config)) *fixture {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	h, err := hall.New(hall.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, h: h, now: base.Add(-time.Hour)}
	f.do(hall.Command{Op: hall.OpApplyConfig, Config: &cfg})
	f.now = base
	return f
}

// at sets the clock to base + d.
func (f *fixture) at(d time.Duration) *fixture { f.now = base.Add(d); return f }

// try decides and applies cmd at the fixture's time.
func (f *fixture) try(cmd hall.Command) ([]hall.Event, error) {
	f.t.Helper()
	before := f.h.Digest()
	evs, err := f.h.Decide(cmd, f.now)
	if after := f.h.Digest(); after != before {
		f.t.Fatalf("Decide(%v) changed the state", cmd.Op)
	}
	if err != nil {
		var he *hall.Error
		if !errors.As(err, &he) {
			f.t.Fatalf("Decide(%v) error %v is not a *hall.Error", cmd.Op, err)
		}
		return nil, err
	}
	for _, e := range evs {
		b, err := e.MarshalBinary()
		if err != nil {
			f.t.Fatalf("%v.MarshalBinary() error = %v", e.Type, err)
		}
		var back hall.Event
		if err := back.UnmarshalBinary(b); err != nil {
			f.t.Fatalf("%v.UnmarshalBinary() error = %v", e.Type, err)
		}
		if err := f.h.Apply(back); err != nil {
			f.t.Fatalf("Apply(%v) error = %v", e.Type, err)
		}
	}
	if err := f.h.Check(); err != nil {
		f.t.Fatalf("after %v: Check() = %v", cmd.Op, err)
	}
	f.journal = append(f.journal, evs...)
	return evs, nil
}

// do runs a command that must succeed.
func (f *fixture) do(cmd hall.Command) []hall.Event {
	f.t.Helper()
	evs, err := f.try(cmd)
	if err != nil {
		f.t.Fatalf("Do(%+v) at %v error = %v", cmd, f.now.Format("15:04:05"), err)
	}
	return evs
}

func (f *fixture) open(windows ...string) {
	f.t.Helper()
	for _, w := range windows {
		f.do(hall.Command{Op: hall.OpOpenWindow, Window: w, Staff: "staff-" + w})
	}
}

func (f *fixture) issue(service string) hall.TicketID {
	f.t.Helper()
	return f.issueCmd(hall.Command{Op: hall.OpIssue, Service: service})
}

func (f *fixture) issueCmd(cmd hall.Command) hall.TicketID {
	f.t.Helper()
	for _, e := range f.do(cmd) {
		if e.Type == hall.EvTicketIssued {
			return e.Ticket
		}
	}
	f.t.Fatalf("Do(%+v) issued no ticket", cmd)
	return 0
}

func (f *fixture) green(service string) hall.TicketID {
	f.t.Helper()
	return f.issueCmd(hall.Command{Op: hall.OpIssue, Service: service, Priority: hall.Green, GreenReason: "disabled"})
}

// callNext calls the next ticket at window w and returns its number.
func (f *fixture) callNext(w string) string {
	f.t.Helper()
	for _, e := range f.do(hall.Command{Op: hall.OpCallNext, Window: w}) {
		if e.Type == hall.EvTicketCalled {
			return e.Number
		}
	}
	f.t.Fatalf("call next at %s called nothing", w)
	return ""
}

func (f *fixture) op(op hall.Op, w string) []hall.Event {
	f.t.Helper()
	return f.do(hall.Command{Op: op, Window: w})
}

func (f *fixture) ticket(id hall.TicketID) hall.TicketView {
	f.t.Helper()
	v, ok := f.h.Ticket(id)
	if !ok {
		f.t.Fatalf("Ticket(%d) not found", id)
	}
	return v
}

func (f *fixture) number(n string) hall.TicketView {
	f.t.Helper()
	v, ok := f.h.TicketByNumber(n)
	if !ok {
		f.t.Fatalf("TicketByNumber(%s) not found", n)
	}
	return v
}

func (f *fixture) window(id string) hall.WindowView {
	f.t.Helper()
	v, ok := f.h.Window(id)
	if !ok {
		f.t.Fatalf("Window(%s) not found", id)
	}
	return v
}

func types(evs []hall.Event) []hall.EventType {
	out := make([]hall.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func numbers(vs []hall.TicketView) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Number
	}
	return out
}

// tcase is one case of a rule table: a setup, then cmd at base+at, which
// must fail with err or succeed with events of the given types; check
// inspects the result.
type tcase struct {
	name  string
	mod   func(*hall.Config)
	setup func(f *fixture)
	at    time.Duration
	cmd   hall.Command
	err   error
	types []hall.EventType
	check func(t *testing.T, f *fixture, evs []hall.Event)
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.mod)
			if c.setup != nil {
				c.setup(f)
			}
			if c.at != 0 {
				f.at(c.at)
			}
			before := f.h.Digest()
			evs, err := f.try(c.cmd)
			if !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
				t.Fatalf("Do(%v) error = %v, want %v", c.cmd.Op, err, c.err)
			}
			if err != nil {
				if f.h.Digest() != before {
					t.Errorf("refused Do(%v) changed the state", c.cmd.Op)
				}
				if c.check != nil {
					c.check(t, f, nil)
				}
				return
			}
			if c.types != nil && !slices.Equal(types(evs), c.types) {
				t.Errorf("Do(%v) events = %v, want %v", c.cmd.Op, types(evs), c.types)
			}
			if c.check != nil {
				c.check(t, f, evs)
			}
		})
	}
}

var (
	fuzzOnce  sync.Once
	fuzzState []byte
)

// fuzzHall returns a hall with tickets in every state, restored from a
// snapshot taken once.
func fuzzHall(t testing.TB) *hall.Hall {
	fuzzOnce.Do(func() {
		f := newFixture(t, func(c *hall.Config) { c.Rules.TurnNearAhead = 2 })
		f.open("w1", "w2", "w3")
		for i := 0; i < 6; i++ {
			f.issue("a")
			f.issue("b")
		}
		f.callNext("w1")
		f.op(hall.OpHold, "w1")
		f.callNext("w1")
		f.op(hall.OpSkip, "w1")
		f.callNext("w1")
		f.op(hall.OpStart, "w1")
		f.callNext("w2")
		f.op(hall.OpFinish, "w2")
		f.callNext("w2")
		f.do(hall.Command{Op: hall.OpTransfer, Window: "w2", ToWindow: "w3", Return: true})
		b, err := f.h.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		fuzzState = b
	})
	h, err := hall.Restore(fuzzState)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
