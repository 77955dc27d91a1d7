package hall_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

var (
	journalOnce sync.Once
	journal2    []hall.Event
	journalErr  error
)

// twoDays is a simulated journal of two business days, made once.
func twoDays(t testing.TB) []hall.Event {
	journalOnce.Do(func() { journal2, journalErr = halltest.Journal(2, 7) })
	if journalErr != nil {
		t.Fatal(journalErr)
	}
	return journal2
}

func replay(t testing.TB, evs []hall.Event) *hall.Hall {
	t.Helper()
	h, err := hall.New(hall.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if err := h.Apply(e); err != nil {
			t.Fatalf("Apply(event %d, %v) = %v", i, e.Type, err)
		}
	}
	return h
}

func TestReplayAndRestore(t *testing.T) {
	evs := twoDays(t)
	cases := []struct {
		name string
		n    int // events replayed
	}{
		{"config only", 1},
		{"mid first day", len(evs) / 4},
		{"end of the first day", len(evs) / 2},
		{"both days", len(evs)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := replay(t, evs[:c.n])
			if err := h.Check(); err != nil {
				t.Fatalf("Check() = %v", err)
			}
			snap, err := h.MarshalState()
			if err != nil {
				t.Fatalf("MarshalState() = %v", err)
			}
			r, err := hall.Restore(snap)
			if err != nil {
				t.Fatalf("Restore() = %v", err)
			}
			if r.Digest() != h.Digest() {
				t.Errorf("Restore(MarshalState()).Digest() differs")
			}
			if err := sameViews(r, h); err != nil {
				t.Errorf("Restore(MarshalState()): %v", err)
			}
			again, _ := r.MarshalState()
			if !bytes.Equal(again, snap) {
				t.Errorf("MarshalState is not canonical after Restore")
			}
			// A second replay gives the same digest: nothing depends on map order.
			if replay(t, evs[:c.n]).Digest() != h.Digest() {
				t.Errorf("two replays differ")
			}
			// The restored hall goes on like the original.
			if rest := evs[c.n:]; len(rest) > 0 {
				for _, e := range rest[:min(len(rest), 200)] {
					if err := r.Apply(e); err != nil {
						t.Fatalf("restored Apply(%v) = %v", e.Type, err)
					}
					if err := h.Apply(e); err != nil {
						t.Fatalf("Apply(%v) = %v", e.Type, err)
					}
				}
				if r.Digest() != h.Digest() {
					t.Errorf("restored hall diverged")
				}
			}
		})
	}
}

func TestDigestDistinguishesStates(t *testing.T) {
	evs := twoDays(t)
	a := replay(t, evs[:100])
	b := replay(t, evs[:101])
	if a.Digest() == b.Digest() {
		t.Errorf("Digest() equal after different events")
	}
	empty, _ := hall.New(hall.Config{})
	if empty.Digest() == a.Digest() {
		t.Errorf("Digest() of an empty hall equals a busy one")
	}
}

func TestRestoreGarbage(t *testing.T) {
	h := replay(t, twoDays(t)[:300])
	snap, err := h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(snap); b[i] ^= 0xff; return b }
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"other magic", []byte("HALLXX\x01")},
		{"version 2", append([]byte("HALLST\x02"), snap[7:]...)},
		{"magic only", snap[:6]},
		{"truncated early", snap[:20]},
		{"truncated late", snap[:len(snap)-3]},
		{"configured flag garbage", flip(7)},
	}
	for i := 50; i < len(snap); i += len(snap) / 7 {
		cases = append(cases, struct {
			name string
			data []byte
		}{"truncated at " + itoa(i), snap[:i]})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r, err := hall.Restore(c.data); err == nil {
				t.Errorf("Restore(%d bytes) = %v, nil; want an error", len(c.data), r.Digest())
			}
		})
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

func TestApplyRefusesCorruptJournal(t *testing.T) {
	evs := twoDays(t)
	h := replay(t, evs[:200])
	var issued, called hall.Event
	for _, e := range evs[:200] {
		switch e.Type {
		case hall.EvTicketIssued:
			issued = e
		case hall.EvTicketCalled:
			called = e
		}
	}
	cases := []struct {
		name string
		e    hall.Event
	}{
		{"replayed issue", issued},
		{"replayed call", called},
		{"day reset skipping a day", hall.Event{Type: hall.EvDayReset, At: issued.At, Count: 9}},
		{"unknown ticket", hall.Event{Type: hall.EvTicketFinished, At: issued.At, Ticket: 99999, Window: "w1"}},
		{"unknown window", hall.Event{Type: hall.EvWindowOpened, At: issued.At, Window: "w99", Staff: "x"}},
		{"bad config", hall.Event{Type: hall.EvConfigApplied, At: issued.At, Config: []byte{1, 2, 3}}},
		{"zero time", hall.Event{Type: hall.EvWindowClosed, Window: "w1"}},
		{"unknown type", hall.Event{Type: 200, At: issued.At, Ticket: issued.Ticket}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.Digest()
			err := h.Apply(c.e)
			if !errors.Is(err, hall.ErrBadState) {
				t.Errorf("Apply(%v) = %v, want ErrBadState", c.e.Type, err)
			}
			if h.Digest() != before {
				t.Errorf("refused Apply(%v) changed the state", c.e.Type)
			}
		})
	}
}

// FuzzRestore checks that Restore never panics and that whatever it
// accepts is consistent and snapshots canonically.
func FuzzRestore(f *testing.F) {
	evs := twoDays(f)
	for _, n := range []int{0, 1, 40, 300} {
		h := replay(f, evs[:n])
		b, err := h.MarshalState()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := hall.Restore(data)
		if err != nil {
			return
		}
		if err := h.Check(); err != nil {
			t.Fatalf("Restore accepted an inconsistent state: %v", err)
		}
		b, err := h.MarshalState()
		if err != nil {
			t.Fatalf("MarshalState() = %v", err)
		}
		r, err := hall.Restore(b)
		if err != nil || r.Digest() != h.Digest() {
			t.Fatalf("Restore(MarshalState()) = %v, digest equal %v", err, err == nil && r.Digest() == h.Digest())
		}
	})
}
