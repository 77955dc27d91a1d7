package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/journal"
	"hallgw/firmware/mqttbroker"
)

const (
	testGW   = "gw-t1"
	testHall = "hall-t"
)

// testLogger logs to the test when -v, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func openJournal(t testing.TB, dir string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: testGW})
	if err != nil {
		t.Fatal(err)
	}
	j.Hold("uplink")
	return j
}

// probe returns n business records of a test kind whose JSON data is
// about size bytes.
func probes(from, n, size int) []journal.Record {
	recs := make([]journal.Record, n)
	for i := range recs {
		d := fmt.Sprintf(`{"type":"probe","n":%d,"pad":"`, from+i)
		pad := max(0, size-len(d)-2)
		recs[i] = journal.Record{Kind: "probe", Data: []byte(d + strings.Repeat("x", pad) + `"}`)}
	}
	return recs
}

func appendProbes(t testing.TB, j *journal.Journal, n, size int) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		k := min(500, n-i)
		if _, err := j.Append(context.Background(), probes(i, k, size)...); err != nil {
			t.Fatal(err)
		}
	}
}

// seen is what a subscriber received, in order.
type seen struct {
	mu   sync.Mutex
	msgs []mqttbroker.Message
	ch   chan struct{}
}

func newSeen() *seen { return &seen{ch: make(chan struct{}, 1)} }

func (s *seen) add(m mqttbroker.Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func (s *seen) all() []mqttbroker.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mqttbroker.Message(nil), s.msgs...)
}

// waitFor waits up to 20 s until cond holds on the messages seen.
func (s *seen) waitFor(t testing.TB, what string, cond func([]mqttbroker.Message) bool) []mqttbroker.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		m := s.all()
		if cond(m) {
			return m
		}
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; %d messages seen, last: %s", what, len(m), lastTopics(m, 5))
		}
	}
}

func lastTopics(m []mqttbroker.Message, n int) string {
	var b strings.Builder
	for _, x := range m[max(0, len(m)-n):] {
		fmt.Fprintf(&b, "\n  %s %.200s", x.Topic, x.Payload)
	}
	return b.String()
}

func hasSuffix(topic, leaf string) bool { return strings.HasSuffix(topic, "/"+leaf) }

// events decodes the event messages seen.
func events(t testing.TB, msgs []mqttbroker.Message) []Event {
	t.Helper()
	var out []Event
	for _, m := range msgs {
		if !hasSuffix(m.Topic, LeafEvents) {
			continue
		}
		var e Event
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			t.Fatalf("event payload %q: %v", m.Payload, err)
		}
		out = append(out, e)
	}
	return out
}

func statuses(t testing.TB, msgs []mqttbroker.Message) []Status {
	t.Helper()
	var out []Status
	for _, m := range msgs {
		if !hasSuffix(m.Topic, LeafStatus) {
			continue
		}
		var s Status
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Fatalf("status payload %q: %v", m.Payload, err)
		}
		out = append(out, s)
	}
	return out
}

func maxSeq(evs []Event) uint64 {
	var m uint64
	for _, e := range evs {
		m = max(m, e.Seq)
	}
	return m
}

// checkDelivery checks that every seq 1..n arrived, new seqs in order with
// no gap, and that repeats carry the same event (id, type, data).
func checkDelivery(t testing.TB, evs []Event, n uint64) (dups int) {
	t.Helper()
	first := map[uint64]Event{}
	var high uint64
	for _, e := range evs {
		if e.ID != fmt.Sprintf("%s:%d", testGW, e.Seq) {
			t.Fatalf("event seq %d has id %q", e.Seq, e.ID)
		}
		if prev, ok := first[e.Seq]; ok {
			dups++
			if prev.Type != e.Type || string(prev.Data) != string(e.Data) || !prev.At.Equal(e.At) {
				t.Fatalf("duplicate of %s differs: %+v vs %+v", e.ID, prev, e)
			}
			continue
		}
		if e.Seq != high+1 {
			t.Fatalf("new event seq %d after highest %d: gap or out of order", e.Seq, high)
		}
		high = e.Seq
		first[e.Seq] = e
	}
	if high != n {
		t.Fatalf("highest seq delivered = %d, want %d", high, n)
	}
	return dups
}
