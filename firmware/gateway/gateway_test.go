package gateway

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/journal"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t *testing.T, dir string, clk *fakeClock) (*Gateway, *journal.Journal) {
	t.Helper()
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-t", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(context.Background(), Options{Journal: j, GatewayID: "gw-t", Hall: halltest.Config(), Now: clk.Now, SnapshotEvery: 100})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	return g, j
}

func firstWindow(t *testing.T) (window, service string) {
	c := halltest.Config()
	return c.Windows[0].ID, c.Windows[0].Services[0]
}

func TestDoIsDurableAndOrdered(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: halltest.Start()}
	g, j := openTest(t, t.TempDir(), clk)
	defer j.Close()
	defer g.Close(ctx)
	win, svc := firstWindow(t)

	evs, err := g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: svc, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[0].Event.Type != hall.EvTicketIssued {
		t.Fatalf("Do(issue) = %+v, want a ticket_issued event", evs)
	}
	issued := evs[0]
	if j.Committed() < issued.Seq {
		t.Fatalf("Do returned before seq %d was durable (committed %d)", issued.Seq, j.Committed())
	}
	if want := journal.EventID("gw-t", issued.Seq); issued.ID != want {
		t.Errorf("event id %q, want %q", issued.ID, want)
	}
	recs, err := j.Read(issued.Seq, 1)
	if err != nil || len(recs) != 1 || recs[0].Kind != KindHall {
		t.Fatalf("journal at %d = %+v, %v", issued.Seq, recs, err)
	}
	var ev hall.Event
	if err := ev.UnmarshalBinary(recs[0].Data); err != nil || ev.Number != issued.Event.Number {
		t.Fatalf("journaled event %+v, %v; want number %s", ev, err, issued.Event.Number)
	}

	// A refused command leaves no trace.
	before := j.Committed()
	_, err = g.Do(ctx, hall.Command{Op: hall.OpCallNext, Window: win})
	if !errors.Is(err, hall.ErrWindowClosed) {
		t.Fatalf("call-next at a closed window: err = %v, want ErrWindowClosed", err)
	}
	if j.Committed() != before {
		t.Errorf("refused command wrote to the journal: committed %d → %d", before, j.Committed())
	}
}

func TestFeedDeliversCommittedEventsInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := &fakeClock{t: halltest.Start()}
	g, j := openTest(t, t.TempDir(), clk)
	defer j.Close()
	defer g.Close(context.Background())
	_, svc := firstWindow(t)

	got := make(chan Committed, 1000)
	// From the first event on: from = 0 would mean "from when Follow
	// starts", which a busy machine may put after the first commits.
	from := j.Committed() + 1
	go g.Feed().Follow(ctx, from, func(c Committed) error { got <- c; return nil })

	// Concurrent producers; the feed must see every event once, in seq
	// order, and only once it is durable.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []uint64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				evs, err := g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: svc, Source: "test"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, e := range evs {
					acked = append(acked, e.Seq)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var last uint64
	seen := 0
	timeout := time.After(10 * time.Second)
	for seen < len(acked) {
		select {
		case c := <-got:
			if c.Seq <= last {
				t.Fatalf("feed delivered seq %d after %d", c.Seq, last)
			}
			if c.Seq > j.Committed() {
				t.Fatalf("feed delivered seq %d before it was durable", c.Seq)
			}
			last = c.Seq
			seen++
		case <-timeout:
			t.Fatalf("feed delivered %d of %d events", seen, len(acked))
		}
	}
}

func TestRestartRebuildsTheSameState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &fakeClock{t: halltest.Start()}
	g, j := openTest(t, dir, clk)
	cfg := halltest.Config()
	// Drive a few hundred commands so snapshots are taken (every 100).
	for i, w := range cfg.Windows {
		if _, err := g.Do(ctx, hall.Command{Op: hall.OpOpenWindow, Window: w.ID, Staff: "S" + w.ID}); err != nil {
			t.Fatal(err)
		}
		_ = i
	}
	for i := 0; i < 300; i++ {
		clk.Add(20 * time.Second)
		svc := cfg.Services[i%len(cfg.Services)].ID
		if _, err := g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: svc}); err != nil && !errors.Is(err, hall.ErrDailyCap) {
			t.Fatal(err)
		}
		w := cfg.Windows[i%len(cfg.Windows)].ID
		g.Do(ctx, hall.Command{Op: hall.OpFinish, Window: w})
		g.Do(ctx, hall.Command{Op: hall.OpCallNext, Window: w})
	}
	live, err := g.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq, _, _ := j.LatestSnapshot(); seq == 0 {
		t.Fatal("no snapshot was taken")
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// Reopen: from the snapshot plus the tail.
	g2, j2 := openTest(t, dir, clk)
	defer j2.Close()
	defer g2.Close(ctx)
	again, err := g2.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again != live {
		t.Fatalf("state after restart %x at %d, before %x at %d", again.Digest, again.Seq, live.Digest, live.Seq)
	}
	// And from the very first event, ignoring snapshots: the same.
	h, last, _, err := rebuildFromScratch(j2)
	if err != nil {
		t.Fatal(err)
	}
	if h.Digest() != live.Digest || last != live.Seq {
		t.Fatalf("full replay gives %x at %d, live was %x at %d", h.Digest(), last, live.Digest, live.Seq)
	}
}

func rebuildFromScratch(j *journal.Journal) (*hall.Hall, uint64, int, error) {
	h, _ := hall.New(hall.Config{})
	var last uint64
	n := 0
	err := j.Scan(j.First(), func(r journal.Record) error {
		if r.Kind != KindHall {
			return nil
		}
		var e hall.Event
		if err := e.UnmarshalBinary(r.Data); err != nil {
			return err
		}
		last = r.Seq
		n++
		return h.Apply(e)
	})
	return h, last, n, err
}

func TestConfigChangeIsJournaledOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &fakeClock{t: halltest.Start()}
	g, j := openTest(t, dir, clk)
	first := j.Committed()
	g.Close(ctx)
	j.Close()

	// Same configuration: nothing new is journaled.
	g, j = openTest(t, dir, clk)
	if j.Committed() != first {
		t.Errorf("unchanged configuration journaled again: %d → %d", first, j.Committed())
	}
	// A changed one is journaled and takes effect.
	cfg := halltest.Config()
	cfg.Rules.RecallMax = 7
	if err := g.ApplyConfig(ctx, cfg, "test"); err != nil {
		t.Fatal(err)
	}
	var got int
	g.View(ctx, func(h *hall.Hall) { got = h.Config().Rules.RecallMax })
	if got != 7 {
		t.Errorf("RecallMax = %d after ApplyConfig, want 7", got)
	}
	// An invalid one changes nothing.
	bad := halltest.Config()
	bad.Windows[0].Services = []string{"nosuch"}
	at := j.Committed()
	if err := g.ApplyConfig(ctx, bad, "test"); err == nil {
		t.Fatal("invalid configuration accepted")
	}
	if j.Committed() != at {
		t.Error("rejected configuration was journaled")
	}
	g.Close(ctx)
	j.Close()
}

func TestViewOnlySeesDurableState(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: halltest.Start()}
	g, j := openTest(t, t.TempDir(), clk)
	defer j.Close()
	defer g.Close(ctx)
	_, svc := firstWindow(t)
	for i := 0; i < 50; i++ {
		go g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: svc})
		g.View(ctx, func(h *hall.Hall) {
			if g.lastSeq > j.Committed() {
				t.Errorf("View ran with seq %d applied but only %d durable", g.lastSeq, j.Committed())
			}
		})
	}
}
