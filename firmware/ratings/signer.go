package ratings

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
)

// The journal names the signer uses.
const (
	// Cursor names the signer's journal cursor and reclaim hold: every
	// hall event at or below it has been looked at, and every rating
	// outcome among them signed.
	Cursor = "ratings"
	// MetaHead is the journal meta key of the chain head (JSON Head),
	// written after each signed record.
	MetaHead = "ratings.head"
)

// Feed is the stream of committed hall events (gateway.Feed).
type Feed interface {
	Follow(ctx context.Context, from uint64, fn func(gateway.Committed) error) error
}

// Options configure a Signer.
type Options struct {
	Journal   *journal.Journal
	Feed      Feed
	GatewayID string
	Key       ed25519.PrivateKey
	Logger    *slog.Logger
	// CursorEvery is how many hall events pass between two saves of the
	// cursor when there is nothing to sign (default 512); the cursor is
	// saved after every signature anyway.
	CursorEvery int
}

// Signer follows the committed hall events and, for each rating outcome
// (hall.EvRatingGiven, hall.EvRatingNotRated), journals a signed record of
// kind "rating_sig" that extends the chain, and for each 差评 an alert of
// kind "alert" in the same commit. It survives restarts: the chain head is
// kept in the journal's meta and recovered from the records after the
// cursor, and no outcome is signed twice or skipped.
type Signer struct {
	o     Options
	pub   ed25519.PublicKey
	keyID string

	mu      sync.Mutex
	head    Head
	done    uint64 // last hall event looked at
	saved   uint64 // cursor stored in the journal
	signed  int    // records signed by this run
	changed chan struct{}
}

// New makes a signer and recovers its chain from the journal. It registers
// the reclaim hold, so unsigned outcomes are never reclaimed.
func New(opts Options) (*Signer, error) {
	switch {
	case opts.Journal == nil || opts.Feed == nil:
		return nil, errors.New("ratings: signer needs a journal and a feed")
	case opts.GatewayID == "":
		return nil, errors.New("ratings: signer needs the gateway id")
	case len(opts.Key) != ed25519.PrivateKeySize:
		return nil, errors.New("ratings: signer needs an ed25519 key")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CursorEvery <= 0 {
		opts.CursorEvery = 512
	}
	pub, _ := opts.Key.Public().(ed25519.PublicKey)
	s := &Signer{o: opts, pub: pub, keyID: KeyID(pub), changed: make(chan struct{})}
	opts.Journal.Hold(Cursor)
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

// recover reads the head from the journal's meta, then adopts the signed
// records committed after the cursor (the process died between a record
// and its head). Without a stored head (first start, or the meta lost) it
// looks at every record still stored, so a chain goes on from its last
// record rather than starting again.
func (s *Signer) recover() error {
	j := s.o.Journal
	cursor, err := j.Cursor(Cursor)
	if err != nil {
		return fmt.Errorf("ratings: read cursor: %w", err)
	}
	head := Head{Hash: ZeroHash}
	from := uint64(1)
	if b, err := j.Meta(MetaHead); err != nil {
		return fmt.Errorf("ratings: read head: %w", err)
	} else if b != nil {
		if err := json.Unmarshal(b, &head); err != nil {
			return fmt.Errorf("ratings: stored head: %w", err)
		}
		if _, err := parseHash(head.Hash); err != nil {
			return fmt.Errorf("ratings: stored head: %w", err)
		}
		from = cursor + 1
	}
	known := head.ChainSeq > 0
	err = j.Scan(from, func(r journal.Record) error {
		if r.Kind != KindSig {
			return nil
		}
		rec, p, err := ParseRecord(r.Data)
		switch {
		case err != nil:
			s.o.Logger.Error("ratings: unreadable signed record in the journal", "seq", r.Seq, "err", err)
			return nil
		case rec.Gateway != s.o.GatewayID || rec.ChainSeq <= head.ChainSeq:
			return nil
		case known && (rec.ChainSeq != head.ChainSeq+1 || rec.PrevHash != head.Hash):
			// Go on from the last record anyway: that is what the platform
			// links the next one to; the break shows in verification.
			s.o.Logger.Error("ratings: signed record does not extend the chain", "seq", r.Seq,
				"chain_seq", rec.ChainSeq, "head", head.ChainSeq)
		}
		head = Head{ChainSeq: rec.ChainSeq, Hash: rec.Hash, EventSeq: p.EventSeq}
		known = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("ratings: recover chain: %w", err)
	}
	s.head = head
	s.done = max(cursor, head.EventSeq)
	s.saved = cursor
	return nil
}

// Run signs rating outcomes as they are committed until ctx is done or the
// gateway closes (then it returns nil), or the journal fails.
func (s *Signer) Run(ctx context.Context) error {
	s.mu.Lock()
	from := s.done + 1
	s.mu.Unlock()
	err := s.o.Feed.Follow(ctx, from, func(c gateway.Committed) error { return s.handle(ctx, c) })
	s.saveCursor()
	if errors.Is(err, gateway.ErrClosed) || ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Signer) handle(ctx context.Context, c gateway.Committed) error {
	s.mu.Lock()
	head, done := s.head, s.done
	s.mu.Unlock()
	if c.Seq <= done {
		return nil
	}
	if Outcome(&c.Event) && c.Seq > head.EventSeq {
		if err := s.sign(ctx, c, head); err != nil {
			return err
		}
		return nil
	}
	s.mu.Lock()
	s.done = c.Seq
	due := s.done-s.saved >= uint64(s.o.CursorEvery)
	s.mu.Unlock()
	if due {
		s.saveCursor()
	}
	s.notify()
	return nil
}

// sign journals the record (and alert) of outcome c, then moves the head.
func (s *Signer) sign(ctx context.Context, c gateway.Committed, head Head) error {
	p, err := NewPayload(s.o.GatewayID, c.Seq, head.ChainSeq+1, &c.Event)
	if err != nil {
		return err
	}
	rec, err := Sign(p, head, s.o.Key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("ratings: encode record: %w", err)
	}
	recs := []journal.Record{{Kind: KindSig, At: c.Event.At, Data: data}}
	if a, ok := NewAlert(s.o.GatewayID, c.Seq, p.ChainSeq, &c.Event); ok {
		ad, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("ratings: encode alert: %w", err)
		}
		recs = append(recs, journal.Record{Kind: KindAlert, At: c.Event.At, Data: ad})
	}
	if err := s.write(ctx, recs); err != nil {
		return err
	}
	next := Head{ChainSeq: p.ChainSeq, Hash: rec.Hash, EventSeq: c.Seq}
	hb, _ := json.Marshal(next)
	if err := s.o.Journal.SetMeta(MetaHead, hb); err != nil {
		return err
	}
	if err := s.o.Journal.SetCursor(Cursor, c.Seq); err != nil {
		return err
	}
	s.mu.Lock()
	s.head, s.done, s.saved = next, c.Seq, c.Seq
	s.signed++
	s.mu.Unlock()
	s.notify()
	s.o.Logger.Debug("rating signed", "chain_seq", next.ChainSeq, "event_seq", c.Seq, "outcome", p.Outcome)
	return nil
}

// write journals recs durably. A full queue (the disk is failing) is
// retried; once submitted the records are waited for even when ctx ends, so
// the head never moves past a record that might still be written.
func (s *Signer) write(ctx context.Context, recs []journal.Record) error {
	backoff := 100 * time.Millisecond
	for {
		p, err := s.o.Journal.Submit(recs...)
		if err == nil {
			return p.Wait(context.WithoutCancel(ctx))
		}
		if !errors.Is(err, journal.ErrBacklog) {
			return fmt.Errorf("ratings: journal: %w", err)
		}
		s.o.Logger.Warn("ratings: journal backlog, retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// saveCursor stores the progress, so reclaim may pass it.
func (s *Signer) saveCursor() {
	s.mu.Lock()
	done, saved := s.done, s.saved
	s.mu.Unlock()
	if done <= saved {
		return
	}
	if err := s.o.Journal.SetCursor(Cursor, done); err != nil {
		s.o.Logger.Warn("ratings: save cursor", "err", err)
		return
	}
	s.mu.Lock()
	s.saved = max(s.saved, done)
	s.mu.Unlock()
}

func (s *Signer) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Wait returns once every hall event up to journal seq seq (a hall
// event's seq: other records never reach the signer) has been looked at and
// its outcome signed, or when ctx ends.
func (s *Signer) Wait(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		done, ch := s.done, s.changed
		s.mu.Unlock()
		if done >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ratings: waiting for seq %d (at %d): %w", seq, done, ctx.Err())
		}
	}
}

// Head returns the current end of the chain: what the platform keeps to
// detect a truncated chain (docs/ratings.md).
func (s *Signer) Head() Head {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// PublicKey returns the key ratings are signed with; the birth message
// publishes it.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.pub }

// KeyID returns the ID of the public key.
func (s *Signer) KeyID() string { return s.keyID }

// Status is the signer's section of the gateway status.
type Status struct {
	PublicKey string `json:"public_key"` // base64
	KeyID     string `json:"key_id"`
	Head      Head   `json:"head"`
	Signed    int    `json:"signed"` // by this run
}

// Status returns the signer's status; it never blocks for long.
func (s *Signer) Status() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{PublicKey: base64.StdEncoding.EncodeToString(s.pub), KeyID: s.keyID, Head: s.head, Signed: s.signed}
}

// String names the signer.
func (s *Signer) String() string { return "ratings(" + s.keyID + ")" }
