package voice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
)

// Announcer errors callers branch on.
var (
	// ErrQueueFull is returned by Announce when the queue is full and holds
	// no waiting announcement for the same window to replace.
	ErrQueueFull = errors.New("voice: announcement queue full")
	// ErrHalted is returned by Announce after Halt.
	ErrHalted = errors.New("voice: announcer halted")
)

// MaxRepeat is the most times one announcement may be played in a row.
const MaxRepeat = 5

// AnnouncerOpts configures an Announcer.
type AnnouncerOpts struct {
	// QueueLen is how many announcements may wait, not counting the one
	// playing.
	QueueLen int
	// Repeat is how many times an announcement is played when Announce is
	// given 0, 1 to MaxRepeat.
	Repeat int
	// RepeatPause is the silence between two plays of one announcement.
	RepeatPause time.Duration
	// PlayMargin is added to an announcement's length to bound one play: a
	// Player that has not returned by then has its context cancelled and
	// the play counts as failed, so a hung device cannot stall the queue.
	PlayMargin time.Duration
	// Clock paces pauses and timeouts and stamps the statistics; nil means
	// the real clock.
	Clock clockwork.Clock
}

// DefaultAnnouncerOpts: 8 waiting, each call said twice a second apart,
// 5 s of margin per play.
var DefaultAnnouncerOpts = AnnouncerOpts{
	QueueLen:    8,
	Repeat:      2,
	RepeatPause: time.Second,
	PlayMargin:  5 * time.Second,
}

// Stats are the Announcer's counters since it was made.
//
// Every call of Announce that returns nil adds one to Queued; it then ends
// as exactly one of Played, Failed, Merged (replaced while waiting, see
// Announce) or Dropped (still waiting, or cut off, at Halt), or is still
// Pending or Playing. Announce calls refused with ErrQueueFull count as
// Dropped only.
type Stats struct {
	Queued, Played, Failed, Merged, Dropped uint64

	Pending int  // waiting to be played
	Playing bool // an announcement is being played

	LastPlayed  time.Time // when the last successful announcement ended
	LastError   error     // the last playback failure, nil if none yet
	LastErrorAt time.Time
}

// Announcer plays announcements one at a time, in order, through a Player,
// so that they never overlap. It is safe for concurrent use.
type Announcer struct {
	c     *Composer
	p     Player
	o     AnnouncerOpts
	clock clockwork.Clock

	ctx    context.Context // cancelled by Halt
	cancel context.CancelFunc
	wake   chan struct{} // a new announcement is waiting (buffered 1)
	done   chan struct{} // closed when the worker has returned

	mu      sync.Mutex
	pending []*job
	playing *job
	halted  bool
	stats   Stats
	healthy bool          // the last finished announcement played
	changed chan struct{} // closed and replaced on every change of state
}

type job struct {
	ann    Announcement
	repeat int
}

var _ conn.Resource = (*Announcer)(nil)

// NewAnnouncer starts an Announcer composing with c and playing on p; o nil
// means DefaultAnnouncerOpts. Halt stops it.
func NewAnnouncer(c *Composer, p Player, o *AnnouncerOpts) (*Announcer, error) {
	if c == nil || p == nil {
		return nil, errors.New("voice: announcer needs a composer and a player")
	}
	if o == nil {
		o = &DefaultAnnouncerOpts
	}
	switch {
	case o.QueueLen < 1:
		return nil, fmt.Errorf("voice: queue length %d, want at least 1", o.QueueLen)
	case o.Repeat < 1 || o.Repeat > MaxRepeat:
		return nil, fmt.Errorf("voice: repeat %d, want 1 to %d", o.Repeat, MaxRepeat)
	case o.RepeatPause < 0:
		return nil, fmt.Errorf("voice: repeat pause %v, want 0 or more", o.RepeatPause)
	case o.PlayMargin <= 0:
		return nil, fmt.Errorf("voice: play margin %v, want more than 0", o.PlayMargin)
	}
	a := &Announcer{
		c:       c,
		p:       p,
		o:       *o,
		clock:   o.Clock,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		healthy: true,
		changed: make(chan struct{}),
	}
	if a.clock == nil {
		a.clock = clockwork.NewRealClock()
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	go a.run()
	return a, nil
}

// String describes the announcer and its player.
func (a *Announcer) String() string { return fmt.Sprintf("voice announcer on %v", a.p) }

// Announce queues the call of ticket number to window, to be played repeat
// times (0 means AnnouncerOpts.Repeat); calling it again for the same ticket
// (a recall) announces it again. It returns once the announcement is
// queued, without waiting for it to play; composition errors (a bad number
// or window) are returned at once.
//
// When the queue is full, the oldest waiting announcement for the same
// window is replaced in its place in the queue by this one (counted as
// Merged): a window that has called again has moved on, and its newer call
// is the one worth hearing. When no announcement for that window waits,
// the call is refused with ErrQueueFull (counted as Dropped); nothing is
// dropped silently. The announcement already playing is never replaced.
func (a *Announcer) Announce(ctx context.Context, number string, window, repeat int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("voice: announce: %w", err)
	}
	if repeat == 0 {
		repeat = a.o.Repeat
	}
	if repeat < 1 || repeat > MaxRepeat {
		return fmt.Errorf("voice: repeat %d, want 1 to %d", repeat, MaxRepeat)
	}
	ann, err := a.c.Compose(number, window)
	if err != nil {
		return err
	}
	j := &job{ann: ann, repeat: repeat}

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.halted {
		return ErrHalted
	}
	if len(a.pending) < a.o.QueueLen {
		a.pending = append(a.pending, j)
		a.stats.Queued++
		a.notifyLocked()
		select {
		case a.wake <- struct{}{}:
		default:
		}
		return nil
	}
	for i, old := range a.pending {
		if old.ann.Window == window {
			a.pending[i] = j
			a.stats.Queued++
			a.stats.Merged++
			a.notifyLocked()
			return nil
		}
	}
	a.stats.Dropped++
	a.notifyLocked()
	return fmt.Errorf("%w: %d waiting, none for window %d", ErrQueueFull, len(a.pending), window)
}

// Stats returns a snapshot of the counters.
func (a *Announcer) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Pending = len(a.pending)
	s.Playing = a.playing != nil
	return s
}

// Health returns nil while the announcer works: no announcement has failed
// yet, or the last one to finish played. Otherwise it returns that
// failure, e.g. aplay's "audio open error" when the sound card is gone.
func (a *Announcer) Health() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.healthy {
		return nil
	}
	return a.stats.LastError
}

// Wait blocks until nothing is waiting or playing, or ctx is done.
func (a *Announcer) Wait(ctx context.Context) error {
	for {
		a.mu.Lock()
		idle := len(a.pending) == 0 && a.playing == nil
		ch := a.changed
		a.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("voice: wait: %w", ctx.Err())
		}
	}
}

// Halt stops the announcer: the announcement playing is cut off, those
// waiting are dropped, and later calls to Announce return ErrHalted. It
// returns once the player has returned. Halt may be called more than once.
func (a *Announcer) Halt() error {
	a.mu.Lock()
	if !a.halted {
		a.halted = true
		a.stats.Dropped += uint64(len(a.pending))
		a.pending = nil
		a.notifyLocked()
	}
	a.mu.Unlock()
	a.cancel()
	<-a.done
	return nil
}

// notifyLocked wakes Wait; a.mu must be held.
func (a *Announcer) notifyLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// run is the worker: it plays one announcement at a time until Halt.
func (a *Announcer) run() {
	defer close(a.done)
	for {
		a.mu.Lock()
		for len(a.pending) == 0 {
			if a.halted {
				a.mu.Unlock()
				return
			}
			a.mu.Unlock()
			select {
			case <-a.wake:
			case <-a.ctx.Done():
			}
			a.mu.Lock()
		}
		j := a.pending[0]
		a.pending[0] = nil
		a.pending = a.pending[1:]
		a.playing = j
		a.notifyLocked()
		a.mu.Unlock()

		err := a.announce(j)

		a.mu.Lock()
		a.playing = nil
		switch {
		case a.ctx.Err() != nil:
			a.stats.Dropped++ // cut off by Halt, not a fault
		case err != nil:
			a.stats.Failed++
			a.stats.LastError = err
			a.stats.LastErrorAt = a.clock.Now()
			a.healthy = false
		default:
			a.stats.Played++
			a.stats.LastPlayed = a.clock.Now()
			a.healthy = true
		}
		a.notifyLocked()
		a.mu.Unlock()
	}
}

// announce plays j.repeat times with pauses between, stopping at the first
// failure: a device that failed once will fail the repeat too.
func (a *Announcer) announce(j *job) error {
	for i := 0; i < j.repeat; i++ {
		if i > 0 && a.o.RepeatPause > 0 {
			t := a.clock.NewTimer(a.o.RepeatPause)
			select {
			case <-t.Chan():
			case <-a.ctx.Done():
				t.Stop()
				return a.ctx.Err()
			}
		}
		if err := a.playOnce(j.ann); err != nil {
			return fmt.Errorf("voice: %s to window %d, play %d of %d: %w", j.ann.Number, j.ann.Window, i+1, j.repeat, err)
		}
	}
	return nil
}

// errPlayTimeout is the cause a play's context is cancelled with when the
// player overruns the announcement's length plus the margin.
var errPlayTimeout = fmt.Errorf("voice: player overran the announcement: %w", context.DeadlineExceeded)

// playOnce plays ann once, bounded by its length plus the margin on the
// injected clock. A panicking Player is turned into an error.
func (a *Announcer) playOnce(ann Announcement) (err error) {
	ctx, cancel := context.WithCancelCause(a.ctx)
	defer cancel(nil)
	limit := ann.Duration + a.o.PlayMargin
	t := a.clock.AfterFunc(limit, func() { cancel(errPlayTimeout) })
	defer t.Stop()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("voice: player panicked: %v", r)
		}
	}()
	err = a.p.Play(ctx, ann.WAV)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, errPlayTimeout) {
		return fmt.Errorf("voice: no end %v after start (announcement %v): %w", limit, ann.Duration, cause)
	}
	return err
}
