package otaupdate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/update"
	"hallgw/firmware/uplink"
)

// The platform side: a reference implementation of what the provincial
// platform does to update a gateway, used by the tests and by
// "hallgw update serve".

// ServerOpts configure a Server.
type ServerOpts struct {
	// Client is the platform's MQTT client, connected. Required.
	Client mqtt.Client
	// Prefix ("" means "hallgw"), Hall and Gateway choose the gateways
	// served; an empty hall or gateway serves all of them.
	Prefix, Hall, Gateway string
	// Intercept, when set, sees each request first (on the server's
	// goroutine); false drops it, as if it were lost.
	Intercept func(root string, r Request) bool
	// Served, when set, is called after each chunk is published.
	Served func(root string, r Request)
}

// ServerStats count a server's work.
type ServerStats struct {
	Requests uint64 // requests received
	Served   uint64 // chunks published
	Unknown  uint64 // requests for bundles or chunks not served (answered with an error)
	Dropped  uint64 // requests dropped (Intercept, a full queue)
	Bad      uint64 // messages that did not decode
}

// Server answers the gateways' chunk requests with chunks of the bundle
// files added to it. Its message handler only queues; one goroutine reads
// and publishes.
type Server struct {
	o      ServerOpts
	filter string
	q      chan queued
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{}

	requests, served, unknown, dropped, bad atomic.Uint64

	mu      sync.Mutex
	bundles map[string]*servedBundle
	closed  bool
}

type queued struct {
	root string
	r    Request
}

type servedBundle struct {
	f     *os.File
	offer update.Offer
}

// serverQueue bounds the requests waiting; more are dropped (the gateway
// asks again after its timeout).
const serverQueue = 256

// NewServer returns a server on o.Client. Add bundles, then Subscribe.
func NewServer(o ServerOpts) (*Server, error) {
	if o.Client == nil {
		return nil, errors.New("otaupdate: server needs an MQTT client")
	}
	if o.Prefix == "" {
		o.Prefix = "hallgw"
	}
	hall, gw := o.Hall, o.Gateway
	if hall == "" {
		hall = "+"
	}
	if gw == "" {
		gw = "+"
	}
	s := &Server{o: o, filter: uplink.NewTopics(o.Prefix, hall, gw).Root + "/" + LeafRequest,
		q: make(chan queued, serverQueue), done: make(chan struct{}), bundles: map[string]*servedBundle{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.loop()
	return s, nil
}

// RequestFilter is the subscription filter of the requests served.
func (s *Server) RequestFilter() string { return s.filter }

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Requests: s.requests.Load(), Served: s.served.Load(), Unknown: s.unknown.Load(),
		Dropped: s.dropped.Load(), Bad: s.bad.Load()}
}

// Add serves the bundle file at path in chunks of chunkSize bytes (0:
// DefaultChunkSize) and returns its offer, the arguments of the update
// command.
func (s *Server) Add(path string, chunkSize int) (update.Offer, error) {
	o, err := BundleOffer(path, chunkSize)
	if err != nil {
		return update.Offer{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return update.Offer{}, fmt.Errorf("otaupdate: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		return update.Offer{}, errors.New("otaupdate: server closed")
	}
	if old := s.bundles[o.SHA256]; old != nil {
		old.f.Close()
	}
	s.bundles[o.SHA256] = &servedBundle{f: f, offer: o}
	return o, nil
}

// Subscribe subscribes to the requests. Call it again after the client
// reconnects with a clean session (from its OnConnect handler).
func (s *Server) Subscribe(ctx context.Context) error {
	return subscribe(ctx, s.o.Client.Subscribe(s.filter, 1, s.onRequest), 10*time.Second)
}

// onRequest runs in the client's goroutine: decode and queue.
func (s *Server) onRequest(_ mqtt.Client, m mqtt.Message) {
	if m.Retained() {
		s.dropped.Add(1)
		return
	}
	r, err := DecodeRequest(m.Payload())
	root, ok := strings.CutSuffix(m.Topic(), "/"+LeafRequest)
	if err != nil || !ok {
		s.bad.Add(1)
		return
	}
	s.requests.Add(1)
	select {
	case s.q <- queued{root: root, r: r}:
	default:
		s.dropped.Add(1)
	}
}

func (s *Server) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case q := <-s.q:
			s.answer(q)
		}
	}
}

// answer publishes the chunk a request asks for, or an error.
func (s *Server) answer(q queued) {
	if s.o.Intercept != nil && !s.o.Intercept(q.root, q.r) {
		s.dropped.Add(1)
		return
	}
	c := Chunk{SHA256: q.r.SHA256, Index: q.r.Index}
	s.mu.Lock()
	b := s.bundles[q.r.SHA256]
	s.mu.Unlock()
	switch {
	case b == nil:
		c.Error = "unknown bundle"
	case q.r.Index >= b.offer.Chunks():
		c.Error = fmt.Sprintf("no chunk %d: the bundle has %d", q.r.Index, b.offer.Chunks())
	default:
		buf := make([]byte, chunkLen(b.offer, q.r.Index))
		if _, err := b.f.ReadAt(buf, int64(q.r.Index)*int64(b.offer.ChunkSize)); err != nil && !errors.Is(err, io.EOF) {
			c.Error = "cannot read the bundle"
		} else {
			c.Data = buf
		}
	}
	if c.Error != "" {
		s.unknown.Add(1)
	}
	msg, err := EncodeChunk(c)
	if err != nil {
		s.bad.Add(1)
		return
	}
	if err := waitToken(s.ctx, s.o.Client.Publish(q.root+"/"+LeafChunk, 1, false, msg), 30*time.Second); err != nil {
		return // the gateway asks again
	}
	if c.Error == "" {
		s.served.Add(1)
		if s.o.Served != nil {
			s.o.Served(q.root, q.r)
		}
	}
}

// Close stops serving and closes the bundle files. The client stays
// connected.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	if s.o.Client.IsConnectionOpen() {
		s.o.Client.Unsubscribe(s.filter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bundles {
		b.f.Close()
	}
	s.bundles = nil
	return nil
}

// subscribe waits for a subscription and checks what the broker granted:
// paho reports a refused filter (a return code of 0x80 or more; mochi
// answers 0x91, "packet identifier in use", when the SUBSCRIBE's id
// matches one of its own publishes in flight) only in the token's result.
func subscribe(ctx context.Context, tok mqtt.Token, d time.Duration) error {
	if err := waitToken(ctx, tok, d); err != nil {
		return err
	}
	st, ok := tok.(*mqtt.SubscribeToken)
	if !ok {
		return nil
	}
	for filter, code := range st.Result() {
		if code >= 0x80 {
			return fmt.Errorf("%w: %s: return code %#x", ErrSubscribe, filter, code)
		}
	}
	return nil
}

// ErrSubscribe: the broker refused a subscription.
var ErrSubscribe = errors.New("otaupdate: subscription refused")

// waitToken waits for a paho token until ctx ends or d passes.
func waitToken(ctx context.Context, tok mqtt.Token, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("otaupdate: no answer from the broker")
	}
}
