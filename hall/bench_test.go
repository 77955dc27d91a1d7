package hall_test

import (
	"encoding/json"
	"sync"
	"testing"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

var (
	dayOnce sync.Once
	dayEvs  []hall.Event
	dayErr  error
)

// oneDay is the configuration event and one simulated business day.
func oneDay(b testing.TB) []hall.Event {
	dayOnce.Do(func() { dayEvs, dayErr = halltest.Journal(1, 1) })
	if dayErr != nil {
		b.Fatal(dayErr)
	}
	return dayEvs
}

// longJournal returns at least n events (halltest.LongJournal).
func longJournal(tb testing.TB, n int) []hall.Event {
	evs, err := halltest.LongJournal(n)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

func encodeAll(tb testing.TB, evs []hall.Event) [][]byte {
	out := make([][]byte, len(evs))
	for i, e := range evs {
		b, err := e.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// TestLongJournalReplays guards the construction the replay benchmark uses.
func TestLongJournalReplays(t *testing.T) {
	evs := longJournal(t, 30000)
	h := replay(t, evs)
	if err := h.Check(); err != nil {
		t.Fatalf("Check() after %d events = %v", len(evs), err)
	}
	if day, _ := h.Day(); day < 8 {
		t.Errorf("Day() = %d after %d events, want several days", day, len(evs))
	}
}

// BenchmarkApply applies a simulated business day (configuration included)
// to a fresh hall.
func BenchmarkApply(b *testing.B) {
	evs := oneDay(b)
	b.ReportAllocs()
	for b.Loop() {
		h, _ := hall.New(hall.Config{})
		for _, e := range evs {
			if err := h.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

// BenchmarkDecodeApply decodes and applies the same day from its journal
// encoding.
func BenchmarkDecodeApply(b *testing.B) {
	raw := encodeAll(b, oneDay(b))
	b.ReportAllocs()
	for b.Loop() {
		h, _ := hall.New(hall.Config{})
		for _, p := range raw {
			var e hall.Event
			if err := e.UnmarshalBinary(p); err != nil {
				b.Fatal(err)
			}
			if err := h.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raw)), "ns/event")
}

// BenchmarkDecode decodes the day's events (binary codec).
func BenchmarkDecode(b *testing.B) {
	raw := encodeAll(b, oneDay(b))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range raw {
			var e hall.Event
			if err := e.UnmarshalBinary(p); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raw)), "ns/event")
}

// BenchmarkDecodeJSONBaseline decodes the same events from JSON: the
// baseline the binary codec is compared with.
func BenchmarkDecodeJSONBaseline(b *testing.B) {
	evs := oneDay(b)
	raw := make([][]byte, len(evs))
	for i, e := range evs {
		p, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		raw[i] = p
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range raw {
			var e hall.Event
			if err := json.Unmarshal(p, &e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raw)), "ns/event")
}

// BenchmarkReplayMillion rebuilds a hall from 1,000,000 encoded events
// (decode + apply), the restart path of the daemon without a snapshot.
func BenchmarkReplayMillion(b *testing.B) {
	const n = 1000000
	raw := encodeAll(b, longJournal(b, n)[:n])
	size := 0
	for _, p := range raw {
		size += len(p)
	}
	b.ReportAllocs()
	for b.Loop() {
		h, _ := hall.New(hall.Config{})
		for _, p := range raw {
			var e hall.Event
			if err := e.UnmarshalBinary(p); err != nil {
				b.Fatal(err)
			}
			if err := h.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	b.ReportMetric(float64(size)/n, "bytes/event")
}

// BenchmarkDecideCallNext measures one decision on a busy hall (a Decide
// copies the state to compute the turn-near notices).
func BenchmarkDecideCallNext(b *testing.B) {
	evs := oneDay(b)
	h := replay(b, evs[:len(evs)/2])
	now := evs[len(evs)/2].At
	win := ""
	for _, w := range h.Windows() {
		if w.State == hall.Open && win == "" {
			win = w.ID
			if w.Current != 0 {
				if _, err := h.Do(hall.Command{Op: hall.OpFinish, Window: w.ID}, now); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	cmd := hall.Command{Op: hall.OpCallNext, Window: win}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Decide(cmd, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshot encodes and restores the mid-day state.
func BenchmarkSnapshot(b *testing.B) {
	evs := oneDay(b)
	h := replay(b, evs[:len(evs)/2])
	b.ReportAllocs()
	for b.Loop() {
		s, err := h.MarshalState()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := hall.Restore(s); err != nil {
			b.Fatal(err)
		}
	}
}
