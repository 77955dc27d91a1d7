package gateway

import (
	"context"
	"fmt"
	"log/slog"

	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Feed delivers committed hall events, in journal order, to any number of
// followers. Each follower reads the journal at its own pace, so a slow one
// (a display on a congested bus) never holds up another and never misses an
// event: there is no buffer to overflow, only a position in the journal.
type Feed struct {
	j     *journal.Journal
	gwID  string
	start uint64 // first seq after the rebuild: "now" for new followers
	log   *slog.Logger
	done  chan struct{}
}

func newFeed(j *journal.Journal, gwID string, start uint64, log *slog.Logger) *Feed {
	return &Feed{j: j, gwID: gwID, start: start, log: log, done: make(chan struct{})}
}

func (f *Feed) stop() {
	select {
	case <-f.done:
	default:
		close(f.done)
	}
}

// Start is the first seq committed after the gateway opened: a follower
// starting there sees every event of this run and none replayed.
func (f *Feed) Start() uint64 { return f.start }

// Follow calls fn for each committed hall event with seq ≥ from, in order,
// until ctx is done, the gateway closes or fn returns an error. from = 0
// means the next event committed from now on.
func (f *Feed) Follow(ctx context.Context, from uint64, fn func(Committed) error) error {
	next := from
	if next == 0 {
		next = f.j.Committed() + 1
	}
	for {
		changed := f.j.Changed()
		recs, err := f.j.Read(next, 256)
		if err != nil {
			return fmt.Errorf("gateway: feed read at %d: %w", next, err)
		}
		for _, r := range recs {
			next = r.Seq + 1
			if r.Kind != KindHall {
				continue
			}
			var ev hall.Event
			if err := ev.UnmarshalBinary(r.Data); err != nil {
				f.log.Error("feed: undecodable event", "seq", r.Seq, "err", err)
				continue
			}
			if err := fn(Committed{Seq: r.Seq, ID: journal.EventID(f.gwID, r.Seq), Event: ev}); err != nil {
				return err
			}
		}
		if len(recs) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-f.done:
			return ErrClosed
		}
	}
}
