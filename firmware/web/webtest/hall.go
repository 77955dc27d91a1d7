package webtest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// Clock is a clock the test sets and moves. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the time shown.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Hall is a real gateway on a journal in a temporary directory.
type Hall struct {
	Journal *journal.Journal
	Gateway *gateway.Gateway
	Clock   *Clock
	Config  hall.Config
	Dir     string
}

// Morning is when a test hall's clock starts: 09:00 on the first day of
// halltest's simulation, in the sample hall's zone.
func Morning() time.Time { return halltest.Start().Add(2 * time.Hour) }

// NewHall opens a gateway with halltest's sample hall (six services, eight
// windows w1…w8) and a clock at Morning. Both close when the test ends.
func NewHall(t testing.TB) *Hall {
	t.Helper()
	return NewHallWith(t, halltest.Config(), t.TempDir())
}

// NewHallWith opens a gateway with cfg on the journal in dir (created
// there when missing, reopened when present).
func NewHallWith(t testing.TB, cfg hall.Config, dir string) *Hall {
	t.Helper()
	clk := NewClock(Morning())
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-test", Now: clk.Now})
	if err != nil {
		t.Fatalf("webtest: open journal: %v", err)
	}
	gw, err := gateway.Open(context.Background(), gateway.Options{Journal: j, GatewayID: "gw-test", Hall: cfg, Now: clk.Now})
	if err != nil {
		j.Close()
		t.Fatalf("webtest: open gateway: %v", err)
	}
	h := &Hall{Journal: j, Gateway: gw, Clock: clk, Config: cfg, Dir: dir}
	t.Cleanup(func() { h.Close(t) })
	return h
}

// Close closes the gateway and the journal; it may be called more than
// once.
func (h *Hall) Close(t testing.TB) {
	t.Helper()
	if h.Gateway == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Gateway.Close(ctx); err != nil {
		t.Errorf("webtest: close gateway: %v", err)
	}
	if err := h.Journal.Close(); err != nil {
		t.Errorf("webtest: close journal: %v", err)
	}
	h.Gateway, h.Journal = nil, nil
}

// Do runs cmd (Source "test" unless set) and fails the test when the hall
// refuses it.
func (h *Hall) Do(t testing.TB, cmd hall.Command) []gateway.Committed {
	t.Helper()
	if cmd.Source == "" {
		cmd.Source = "test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := h.Gateway.Do(ctx, cmd)
	if err != nil {
		t.Fatalf("webtest: %v: %v", cmd.Op, err)
	}
	return evs
}

// Open signs staff in at the windows, by id.
func (h *Hall) Open(t testing.TB, windows ...string) {
	t.Helper()
	for _, w := range windows {
		h.Do(t, hall.Command{Op: hall.OpOpenWindow, Window: w, Staff: "S-" + w})
	}
}

// Issue issues n walk-in tickets of the service and returns the last.
func (h *Hall) Issue(t testing.TB, service string, n int) gateway.Committed {
	t.Helper()
	var last gateway.Committed
	for i := 0; i < n; i++ {
		for _, c := range h.Do(t, hall.Command{Op: hall.OpIssue, Service: service, Source: "kiosk"}) {
			if c.Event.Type == hall.EvTicketIssued {
				last = c
			}
		}
	}
	return last
}

// CallNext finishes the window's current ticket, if any, then calls the
// next one and returns the call.
func (h *Hall) CallNext(t testing.TB, window string) gateway.Committed {
	t.Helper()
	busy := false
	if err := h.Gateway.View(context.Background(), func(hl *hall.Hall) {
		w, ok := hl.Window(window)
		busy = ok && w.Current != 0
	}); err != nil {
		t.Fatalf("webtest: %v", err)
	}
	if busy {
		h.Do(t, hall.Command{Op: hall.OpFinish, Window: window})
	}
	for _, c := range h.Do(t, hall.Command{Op: hall.OpCallNext, Window: window}) {
		if c.Event.Type == hall.EvTicketCalled {
			return c
		}
	}
	t.Fatalf("webtest: call-next at %s called nobody", window)
	return gateway.Committed{}
}

// SimulateDays writes halltest's simulated business days (seed 7) into a
// journal in dir, as the gateway would have journaled them, with a record
// of another producer after every 97 hall events, and returns the hall
// events. NewHallWith(t, halltest.Config(), dir) then opens the hall as
// it stood at the end.
func SimulateDays(t testing.TB, dir string, days int) []hall.Event {
	t.Helper()
	evs, err := halltest.Journal(days, 7)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-test"})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]journal.Record, 0, len(evs)+len(evs)/97)
	for i, e := range evs {
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, journal.Record{Class: journal.Business, Kind: gateway.KindHall, At: e.At, Data: b})
		if (i+1)%97 == 0 {
			recs = append(recs, journal.Record{Class: journal.Business, Kind: "rating", At: e.At, Data: []byte("{}")})
		}
	}
	for len(recs) > 0 {
		n := min(len(recs), 2000)
		if _, err := j.Append(context.Background(), recs[:n]...); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return evs
}
