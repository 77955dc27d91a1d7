package uplink

import (
	"context"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/journal"
)

// readBatch is how many records the drain reads from the journal at a time.
const readBatch = 512

// inflight is a publish awaiting its PUBACK.
type inflight struct {
	seq uint64
	tok mqtt.Token
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// drain publishes the journal from the acknowledged position on, in order,
// at QoS 1, with at most Inflight publishes unacknowledged. The window
// slides: each PUBACK of the oldest publish lets the next event go, so the
// broker's delayed acknowledgements never stall a whole window. The cursor
// advances only over the contiguous acknowledged prefix. It returns when the
// connection is lost (the next session resends everything after the
// cursor, with the same ids) or ctx ends (it then waits briefly for what is
// in flight).
func (u *Uplink) drain(ctx context.Context, c mqtt.Client, lost <-chan error, liveFrom uint64) error {
	topic := u.o.Topics.Events()
	next := u.acked.Load() + 1
	window := make([]inflight, 0, u.o.Inflight)
	var buf []journal.Record
	bi := 0
	for {
		// Fill the window.
		for len(window) < u.o.Inflight {
			if bi == len(buf) {
				if next > u.j.Committed() {
					break
				}
				var err error
				if buf, err = u.j.Read(next, readBatch); err != nil {
					return fmt.Errorf("uplink: read journal at %d: %w", next, err)
				}
				bi = 0
				if len(buf) == 0 {
					break
				}
			}
			r := buf[bi]
			buf[bi] = journal.Record{}
			bi++
			payload, err := EncodeEvent(u.o.GatewayID, r, r.Seq < liveFrom)
			if err != nil {
				return err
			}
			window = append(window, inflight{r.Seq, c.Publish(topic, 1, false, payload)})
			next = r.Seq + 1
		}
		if len(window) == 0 {
			changed := u.j.Changed()
			if next <= u.j.Committed() {
				continue
			}
			select {
			case <-changed:
				continue
			case err := <-lost:
				return fmt.Errorf("uplink: connection lost: %w", err)
			case <-ctx.Done():
				return nil
			}
		}
		// Wait for the oldest publish, or for more to send if there is room.
		var more <-chan struct{}
		if len(window) < u.o.Inflight && bi == len(buf) {
			more = u.j.Changed()
			if next <= u.j.Committed() {
				more = closedChan
			}
		}
		select {
		case <-window[0].tok.Done():
			n := 0
			for n < len(window) && isDone(window[n].tok) {
				if err := window[n].tok.Error(); err != nil {
					u.ackPrefix(window[:n])
					return fmt.Errorf("uplink: publish of event %d: %w", window[n].seq, err)
				}
				n++
			}
			u.ackPrefix(window[:n])
			window = append(window[:0], window[n:]...)
		case <-more:
		case err := <-lost:
			return fmt.Errorf("uplink: connection lost: %w", err)
		case <-ctx.Done():
			u.settle(window, 2*time.Second)
			return nil
		}
	}
}

func isDone(t mqtt.Token) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

func (u *Uplink) ackPrefix(w []inflight) {
	if len(w) > 0 {
		u.ack(w[len(w)-1].seq)
	}
}

// settle waits up to d for the publishes in flight when shutting down, so
// their acknowledgements reach the cursor.
func (u *Uplink) settle(window []inflight, d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for _, w := range window {
		select {
		case <-w.tok.Done():
			if w.tok.Error() != nil {
				return
			}
			u.ack(w.seq)
		case <-deadline.C:
			return
		}
	}
}
