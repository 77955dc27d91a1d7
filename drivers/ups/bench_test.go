package ups

import (
	"bytes"
	"strconv"
	"testing"
)

var benchReply = []byte("(000.0 228.0 220.0 032 00.0 24.5 28.0 10001001\r")

// BenchmarkDecodeQ1 decodes one reply with NUT's fixed-position rules. The
// baseline splits the same reply on spaces and parses the fields with
// strconv, as the older blazer driver does: the ratio is the cost of the
// NUT-exact checks (character filter, strtod prefix, rounding to NUT's
// printed precision).
func BenchmarkDecodeQ1(b *testing.B) {
	var base float64
	b.Run("baseline-split-parse", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			f := bytes.Fields(bytes.TrimPrefix(bytes.TrimSpace(benchReply), []byte("(")))
			if len(f) != 8 {
				b.Fatal("fields")
			}
			for _, x := range f[:7] {
				if _, err := strconv.ParseFloat(string(x), 64); err != nil {
					b.Fatal(err)
				}
			}
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("DecodeQ1", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := DecodeQ1(benchReply, nil); err != nil {
				b.Fatal(err)
			}
		}
		if base > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-baseline")
		}
	})
}
