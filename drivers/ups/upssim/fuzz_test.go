package upssim

import (
	"strings"
	"testing"
	"time"
)

// FuzzHandle feeds arbitrary request lines to the emulator: it must never
// panic, must answer only with a Q1 line, an F or I reply or the request
// echoed, and must keep its Q1 line 46 bytes long whatever state the
// requests left it in.
func FuzzHandle(f *testing.F) {
	for _, r := range []string{"Q1", "F", "I", "T", "TL", "T05", "CT", "Q", "S.5R0003", "S00R0000", "C", "D", "S11", "T00"} {
		f.Add(r, r)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		now := time.Unix(0, 0)
		s, err := New(Config{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []string{a, b} {
			reply, ok := s.Handle(req)
			switch {
			case !ok && reply != "":
				t.Fatalf("Handle(%q) = %q with ok false", req, reply)
			case ok && reply != req && !strings.HasPrefix(reply, "(") && !strings.HasPrefix(reply, "#"):
				t.Fatalf("Handle(%q) = %q: neither a reply nor an echo", req, reply)
			}
			now = now.Add(7 * time.Minute)
		}
		if q := s.Q1(); len(q) != 46 {
			t.Fatalf("after %q, %q: Q1() = %q (%d bytes)", a, b, q, len(q))
		}
	})
}

// FuzzControl feeds arbitrary operator lines: an error or a 46-byte Q1 line,
// never a panic.
func FuzzControl(f *testing.F) {
	for _, l := range []string{"mains off", "load 45", "battery 21.1", "battery auto", "input 250", "fail", "echo-fi on", "silent on", "status", "load 1e309"} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := New(Config{Now: func() time.Time { return time.Unix(0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		q, err := s.Control(line)
		if err == nil && len(q) != 46 {
			t.Fatalf("Control(%q) = %q", line, q)
		}
		if q := s.Q1(); len(q) != 46 {
			t.Fatalf("after Control(%q): Q1() = %q", line, q)
		}
	})
}
