package otaupdate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"

	"hallgw/firmware/update"
)

// Errors of a chunk source.
var (
	// ErrNoAnswer: the platform did not send a chunk, asked for again and
	// again, within the timeouts.
	ErrNoAnswer = errors.New("otaupdate: no answer from the platform")
	// ErrPlatform: the platform answered a request with an error (it does
	// not serve that bundle).
	ErrPlatform = errors.New("otaupdate: the platform refused the request")
)

// MaxBuffered bounds the bytes of chunks received ahead and waiting in
// memory: the window shrinks for large chunks.
const MaxBuffered = 8 << 20

// TransportOpts tune a Transport.
type TransportOpts struct {
	// Window is how many chunk requests may be outstanding at once.
	Window int
	// Timeout is how long a request waits for its chunk before it is sent
	// again.
	Timeout time.Duration
	// Retries is how often one chunk is asked for again after a timeout
	// before the source gives up (ErrNoAnswer); the download then waits and
	// resumes.
	Retries int
	// Poll is how often a waiting source looks for a new connection of the
	// uplink.
	Poll time.Duration
	// Clock paces timeouts; nil means the real clock.
	Clock clockwork.Clock
}

// DefaultTransportOpts are the defaults of NewTransport.
var DefaultTransportOpts = TransportOpts{Window: 4, Timeout: 30 * time.Second, Retries: 4, Poll: time.Second}

func (o *TransportOpts) validate() error {
	switch {
	case o.Window < 1 || o.Window > 64:
		return fmt.Errorf("otaupdate: window %d not in [1, 64]", o.Window)
	case o.Timeout <= 0:
		return fmt.Errorf("otaupdate: timeout %v", o.Timeout)
	case o.Retries < 0:
		return fmt.Errorf("otaupdate: retries %d", o.Retries)
	case o.Poll <= 0:
		return fmt.Errorf("otaupdate: poll %v", o.Poll)
	}
	return nil
}

// TransportStats count what a Transport sent and received.
type TransportStats struct {
	Requests   uint64 `json:"requests"`   // chunk requests published
	Chunks     uint64 `json:"chunks"`     // chunks taken for a waiting request
	Unexpected uint64 `json:"unexpected"` // chunks nobody waited for (late, repeated)
	Bad        uint64 `json:"bad"`        // messages that did not decode, or of the wrong size
}

// Transport fetches chunks over the uplink's MQTT connection: it publishes
// requests on <Root>/update/req and takes the answers on
// <Root>/update/chunk. The uplink makes a new client per session; the
// transport subscribes on each one it sees and asks again for everything
// outstanding, since answers sent while it was away are lost. Its message
// handler never blocks the client.
type Transport struct {
	client       func() mqtt.Client
	o            TransportOpts
	clock        clockwork.Clock
	reqT, chunkT string

	requests, chunks, unexpected, bad atomic.Uint64

	mu         sync.Mutex
	subscribed mqtt.Client
	want       map[wantKey]*pending
	changed    chan struct{} // closed and replaced at every arrival or new session
}

type wantKey struct {
	sha   string
	index int
}

// pending is one requested chunk.
type pending struct {
	sent time.Time // zero: to be sent (again)
	done bool
	data []byte
	err  string
}

// NewTransport returns a transport on the clients client returns (nil
// while there is none) for the gateway whose topic root is root. o nil
// means DefaultTransportOpts.
func NewTransport(client func() mqtt.Client, root string, o *TransportOpts) (*Transport, error) {
	if client == nil || root == "" {
		return nil, errors.New("otaupdate: transport needs a client and a topic root")
	}
	opts := DefaultTransportOpts
	if o != nil {
		opts = *o
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Transport{client: client, o: opts, clock: clock, reqT: root + "/" + LeafRequest,
		chunkT: root + "/" + LeafChunk, want: map[wantKey]*pending{}, changed: make(chan struct{})}, nil
}

// String names the transport.
func (t *Transport) String() string { return "otaupdate(" + t.reqT + ")" }

// RequestTopic returns the topic requests go to.
func (t *Transport) RequestTopic() string { return t.reqT }

// ChunkTopic returns the topic chunks arrive on.
func (t *Transport) ChunkTopic() string { return t.chunkT }

// Stats returns the counters.
func (t *Transport) Stats() TransportStats {
	return TransportStats{Requests: t.requests.Load(), Chunks: t.chunks.Load(),
		Unexpected: t.unexpected.Load(), Bad: t.bad.Load()}
}

// Connected reports whether the uplink has an open connection.
func (t *Transport) Connected() bool { return t.open() != nil }

func (t *Transport) open() mqtt.Client {
	c := t.client()
	if c == nil || !c.IsConnectionOpen() {
		return nil
	}
	return c
}

// wake tells every waiting source that something changed. t.mu is held.
func (t *Transport) wake() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// subscribe subscribes to the chunks on c once per client. Requests still
// outstanding from an earlier session are sent again.
func (t *Transport) subscribe(ctx context.Context, c mqtt.Client) error {
	t.mu.Lock()
	done := t.subscribed == c
	t.mu.Unlock()
	if done {
		return nil
	}
	if err := subscribe(ctx, c.Subscribe(t.chunkT, 1, t.onChunk), t.o.Timeout); err != nil {
		return fmt.Errorf("otaupdate: subscribe %s: %w", t.chunkT, err)
	}
	t.mu.Lock()
	t.subscribed = c
	for _, p := range t.want {
		if !p.done {
			p.sent = time.Time{}
		}
	}
	t.mu.Unlock()
	return nil
}

// onChunk runs in the client's goroutine: decode, hand over, never block.
func (t *Transport) onChunk(_ mqtt.Client, m mqtt.Message) {
	if m.Retained() {
		t.unexpected.Add(1)
		return
	}
	c, err := DecodeChunk(m.Payload())
	if err != nil {
		t.bad.Add(1)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.want[wantKey{c.SHA256, c.Index}]
	if p == nil || p.done {
		t.unexpected.Add(1)
		return
	}
	p.done, p.data, p.err = true, c.Data, c.Error
	t.wake()
}

// Close unsubscribes from the chunks (best effort).
func (t *Transport) Close() error {
	t.mu.Lock()
	c := t.subscribed
	t.subscribed = nil
	t.mu.Unlock()
	if c != nil && c.IsConnectionOpen() {
		c.Unsubscribe(t.chunkT)
	}
	return nil
}

// Source returns the chunk source of download d. Close it when done.
func (t *Transport) Source(d *update.Download) ChunkSource {
	o := d.Offer()
	w := min(t.o.Window, max(1, MaxBuffered/o.ChunkSize))
	return &mqttSource{t: t, d: d, offer: o, window: w}
}

// ChunkSource is an update.ChunkSource that holds resources until closed.
type ChunkSource interface {
	update.ChunkSource
	// Close forgets what is still outstanding.
	Close()
}

// Link opens chunk sources; *Transport is the MQTT one.
type Link interface {
	Source(d *update.Download) ChunkSource
}

// mqttSource fetches the chunks of one download with a window of
// outstanding requests: while update.Fetch writes chunk i, chunks i+1… are
// already on their way.
type mqttSource struct {
	t      *Transport
	d      *update.Download
	offer  update.Offer
	window int
}

// chunkLen is the length chunk i of o must have.
func chunkLen(o update.Offer, i int) int {
	if i == o.Chunks()-1 {
		if rem := int(o.Size % int64(o.ChunkSize)); rem != 0 {
			return rem
		}
	}
	return o.ChunkSize
}

// Chunk returns chunk i. It waits while the uplink has no connection,
// asks again after each timeout, and gives up with ErrNoAnswer after
// Retries timeouts of chunk i, or at once with ErrPlatform when the
// platform answers with an error.
func (s *mqttSource) Chunk(ctx context.Context, i int) ([]byte, error) {
	if i < 0 || i >= s.offer.Chunks() {
		return nil, fmt.Errorf("%w: %d of %d", update.ErrChunkIndex, i, s.offer.Chunks())
	}
	t := s.t
	misses := 0
	for {
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := t.o.Poll
		if c := t.open(); c != nil {
			if err := t.subscribe(ctx, c); err == nil {
				data, perr, got, expired := s.take(i)
				switch {
				case got && perr != "":
					return nil, fmt.Errorf("%w: chunk %d: %s", ErrPlatform, i, perr)
				case got && len(data) != chunkLen(s.offer, i):
					t.bad.Add(1)
					expired = true
				case got:
					t.chunks.Add(1)
					return data, nil
				}
				if expired {
					if misses++; misses > t.o.Retries {
						return nil, fmt.Errorf("%w: chunk %d asked for %d times", ErrNoAnswer, i, misses)
					}
					continue
				}
				wait = s.request(c, i)
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		if err := sleep(ctx, t.clock, wait, changed); err != nil {
			return nil, err
		}
	}
}

// take removes chunk i when it arrived. Otherwise it reports whether its
// request timed out, and marks it to be sent again.
func (s *mqttSource) take(i int) (data []byte, perr string, got, expired bool) {
	t := s.t
	k := wantKey{s.offer.SHA256, i}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.want[k]
	switch {
	case p == nil:
		return nil, "", false, false
	case p.done:
		delete(t.want, k)
		return p.data, p.err, true, false
	case !p.sent.IsZero() && !t.clock.Now().Before(p.sent.Add(t.o.Timeout)):
		p.sent = time.Time{}
		return nil, "", false, true
	}
	return nil, "", false, false
}

// request sends the requests of the window starting at chunk i that are
// not outstanding, and returns how long to wait for the next timeout (at
// most Poll).
func (s *mqttSource) request(c mqtt.Client, i int) time.Duration {
	t := s.t
	missing := s.d.Missing(s.window)
	now := t.clock.Now()
	wait := t.o.Poll
	var send []int
	t.mu.Lock()
	for _, j := range missing {
		if j < i {
			continue
		}
		k := wantKey{s.offer.SHA256, j}
		p := t.want[k]
		if p == nil {
			p = &pending{}
			t.want[k] = p
		}
		if p.done {
			continue
		}
		if p.sent.IsZero() || (j != i && !now.Before(p.sent.Add(t.o.Timeout))) {
			p.sent = now
			send = append(send, j)
			wait = min(wait, t.o.Timeout)
			continue
		}
		wait = min(wait, p.sent.Add(t.o.Timeout).Sub(now))
	}
	t.mu.Unlock()
	for _, j := range send {
		msg, err := EncodeRequest(Request{SHA256: s.offer.SHA256, Index: j})
		if err != nil {
			continue // an index beyond the wire's range cannot be offered
		}
		// The PUBACK is not awaited: a request that is lost is sent again
		// after its timeout or on the next session.
		c.Publish(t.reqT, 1, false, msg)
		t.requests.Add(1)
	}
	return max(wait, time.Millisecond)
}

// Close forgets the source's outstanding requests; chunks that arrive for
// them later are dropped.
func (s *mqttSource) Close() {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.want {
		if k.sha == s.offer.SHA256 {
			delete(t.want, k)
		}
	}
}

// sleep waits for d on clock, or until wake is closed or ctx ends. The
// timer is stopped on the way out, so a fake clock counts only the waits
// under way.
func sleep(ctx context.Context, clock clockwork.Clock, d time.Duration, wake <-chan struct{}) error {
	tm := clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-tm.Chan():
	}
	return nil
}
