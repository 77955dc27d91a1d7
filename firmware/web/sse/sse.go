package sse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"hallgw/firmware/gateway"
)

// Event is one message of a stream.
type Event struct {
	// ID becomes the client's last event id; "" leaves it unchanged.
	ID string
	// Type is the event name the page listens for; "" is "message".
	Type string
	// Data is the payload, usually one line of JSON. Line breaks are
	// allowed: each line is sent as its own data field.
	Data []byte
}

// Write writes ev in the text/event-stream format. Line breaks in ID and
// Type would end the field early, so they are refused.
func Write(w io.Writer, ev Event) error {
	if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Type, "\r\n") {
		return errors.New("sse: line break in event id or type")
	}
	var b bytes.Buffer
	if ev.ID != "" {
		b.WriteString("id: " + ev.ID + "\n")
	}
	if ev.Type != "" {
		b.WriteString("event: " + ev.Type + "\n")
	}
	data := bytes.ReplaceAll(ev.Data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// ParseLastEventID reads the id a reconnecting client sends back: a journal
// sequence number in decimal, at least 1, without sign, spaces or leading
// zeros (exactly what the stream wrote).
func ParseLastEventID(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Journal is the part of the journal a stream needs to decide whether the
// events after a Last-Event-ID can still be replayed.
type Journal interface {
	First() uint64
	Committed() uint64
}

// Follower delivers committed hall events from a sequence number on:
// *gateway.Feed.
type Follower interface {
	Follow(ctx context.Context, from uint64, fn func(gateway.Committed) error) error
}

// Defaults of a Stream's zero fields.
const (
	DefaultHeartbeat  = 15 * time.Second
	DefaultRetry      = 2 * time.Second
	DefaultMaxReplay  = 5000
	DefaultMaxClients = 64
)

// Source makes the messages of one connection.
type Source interface {
	// Start returns the first message of a fresh connection and the
	// sequence number it reflects: the stream goes on from seq+1.
	Start(ctx context.Context) (seq uint64, first Event, err error)
	// Event turns a committed hall event into a message; false skips it.
	// The stream sets the message's id to the event's sequence number.
	Event(ctx context.Context, c gateway.Committed) (Event, bool)
}

// Refresher is a Source that also sends a message once the stream has
// caught up after one or more events (one per burst, coalesced). The
// stream sets its id to the last event it has processed.
type Refresher interface {
	Refresh(ctx context.Context) (Event, error)
}

// settleDelay is how long a resumed stream waits for the follower before
// it refreshes anyway.
const settleDelay = 250 * time.Millisecond

// Stream serves one kind of page's events. Its fields are set before the
// first request and not changed afterwards.
type Stream struct {
	Feed    Follower
	Journal Journal
	// Open returns the source of one connection (it may read the
	// request's query); an error answers 400 with its text.
	Open func(r *http.Request) (Source, error)
	// MaxReplay is the largest gap a resume replays (default 5000
	// events); beyond it the client starts afresh.
	MaxReplay uint64
	// Heartbeat is the period of the comment lines that keep idle
	// connections open and find clients that left (default 15 s).
	Heartbeat time.Duration
	// Retry is the reconnection delay told to the browser (default 2 s).
	Retry time.Duration
	// MaxClients bounds the open streams (default 64); beyond it a client
	// gets 503 and retries.
	MaxClients int
	// Done, when closed, ends every stream (the daemon stops).
	Done <-chan struct{}

	clients atomic.Int64
}

// Clients returns the number of open streams.
func (s *Stream) Clients() int { return int(s.clients.Load()) }

// resumeFrom returns the sequence number to follow from for a client that
// sent a Last-Event-ID (header, or last_event_id in the query for clients
// that cannot set headers), or 0 when it must start afresh.
func (s *Stream) resumeFrom(r *http.Request) uint64 {
	raw := r.Header.Get("Last-Event-ID")
	if raw == "" {
		raw = r.URL.Query().Get("last_event_id")
	}
	last, ok := ParseLastEventID(raw)
	if !ok {
		return 0
	}
	maxReplay := s.MaxReplay
	if maxReplay == 0 {
		maxReplay = DefaultMaxReplay
	}
	committed, first := s.Journal.Committed(), s.Journal.First()
	switch {
	case last > committed: // another journal, or a client from the future
		return 0
	case last+1 < first: // reclaimed: the missed events are gone
		return 0
	case committed-last > maxReplay:
		return 0
	}
	return last + 1
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ServeHTTP streams until the client leaves, Done is closed or the feed
// ends (the gateway closes).
func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "sse: GET only", http.StatusMethodNotAllowed)
		return
	}
	maxClients := s.MaxClients
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	if n := s.clients.Add(1); n > int64(maxClients) {
		s.clients.Add(-1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "sse: too many open streams", http.StatusServiceUnavailable)
		return
	}
	defer s.clients.Add(-1)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if s.Done != nil {
		go func() {
			select {
			case <-s.Done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}

	src, err := s.Open(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	refresher, _ := src.(Refresher)
	from := s.resumeFrom(r)
	var first *Event
	if from == 0 {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		seq, ev, err := src.Start(sctx)
		scancel()
		if err != nil {
			http.Error(w, "sse: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		ev.ID = strconv.FormatUint(seq, 10)
		if seq == 0 {
			ev.ID = "" // an empty journal: nothing to resume from yet
		}
		first, from = &ev, seq+1
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", orDur(s.Retry, DefaultRetry).Milliseconds()); err != nil {
		return
	}
	if first != nil {
		if Write(w, *first) != nil {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}

	events := make(chan gateway.Committed, 64)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		// Follow ends with the gateway (ErrClosed) or with ctx; either
		// way the client reconnects and resumes.
		_ = s.Feed.Follow(ctx, from, func(c gateway.Committed) error {
			select {
			case events <- c:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	defer func() {
		cancel()
		<-ended
	}()

	hb := time.NewTicker(orDur(s.Heartbeat, DefaultHeartbeat))
	defer hb.Stop()
	// A resumed client gets a refresh once it has caught up with what was
	// committed when it came back (even when it missed nothing), or after
	// a short wait when the rest of the journal holds no hall event.
	dirty, last := first == nil, from-1
	caughtUp := first != nil
	target := s.Journal.Committed()
	settle := time.NewTimer(settleDelay)
	defer settle.Stop()
	for {
		if !caughtUp && last >= target {
			caughtUp = true
		}
		if dirty && caughtUp && len(events) == 0 && refresher != nil {
			ev, err := refresher.Refresh(ctx)
			if err != nil {
				return
			}
			if last > 0 {
				ev.ID = strconv.FormatUint(last, 10)
			}
			if Write(w, ev) != nil || rc.Flush() != nil {
				return
			}
			dirty = false
		}
		select {
		case c := <-events:
			last, dirty = c.Seq, true
			if ev, ok := src.Event(ctx, c); ok {
				ev.ID = strconv.FormatUint(c.Seq, 10)
				if Write(w, ev) != nil {
					return
				}
			}
			if len(events) == 0 && rc.Flush() != nil {
				return
			}
		case <-settle.C:
			caughtUp = true
		case <-hb.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-ended:
			return
		case <-ctx.Done():
			return
		}
	}
}
