package serialio

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// script returns its chunks one Read at a time; an empty chunk is a (0, nil)
// timeout read, as go.bug.st/serial gives.
type script struct {
	chunks [][]byte
	clock  *fakeClock
	step   time.Duration
}

func (s *script) Read(p []byte) (int, error) {
	if s.clock != nil {
		s.clock.t = s.clock.t.Add(s.step)
	}
	if len(s.chunks) == 0 {
		return 0, nil
	}
	c := s.chunks[0]
	n := copy(p, c)
	if n < len(c) {
		s.chunks[0] = c[n:]
	} else {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestReadFull(t *testing.T) {
	tests := []struct {
		name    string
		chunks  [][]byte
		want    []byte
		wantErr error
	}{
		{"one read", [][]byte{{1, 2, 3}}, []byte{1, 2, 3}, nil},
		{"split with timeouts between", [][]byte{{1}, {}, {}, {2, 3}}, []byte{1, 2, 3}, nil},
		{"short then silence", [][]byte{{1, 2}}, []byte{1, 2, 0}, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{t: time.Unix(0, 0)}
			s := &script{chunks: tt.chunks, clock: c, step: 10 * time.Millisecond}
			buf := make([]byte, 3)
			_, err := ReadFull(s, buf, c.t.Add(time.Second), c.now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFull err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(buf, tt.want) {
				t.Errorf("ReadFull = %x, want %x", buf, tt.want)
			}
		})
	}
}

func TestReadFullEOF(t *testing.T) {
	_, err := ReadFull(bytes.NewReader([]byte{1}), make([]byte, 2), time.Now().Add(time.Second), nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want ErrUnexpectedEOF", err)
	}
}

func TestReadFullFrozenClockStops(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	s := &script{clock: c} // never advances, never answers
	_, err := ReadFull(s, make([]byte, 1), c.t.Add(time.Second), c.now)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want timeout", err)
	}
}

func TestReadUntil(t *testing.T) {
	tests := []struct {
		name    string
		chunks  [][]byte
		max     int
		want    string
		wantErr bool
	}{
		{"line", [][]byte{[]byte("(230.0 1\r"), []byte("rest")}, 64, "(230.0 1\r", false},
		{"too long", [][]byte{[]byte("abcdef")}, 4, "abcd", true},
		{"silence", nil, 8, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{t: time.Unix(0, 0)}
			s := &script{chunks: tt.chunks, clock: c, step: time.Millisecond}
			got, err := ReadUntil(s, '\r', tt.max, c.t.Add(100*time.Millisecond), c.now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadUntil err = %v, wantErr %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("ReadUntil = %q, want %q", got, tt.want)
			}
		})
	}
}
