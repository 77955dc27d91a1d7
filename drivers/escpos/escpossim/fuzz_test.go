package escpossim

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the command parser, whole and split
// in two reads at a fuzzed point: it must never panic or stall, count
// every byte, and do exactly the same either way.
func FuzzParse(f *testing.F) {
	f.Add(ticketVector, uint16(40))
	f.Add(cat("\x1da\x0f\x10\x04\x01\x10\x04\x04A\n\x1dV\x00"), uint16(4))
	f.Add(cat("\x1dv0\x00\xff\xff\xff\xffOK"), uint16(3))
	f.Add(cat("\x1dk\x04", bytes.Repeat([]byte{'A'}, 300)), uint16(100))
	f.Add(cat("\x1d(k\xff\xff1P0"), uint16(7))
	f.Add(cat("\xb0\x1bE\x01\x81\x30\x1c.\xb0\x1c&\xc4\xfa\x1b\x7f\x07\n\x1bi"), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole, w1 := newTest(Opts{Keep: 8})
		whole.in(data)
		parts, w2 := newTest(Opts{Keep: 8})
		k := int(split) % (len(data) + 1)
		parts.in(data[:k])
		parts.in(data[k:])
		c := whole.Counters()
		if c.BytesIn != uint64(len(data)) {
			t.Fatalf("BytesIn = %d, want %d", c.BytesIn, len(data))
		}
		if c != parts.Counters() || !reflect.DeepEqual(whole.Tickets(), parts.Tickets()) {
			t.Fatalf("split at %d changes the result: %+v vs %+v", k, c, parts.Counters())
		}
		if a, b := w1.take(), w2.take(); !bytes.Equal(a, b) {
			t.Fatalf("split at %d changes the replies: % X vs % X", k, a, b)
		}
		for _, tk := range whole.Tickets() {
			if tk.Text() == "" && len(tk.Lines) > 0 {
				t.Fatalf("ticket with %d lines renders empty", len(tk.Lines))
			}
		}
	})
}
