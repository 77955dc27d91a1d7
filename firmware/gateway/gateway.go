package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hallgw/firmware/journal"
	"hallgw/hall"
)

// KindHall is the journal kind of hall events.
const KindHall = "hall"

// Committed is a hall event that is durable in the journal.
type Committed struct {
	Seq   uint64
	ID    string // gateway id + sequence: the idempotent event id
	Event hall.Event
}

// Options configure a Gateway.
type Options struct {
	Journal   *journal.Journal
	GatewayID string
	// Hall is the configuration the hall should run with. When it differs
	// from the one in the journal, Open journals it (EvConfigApplied).
	Hall hall.Config
	// Now is the clock; the demo passes an accelerated one.
	Now func() time.Time
	// SnapshotEvery is how many hall events pass between snapshots.
	SnapshotEvery int
	Logger        *slog.Logger
}

// Gateway is the hall with its journal.
type Gateway struct {
	j      *journal.Journal
	gwID   string
	now    func() time.Time
	log    *slog.Logger
	snapN  int
	feed   *Feed
	closed chan struct{}

	mu        sync.Mutex
	hall      *hall.Hall
	lastSeq   uint64 // seq of the last hall event applied
	sinceSnap int
	snapping  bool
}

// Open rebuilds the hall from the journal and applies opts.Hall if it
// changed.
func Open(ctx context.Context, opts Options) (*Gateway, error) {
	if opts.Journal == nil {
		return nil, errors.New("gateway: no journal")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 5000
	}
	g := &Gateway{
		j: opts.Journal, gwID: opts.GatewayID, now: opts.Now, log: opts.Logger,
		snapN: opts.SnapshotEvery, closed: make(chan struct{}),
	}
	start := time.Now()
	h, last, n, err := Rebuild(opts.Journal, 0)
	if err != nil {
		return nil, err
	}
	g.hall, g.lastSeq = h, last
	g.log.Info("hall rebuilt from journal", "events", n, "last_seq", last, "took", time.Since(start).Round(time.Millisecond))
	g.feed = newFeed(g.j, g.gwID, g.j.Committed()+1, g.log)

	if err := g.applyConfig(ctx, opts.Hall, "startup"); err != nil {
		return nil, err
	}
	return g, nil
}

// Rebuild returns the hall state after the journal's hall events up to and
// including seq upTo (0 = all), starting from the latest usable snapshot. It
// also returns the seq of the last hall event applied and how many events
// were replayed.
func Rebuild(j *journal.Journal, upTo uint64) (*hall.Hall, uint64, int, error) {
	var h *hall.Hall
	var from, last uint64
	snapSeq, data, err := j.LatestSnapshot()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("gateway: read snapshot: %w", err)
	}
	if data != nil && (upTo == 0 || snapSeq <= upTo) {
		h, err = hall.Restore(data)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("gateway: restore snapshot at %d: %w", snapSeq, err)
		}
		from, last = snapSeq+1, snapSeq
	} else {
		h, err = hall.New(hall.Config{})
		if err != nil {
			return nil, 0, 0, err
		}
		from = j.First()
		if from == 0 {
			from = 1
		}
	}
	n := 0
	errStop := errors.New("stop")
	var ev hall.Event
	err = j.Scan(from, func(r journal.Record) error {
		if upTo != 0 && r.Seq > upTo {
			return errStop
		}
		if r.Kind != KindHall {
			return nil
		}
		ev = hall.Event{}
		if err := ev.UnmarshalBinary(r.Data); err != nil {
			return fmt.Errorf("gateway: event %d: %w", r.Seq, err)
		}
		if err := h.Apply(ev); err != nil {
			return fmt.Errorf("gateway: replay event %d (%s): %w", r.Seq, ev.Type, err)
		}
		last = r.Seq
		n++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, 0, 0, err
	}
	return h, last, n, nil
}

// applyConfig journals cfg when it differs from the hall's.
func (g *Gateway) applyConfig(ctx context.Context, cfg hall.Config, source string) error {
	g.mu.Lock()
	same := configEqual(g.hall.Config(), cfg)
	g.mu.Unlock()
	if same {
		return nil
	}
	c := cfg
	_, err := g.Do(ctx, hall.Command{Op: hall.OpApplyConfig, Config: &c, Source: source})
	if err != nil {
		return fmt.Errorf("gateway: apply configuration: %w", err)
	}
	return nil
}

// ApplyConfig validates cfg and journals it; on error the running
// configuration is untouched.
func (g *Gateway) ApplyConfig(ctx context.Context, cfg hall.Config, source string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return g.applyConfig(ctx, cfg, source)
}

func configEqual(a, b hall.Config) bool {
	ea, err1 := a.MarshalBinary()
	eb, err2 := b.MarshalBinary()
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// Do decides cmd, journals the events, applies them and waits until they
// are durable. It returns the committed events; on a refused command it
// returns the hall's typed error and nothing was journaled.
func (g *Gateway) Do(ctx context.Context, cmd hall.Command) ([]Committed, error) {
	p, out, err := g.submit(cmd)
	if err != nil || p == nil {
		return out, err
	}
	if err := p.Wait(ctx); err != nil {
		return nil, fmt.Errorf("gateway: waiting for the journal: %w", err)
	}
	g.maybeSnapshot()
	return out, nil
}

func (g *Gateway) submit(cmd hall.Command) (*journal.Pending, []Committed, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.closed:
		return nil, nil, ErrClosed
	default:
	}
	now := g.now().UTC()
	evs, err := g.hall.Decide(cmd, now)
	if err != nil {
		return nil, nil, err
	}
	if len(evs) == 0 {
		return nil, nil, nil
	}
	recs := make([]journal.Record, len(evs))
	for i, ev := range evs {
		data, err := ev.MarshalBinary()
		if err != nil {
			return nil, nil, fmt.Errorf("gateway: encode %s: %w", ev.Type, err)
		}
		recs[i] = journal.Record{Class: journal.Business, Kind: KindHall, At: ev.At, Data: data}
	}
	p, err := g.j.Submit(recs...)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: journal: %w", err)
	}
	first, _ := p.Seqs()
	out := make([]Committed, len(evs))
	for i, ev := range evs {
		if err := g.hall.Apply(ev); err != nil {
			// Decide produced an event Apply refuses: a bug in hall. The
			// event is in the journal; replay will meet the same refusal,
			// so stop here loudly rather than diverge silently.
			panic(fmt.Sprintf("gateway: hall refused its own decision %s: %v", ev.Type, err))
		}
		seq := first + uint64(i)
		out[i] = Committed{Seq: seq, ID: journal.EventID(g.gwID, seq), Event: ev}
	}
	g.lastSeq = first + uint64(len(evs)) - 1
	g.sinceSnap += len(evs)
	return p, out, nil
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("gateway: closed")

// View runs fn with the hall once every event applied so far is durable, so
// that what fn reads has been journaled: nothing seen through View can be
// lost by a crash. fn must not keep h.
func (g *Gateway) View(ctx context.Context, fn func(h *hall.Hall)) error {
	for i := 0; ; i++ {
		g.mu.Lock()
		target := g.lastSeq
		if g.j.Committed() >= target || i >= 2 {
			// After two rounds, wait while holding the lock: no new event
			// can be submitted meanwhile, so the wait is bounded by one
			// group commit.
			if err := g.waitCommitted(ctx, target); err != nil {
				g.mu.Unlock()
				return err
			}
			fn(g.hall)
			g.mu.Unlock()
			return nil
		}
		g.mu.Unlock()
		if err := g.waitCommitted(ctx, target); err != nil {
			return err
		}
	}
}

func (g *Gateway) waitCommitted(ctx context.Context, seq uint64) error {
	for {
		ch := g.j.Changed()
		if g.j.Committed() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// State is the hall state at a committed sequence, with its digest.
type State struct {
	Seq    uint64
	Digest [32]byte
}

// Digest returns the digest of the committed hall state and the seq of the
// last hall event it includes.
func (g *Gateway) Digest(ctx context.Context) (State, error) {
	var s State
	err := g.View(ctx, func(h *hall.Hall) {
		s = State{Seq: g.lastSeq, Digest: h.Digest()}
	})
	return s, err
}

// Tick lets time-driven rules run (the daily reset); the daemon calls it
// every few seconds.
func (g *Gateway) Tick(ctx context.Context) error {
	_, err := g.Do(ctx, hall.Command{Op: hall.OpTick, Source: "clock"})
	return err
}

// Feed returns the stream of committed events.
func (g *Gateway) Feed() *Feed { return g.feed }

// Journal returns the journal.
func (g *Gateway) Journal() *journal.Journal { return g.j }

// GatewayID returns the gateway id used in event ids.
func (g *Gateway) GatewayID() string { return g.gwID }

// Now returns the gateway's clock reading.
func (g *Gateway) Now() time.Time { return g.now() }

// maybeSnapshot saves a snapshot every SnapshotEvery hall events. The state
// is marshalled under the lock (a consistent cut at lastSeq) and written
// once that seq is durable.
func (g *Gateway) maybeSnapshot() {
	g.mu.Lock()
	if g.sinceSnap < g.snapN || g.snapping {
		g.mu.Unlock()
		return
	}
	g.snapping = true
	g.sinceSnap = 0
	seq := g.lastSeq
	data, err := g.hall.MarshalState()
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.snapping = false
		g.mu.Unlock()
	}()
	if err != nil {
		g.log.Error("snapshot: marshal", "err", err)
		return
	}
	if err := g.waitCommitted(context.Background(), seq); err != nil {
		return
	}
	if err := g.j.SaveSnapshot(seq, data); err != nil {
		g.log.Error("snapshot: save", "seq", seq, "err", err)
	}
}

// Snapshot writes a snapshot now (on clean shutdown, so the next start is
// fast).
func (g *Gateway) Snapshot(ctx context.Context) error {
	g.mu.Lock()
	seq := g.lastSeq
	data, err := g.hall.MarshalState()
	g.mu.Unlock()
	if err != nil {
		return err
	}
	if seq == 0 {
		return nil
	}
	if err := g.waitCommitted(ctx, seq); err != nil {
		return err
	}
	return g.j.SaveSnapshot(seq, data)
}

// Close stops accepting commands, writes a snapshot and stops the feed. It
// does not close the journal, which the caller owns.
func (g *Gateway) Close(ctx context.Context) error {
	g.mu.Lock()
	select {
	case <-g.closed:
		g.mu.Unlock()
		return nil
	default:
		close(g.closed)
	}
	g.mu.Unlock()
	err := g.Snapshot(ctx)
	g.feed.stop()
	return err
}
