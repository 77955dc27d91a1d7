package sse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"data only", Event{Data: []byte(`{"a":1}`)}, "data: {\"a\":1}\n\n"},
		{"id and type", Event{ID: "42", Type: "call", Data: []byte(`x`)}, "id: 42\nevent: call\ndata: x\n\n"},
		{"lines", Event{Data: []byte("a\nb\r\nc\rd")}, "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"empty data", Event{Type: "ping"}, "event: ping\ndata: \n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tt.ev); err != nil {
				t.Fatalf("Write(%+v) = %v", tt.ev, err)
			}
			if b.String() != tt.want {
				t.Errorf("Write(%+v) = %q, want %q", tt.ev, b.String(), tt.want)
			}
		})
	}
	for _, ev := range []Event{{ID: "1\n2"}, {Type: "a\rb"}, {ID: "1\x00"}} {
		if err := Write(&bytes.Buffer{}, ev); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", ev)
		}
	}
}

func TestParseLastEventID(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1", 1, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"", 0, false},
		{"0", 0, false},
		{"007", 0, false},
		{"+7", 0, false},
		{"-7", 0, false},
		{" 7", 0, false},
		{"7x", 0, false},
		{"gw-1:7", 0, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			got, ok := ParseLastEventID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseLastEventID(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseLastEventID(f *testing.F) {
	for _, s := range []string{"1", "0", "18446744073709551615", "99999999999999999999", "12a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseLastEventID(s)
		if !ok {
			return
		}
		if back := strconv.FormatUint(n, 10); back != s || n == 0 {
			t.Fatalf("ParseLastEventID(%q) = %d, which prints as %q", s, n, back)
		}
	})
}

// testSource sends every hall event as "hall" with its type, a snapshot
// "start" with the committed sequence, and "refresh" webtest.Messages.
type testSource struct{ h *webtest.Hall }

func (s testSource) Start(ctx context.Context) (uint64, Event, error) {
	var seq uint64
	err := s.h.Gateway.View(ctx, func(*hall.Hall) { seq = s.h.Journal.Committed() })
	return seq, Event{Type: "start", Data: []byte(strconv.FormatUint(seq, 10))}, err
}

func (s testSource) Event(_ context.Context, c gateway.Committed) (Event, bool) {
	if c.Event.Type == hall.EvTurnNear {
		return Event{}, false // skipped: the id still advances through refresh
	}
	b, _ := json.Marshal(c.Doc())
	return Event{Type: "hall", Data: b}, true
}

func (s testSource) Refresh(context.Context) (Event, error) {
	return Event{Type: "refresh", Data: []byte("{}")}, nil
}

func newServer(t *testing.T, h *webtest.Hall, s *Stream) *httptest.Server {
	s.Feed, s.Journal = h.Gateway.Feed(), h.Journal
	s.Open = func(*http.Request) (Source, error) { return testSource{h}, nil }
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func hallSeq(t *testing.T, m webtest.Message) (uint64, gateway.EventDoc) {
	t.Helper()
	var d gateway.EventDoc
	if err := json.Unmarshal([]byte(m.Data), &d); err != nil {
		t.Fatalf("hall webtest.Message %q: %v", m.Data, err)
	}
	if m.ID != strconv.FormatUint(d.Seq, 10) {
		t.Fatalf("hall webtest.Message id %q, want the seq %d", m.ID, d.Seq)
	}
	return d.Seq, d
}

func TestStreamResumeReplaysMissedEvents(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1")
	ts := newServer(t, h, &Stream{})

	c := webtest.Connect(t, ts.URL, "")
	start := c.NextOf("start")
	if start.ID == "" || start.ID != start.Data {
		t.Fatalf("start webtest.Message %+v: want the committed seq as id", start)
	}
	h.Issue(t, "social", 1)
	seq, doc := hallSeq(t, c.NextOf("hall"))
	if want, _ := strconv.ParseUint(start.ID, 10, 64); seq != want+1 || doc.Type != "ticket_issued" {
		t.Fatalf("first event seq %d %s, want %d ticket_issued", seq, doc.Type, want+1)
	}
	// EvTurnNear followed the issue and was skipped: a refresh carries
	// its seq, so a resume does not replay it. (The stream may refresh
	// between the two when they reach it apart.)
	refresh := c.NextOf("refresh")
	if refresh.ID == strconv.FormatUint(seq, 10) {
		refresh = c.NextOf("refresh")
	}
	if refresh.ID != strconv.FormatUint(h.Journal.Committed(), 10) {
		t.Fatalf("refresh id %q, want the last processed seq %d", refresh.ID, h.Journal.Committed())
	}
	c.Close()

	// Events while the client is away.
	h.Issue(t, "social", 2)
	h.Issue(t, "tax", 1)
	call := h.CallNext(t, "w1")
	want := []string{}
	for s := seq + 1; s <= h.Journal.Committed(); s++ {
		recs, err := h.Journal.Read(s, 1)
		if err != nil || len(recs) != 1 {
			t.Fatalf("read %d: %v", s, err)
		}
		var ev hall.Event
		if err := ev.UnmarshalBinary(recs[0].Data); err != nil {
			t.Fatal(err)
		}
		if ev.Type != hall.EvTurnNear && s > mustUint(refresh.ID) {
			want = append(want, fmt.Sprintf("%d %s", s, ev.Type))
		}
	}

	c = webtest.Connect(t, ts.URL, refresh.ID)
	var got []string
	for len(got) < len(want) {
		s, d := hallSeq(t, c.NextOf("hall"))
		got = append(got, fmt.Sprintf("%d %s", s, d.Type))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	if got[len(got)-1] != fmt.Sprintf("%d ticket_called", call.Seq) {
		t.Fatalf("last replayed %q, want the call at %d", got[len(got)-1], call.Seq)
	}
	if r := c.NextOf("refresh"); r.ID != strconv.FormatUint(h.Journal.Committed(), 10) {
		t.Fatalf("refresh after replay has id %q, want %d", r.ID, h.Journal.Committed())
	}
	// And it goes on live.
	h.Issue(t, "delivery", 1)
	if _, d := hallSeq(t, c.NextOf("hall")); d.Type != "ticket_issued" || d.Service != "delivery" {
		t.Fatalf("live event after resume: %+v", d)
	}
}

func mustUint(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func TestStreamResumeImpossibleStartsAfresh(t *testing.T) {
	h := webtest.NewHall(t)
	h.Issue(t, "social", 5) // about ten events
	committed := h.Journal.Committed()
	ts := newServer(t, h, &Stream{MaxReplay: 3})
	tests := []struct {
		name, lastID string
		fresh        bool
	}{
		{"from the future", strconv.FormatUint(committed+10, 10), true},
		{"gap beyond MaxReplay", "1", true},
		{"not a number", "abc", true},
		{"within MaxReplay", strconv.FormatUint(committed-2, 10), false},
		{"up to date", strconv.FormatUint(committed, 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := webtest.Connect(t, ts.URL, tt.lastID)
			m := c.Next()
			if fresh := m.Type == "start"; fresh != tt.fresh {
				t.Fatalf("Last-Event-ID %s: first webtest.Message %+v, want fresh start %v", tt.lastID, m, tt.fresh)
			}
			if tt.fresh && m.ID != strconv.FormatUint(committed, 10) {
				t.Errorf("fresh start id %q, want %d", m.ID, committed)
			}
			if !tt.fresh && m.Type != "hall" && m.Type != "refresh" {
				t.Errorf("resume began with %+v", m)
			}
		})
	}
}

func TestStreamQueryLastEventID(t *testing.T) {
	h := webtest.NewHall(t)
	first := h.Issue(t, "social", 1)
	h.Issue(t, "tax", 1)
	ts := newServer(t, h, &Stream{})
	c := webtest.Connect(t, ts.URL+"?last_event_id="+strconv.FormatUint(first.Seq, 10), "")
	for {
		m := c.NextOf("hall")
		if _, d := hallSeq(t, m); d.Type == "ticket_issued" {
			if d.Service != "tax" {
				t.Fatalf("resumed at %+v, want the tax ticket after seq %d", d, first.Seq)
			}
			return
		}
	}
}

func TestStreamHeartbeatAndDone(t *testing.T) {
	h := webtest.NewHall(t)
	done := make(chan struct{})
	ts := newServer(t, h, &Stream{Heartbeat: 20 * time.Millisecond, Done: done})
	c := webtest.Connect(t, ts.URL, "")
	c.NextOf("start")
	if m := c.Next(); m.Comment != "ping" {
		t.Fatalf("idle stream sent %+v, want a ping comment", m)
	}
	close(done)
	if !c.Ended() {
		t.Fatal("the stream goes on after Done was closed")
	}
}

func TestStreamMaxClients(t *testing.T) {
	h := webtest.NewHall(t)
	s := &Stream{MaxClients: 1}
	ts := newServer(t, h, s)
	c := webtest.Connect(t, ts.URL, "")
	c.NextOf("start")
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second client: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	if s.Clients() != 1 {
		t.Fatalf("Clients() = %d, want 1", s.Clients())
	}
	resp, err = http.Post(ts.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %s, want 405", resp.Status)
	}
}

func TestStreamEndsWhenGatewayCloses(t *testing.T) {
	h := webtest.NewHall(t)
	ts := newServer(t, h, &Stream{})
	c := webtest.Connect(t, ts.URL, "")
	c.NextOf("start")
	h.Close(t)
	if !c.Ended() {
		t.Fatal("the stream goes on after the gateway closed")
	}
}
