package ups

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
)

// FuzzDecodeQ1 checks that no reply panics DecodeQ1, that every error is
// ErrGarbled, and that what it accepts survives a JSON round trip.
func FuzzDecodeQ1(f *testing.F) {
	for _, e := range nutExamples {
		f.Add([]byte(e.reply))
	}
	f.Add([]byte("(230.0 230.0 230.0 015 50.0 @@.@ 25.0 00001001\r"))
	f.Add([]byte("Q1\r"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		s, err := DecodeQ1(reply, nil)
		if err != nil {
			if !errors.Is(err, ErrGarbled) {
				t.Fatalf("DecodeQ1(%q) error %v is not ErrGarbled", reply, err)
			}
			return
		}
		if len(reply) < Q1Len || reply[0] != '(' {
			t.Fatalf("DecodeQ1 accepted %q", reply)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if !maps.Equal(back.Vars(), s.Vars()) {
			t.Fatalf("round trip of %q: %v, want %v", reply, back.Vars(), s.Vars())
		}
		if _, err := DecodeQ1(reply, &Q1Options{IgnoreSAB: true}); err != nil {
			t.Fatalf("DecodeQ1(%q) fails with IgnoreSAB: %v", reply, err)
		}
	})
}

// FuzzDecodeF checks DecodeF never panics and reports refusals as
// ErrUnsupported.
func FuzzDecodeF(f *testing.F) {
	f.Add([]byte("#220.0 005 024.0 50.0\r"))
	f.Add([]byte("#230.0 000 024.0 50.0\r"))
	f.Add([]byte("F\r"))
	f.Add([]byte("(NAK\r"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		r, err := DecodeF(reply)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("DecodeF(%q) error %v is not ErrUnsupported", reply, err)
			}
			return
		}
		if len(reply) < FLen || reply[0] != '#' {
			t.Fatalf("DecodeF accepted %q", reply)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
	})
}

// FuzzDecodeI checks DecodeI never panics and reports refusals as
// ErrUnsupported.
func FuzzDecodeI(f *testing.F) {
	f.Add([]byte("#SANTAK          C1K        V1.0      \r"))
	f.Add([]byte("#NOT_A_LIVE_UPS  TESTING    TESTING   \r"))
	f.Add([]byte("I\r"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		_, err := DecodeI(reply)
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("DecodeI(%q) error %v is not ErrUnsupported", reply, err)
		}
		if err == nil && (len(reply) < ILen || reply[0] != '#') {
			t.Fatalf("DecodeI accepted %q", reply)
		}
	})
}
