package barcode

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// script is a port that returns its chunks one Read at a time; an empty
// chunk is a read timeout, (0, nil), after which the fake clock has moved
// on by 50 ms. After the last chunk it returns err, or times out forever.
type script struct {
	mu      sync.Mutex
	chunks  []string
	err     error
	clock   *clockwork.FakeClock
	reading chan struct{} // closed by the first Read, when not nil
}

func (s *script) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reading != nil {
		close(s.reading)
		s.reading = nil
	}
	if len(s.chunks) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		s.clock.Advance(50 * time.Millisecond)
		return 0, nil
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	if c == "" {
		s.clock.Advance(50 * time.Millisecond)
	}
	return copy(p, c), nil
}

func newScript(t *testing.T, err error, chunks ...string) (*Scanner, *clockwork.FakeClock) {
	fc := clockwork.NewFakeClockAt(t0)
	s, err2 := New(&script{chunks: chunks, err: err, clock: fc}, &Opts{Clock: fc, AIM: true})
	if err2 != nil {
		t.Fatal(err2)
	}
	return s, fc
}

func TestNext(t *testing.T) {
	s, _ := newScript(t, io.EOF, "]Q1HALLGW-APPT:", "", "A1\r", "BAD\x00\r", "4301002024", "050600012\r", "CUT", "", "", "", "", "", "", "", "", "", "", "", "LAST\r")
	ctx := context.Background()
	want := []struct {
		data string
		err  error
	}{
		{"HALLGW-APPT:A1", nil},
		{"", ErrNonPrintable},
		{"4301002024050600012", nil},
		{"", ErrTruncated},
		{"LAST", nil},
	}
	for i, w := range want {
		got, err := s.Next(ctx)
		if got.Data != w.data || !errors.Is(err, w.err) || (w.err == nil && err != nil) {
			t.Fatalf("Next #%d = %q, %v; want %q, %v", i, got.Data, err, w.data, w.err)
		}
		if i == 0 && (got.Symbology != "]Q1" || !got.At.Equal(t0.Add(50*time.Millisecond))) {
			t.Errorf("first scan = %+v, want symbology ]Q1 at t0+50ms", got)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("Next at the end = %v, want EOF", err)
	}
	if got, want := s.Stats(), (Stats{Scans: 3, NonPrintable: 1, Truncated: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestNextLastLineBeforeError(t *testing.T) {
	// A port that fails right after the last byte still delivers the scan.
	s, _ := newScript(t, io.ErrUnexpectedEOF, "A1\rB2\r")
	for _, want := range []string{"A1", "B2"} {
		if got, err := s.Next(context.Background()); err != nil || got.Data != want {
			t.Fatalf("Next = %q, %v; want %q", got.Data, err, want)
		}
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Next = %v, want the port error", err)
	}
}

func TestRun(t *testing.T) {
	s, _ := newScript(t, io.EOF, "A1\r\x01\r", "B2\r")
	var got []string
	err := s.Run(context.Background(), func(sc Scan) { got = append(got, sc.Data) })
	if !errors.Is(err, io.EOF) || len(got) != 2 || got[0] != "A1" || got[1] != "B2" {
		t.Errorf("Run = %v with %q; want EOF after A1, B2", err, got)
	}
	if st := s.Stats(); st.Scans != 2 || st.NonPrintable != 1 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestNextStops(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		s, _ := newScript(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Next with a cancelled context = %v", err)
		}
	})
	t.Run("halt", func(t *testing.T) {
		s, _ := newScript(t, nil)
		reading := make(chan struct{})
		s.r.(*script).reading = reading
		errc := make(chan error)
		go func() {
			_, err := s.Next(context.Background())
			errc <- err
		}()
		<-reading // Next is in progress
		s.Halt()
		select {
		case err := <-errc:
			if !errors.Is(err, ErrHalted) {
				t.Errorf("Next after Halt = %v, want ErrHalted", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Next did not return after Halt")
		}
	})
}

func TestNew(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) = nil error")
	}
	if _, err := New(&script{}, &Opts{MaxLen: -5}); err == nil {
		t.Error("New(MaxLen -5) = nil error")
	}
	s, err := New(&script{}, nil)
	if err != nil || s.String() != "barcode.Scanner" {
		t.Errorf("New(nil opts) = %v, %v", s, err)
	}
}
