package otaupdate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"

	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/update"
	"hallgw/firmware/uplink"
)

var testRoot = uplink.NewTopics("hallgw", testHall, testGW).Root

// dial connects a paho client to the broker.
func dial(t testing.TB, url, id string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetOrderMatters(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

// platform is a Server on its own client, serving the given bundles.
func platform(t testing.TB, url string, log *requestLog, bundles ...string) *Server {
	t.Helper()
	o := ServerOpts{Client: dial(t, url, "platform"), Hall: testHall, Gateway: testGW}
	if log != nil {
		o.Intercept = log.intercept
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, b := range bundles {
		if _, err := s.Add(b, 1024); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Subscribe(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// download begins the download of b in a fresh staging area.
func download(t testing.TB, b []byte) *update.Download {
	t.Helper()
	st := &update.Staging{Dir: t.TempDir()}
	d, err := st.Begin(offerOf(b, 1024, ""))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// TestTransportFetches downloads a file through broker, platform server
// and transport, and checks it byte for byte.
func TestTransportFetches(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(20*1024 + 17)
	file := writeFile(t, t.TempDir(), "b.tar", data)
	srv := platform(t, b.URL(), nil, file)
	gw := dial(t, b.URL(), "gateway")
	tr, err := NewTransport(func() mqtt.Client { return gw }, testRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	d := download(t, data)
	src := tr.Source(d)
	defer src.Close()
	path, err := update.Fetch(t.Context(), d, src)
	if err != nil {
		t.Fatalf("Fetch = %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes (%v), want the %d bytes served", len(got), err, len(data))
	}
	if st := tr.Stats(); st.Chunks != 21 || st.Requests < 21 || st.Bad != 0 {
		t.Errorf("transport stats = %+v, want 21 chunks taken, no bad message", st)
	}
	if st := srv.Stats(); st.Served < 21 || st.Unknown != 0 || st.Bad != 0 {
		t.Errorf("server stats = %+v, want 21 served", st)
	}
}

// TestTransportAsksAgain loses the first request of chunk 1: the transport
// asks again once its timeout passes on the (fake) clock.
func TestTransportAsksAgain(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(3 * 1024)
	log := newRequestLog()
	var dropped atomic.Bool
	log.setHold(func(i int) bool { return i == 1 && dropped.CompareAndSwap(false, true) })
	platform(t, b.URL(), log, writeFile(t, t.TempDir(), "b.tar", data))
	gw := dial(t, b.URL(), "gateway")
	clock := clockwork.NewFakeClock()
	o := DefaultTransportOpts
	o.Clock = clock
	tr, err := NewTransport(func() mqtt.Client { return gw }, testRoot, &o)
	if err != nil {
		t.Fatal(err)
	}
	d := download(t, data)
	src := tr.Source(d)
	defer src.Close()
	done := make(chan error, 1)
	go func() {
		_, err := update.Fetch(t.Context(), d, src)
		done <- err
	}()
	eventually(t, "chunk 0 on disk and the request of 1 lost", func() bool {
		r, _ := d.Progress()
		return r == 1 && dropped.Load()
	})
	// Once: the request of chunk 1 times out and is sent again.
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(o.Timeout)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Fetch = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Fetch did not finish")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.counts[1] != 2 || log.counts[0] != 1 || log.counts[2] == 0 {
		t.Errorf("requests by chunk = %v, want chunk 0 once, chunk 1 twice", log.counts)
	}
}

// advanceUntil advances the fake clock by d each time the transport
// waits on it, until done yields.
func advanceUntil(t *testing.T, clock *clockwork.FakeClock, d time.Duration, done <-chan error) error {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case <-deadline:
			t.Fatal("timed out")
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		if clock.BlockUntilContext(ctx, 1) == nil {
			clock.Advance(d)
		}
		cancel()
	}
}

// TestTransportGivesUp: a platform that never answers makes Chunk fail
// with ErrNoAnswer after the retries.
func TestTransportGivesUp(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(2 * 1024)
	log := newRequestLog()
	log.setHold(func(int) bool { return true })
	platform(t, b.URL(), log, writeFile(t, t.TempDir(), "b.tar", data))
	gw := dial(t, b.URL(), "gateway")
	clock := clockwork.NewFakeClock()
	o := DefaultTransportOpts
	o.Clock, o.Retries = clock, 2
	tr, _ := NewTransport(func() mqtt.Client { return gw }, testRoot, &o)
	src := tr.Source(download(t, data))
	defer src.Close()
	done := make(chan error, 1)
	go func() {
		_, err := src.Chunk(t.Context(), 0)
		done <- err
	}()
	if err := advanceUntil(t, clock, o.Timeout, done); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Chunk = %v, want ErrNoAnswer", err)
	}
	eventually(t, "the platform seeing chunk 0 asked for 3 times (once and 2 retries)", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return log.counts[0] == 3
	})
}

// TestTransportPlatformError: a bundle the platform does not serve fails
// at once with the platform's reason.
func TestTransportPlatformError(t *testing.T) {
	b := startBroker(t, "")
	srv := platform(t, b.URL(), nil) // serves nothing
	gw := dial(t, b.URL(), "gateway")
	tr, _ := NewTransport(func() mqtt.Client { return gw }, testRoot, nil)
	src := tr.Source(download(t, randomBytes(1500)))
	defer src.Close()
	_, err := src.Chunk(t.Context(), 0)
	if !errors.Is(err, ErrPlatform) {
		t.Fatalf("Chunk = %v, want ErrPlatform", err)
	}
	if st := srv.Stats(); st.Unknown == 0 {
		t.Errorf("server stats = %+v, want the request counted as unknown", st)
	}
	if _, err := src.Chunk(t.Context(), 2); !errors.Is(err, update.ErrChunkIndex) {
		t.Errorf("Chunk(2 of 2) = %v, want ErrChunkIndex", err)
	}
}

// TestTransportNewSession switches the uplink's client while requests are
// outstanding: they are sent again on the new session at once, not after
// the (one-minute) timeout.
func TestTransportNewSession(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(4 * 1024)
	log := newRequestLog()
	log.setHold(func(int) bool { return true })
	platform(t, b.URL(), log, writeFile(t, t.TempDir(), "b.tar", data))
	first, second := dial(t, b.URL(), "gateway-1"), dial(t, b.URL(), "gateway-2")
	var cur atomic.Pointer[mqtt.Client]
	cur.Store(&first)
	o := DefaultTransportOpts
	o.Timeout, o.Poll = time.Minute, 20*time.Millisecond
	tr, _ := NewTransport(func() mqtt.Client { return *cur.Load() }, testRoot, &o)
	d := download(t, data)
	src := tr.Source(d)
	defer src.Close()
	done := make(chan error, 1)
	go func() {
		_, err := update.Fetch(t.Context(), d, src)
		done <- err
	}()
	eventually(t, "the first requests", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return log.counts[0] > 0
	})
	log.mark()
	log.setHold(nil)
	cur.Store(&second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Fetch = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the requests were not sent again on the new session")
	}
	if r, n := d.Progress(); r != n {
		t.Errorf("progress %d of %d", r, n)
	}
}

// TestTransportBadMessages feeds the chunk topic junk, a retained chunk,
// a chunk nobody asked for and a chunk of the wrong size: none is taken.
func TestTransportBadMessages(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(2 * 1024)
	d := download(t, data)
	o := d.Offer()
	// A platform that answers every request with a short chunk.
	if err := b.Subscribe(testRoot+"/"+LeafRequest, func(m mqttbroker.Message) {
		r, err := DecodeRequest(m.Payload)
		if err != nil {
			return
		}
		msg, _ := EncodeChunk(Chunk{SHA256: r.SHA256, Index: r.Index, Data: []byte("short")})
		go b.Publish(testRoot+"/"+LeafChunk, msg, false, 1)
	}); err != nil {
		t.Fatal(err)
	}
	gw := dial(t, b.URL(), "gateway")
	opts := DefaultTransportOpts
	opts.Retries = 2
	tr, _ := NewTransport(func() mqtt.Client { return gw }, testRoot, &opts)
	src := tr.Source(d)
	defer src.Close()
	if err := tr.subscribe(t.Context(), gw); err != nil {
		t.Fatal(err)
	}
	stray, _ := EncodeChunk(Chunk{SHA256: o.SHA256, Index: 1, Data: data[1024:]})
	b.Publish(tr.ChunkTopic(), []byte("{not json"), false, 1)
	b.Publish(tr.ChunkTopic(), stray, true, 1)
	b.Publish(tr.ChunkTopic(), stray, false, 1)
	eventually(t, "the junk counted", func() bool {
		st := tr.Stats()
		return st.Bad >= 1 && st.Unexpected >= 2
	})
	_, err := src.Chunk(t.Context(), 0)
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Chunk with only short answers = %v, want ErrNoAnswer", err)
	}
	if st := tr.Stats(); st.Bad < 4 || st.Chunks != 0 {
		t.Errorf("stats = %+v, want the 3 short chunks counted bad and none taken", st)
	}
}

func TestNewTransportChecks(t *testing.T) {
	client := func() mqtt.Client { return nil }
	tests := []struct {
		name   string
		client func() mqtt.Client
		root   string
		o      TransportOpts
	}{
		{"no client", nil, "r", DefaultTransportOpts},
		{"no root", client, "", DefaultTransportOpts},
		{"window 0", client, "r", TransportOpts{Window: 0, Timeout: time.Second, Poll: time.Second}},
		{"window 65", client, "r", TransportOpts{Window: 65, Timeout: time.Second, Poll: time.Second}},
		{"no timeout", client, "r", TransportOpts{Window: 1, Poll: time.Second}},
		{"negative retries", client, "r", TransportOpts{Window: 1, Timeout: time.Second, Retries: -1, Poll: time.Second}},
		{"no poll", client, "r", TransportOpts{Window: 1, Timeout: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tr, err := NewTransport(tt.client, tt.root, &tt.o); err == nil {
				t.Errorf("NewTransport(%s) = %v, nil, want an error", tt.name, tr)
			}
		})
	}
	// Not connected: Chunk waits until ctx ends.
	tr, err := NewTransport(client, "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := tr.Source(download(t, randomBytes(1024))).Chunk(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Chunk while disconnected, ctx cancelled = %v, want context.Canceled", err)
	}
}
