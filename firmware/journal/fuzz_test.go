package journal

import (
	"bytes"
	"testing"
	"time"
)

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeValue(Business, "hall", time.Unix(1700000000, 5), []byte("ticket A001")))
	f.Add(encodeValue(Telemetry, "health", time.Unix(0, -1), nil))
	f.Add([]byte{1, 1, 255})
	f.Fuzz(func(t *testing.T, v []byte) {
		h, err := decodeValue(v)
		if err != nil {
			return
		}
		r := h.record(7, string(h.kind), true)
		if r.At.Location() != time.UTC {
			t.Fatalf("decoded At %v is not UTC", r.At)
		}
		if re := encodeValue(h.class, string(h.kind), r.At, r.Data); !bytes.Equal(re, v) {
			t.Fatalf("decodeValue(%x) re-encodes as %x", v, re)
		}
	})
}

func FuzzParseEventID(f *testing.F) {
	f.Add("gw-test:1")
	f.Add("a:b:18446744073709551615")
	f.Add("gw:007")
	f.Fuzz(func(t *testing.T, id string) {
		gw, seq, err := ParseEventID(id)
		if err != nil {
			return
		}
		if got := EventID(gw, seq); got != id {
			t.Fatalf("ParseEventID(%q) = %q, %d; EventID gives %q", id, gw, seq, got)
		}
	})
}
