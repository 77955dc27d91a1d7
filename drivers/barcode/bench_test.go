package barcode

import (
	"bytes"
	"strings"
	"testing"
)

var benchStream = []byte(strings.Repeat("]Q1HALLGW-APPT:A20240506-0042\r\n4301002024050600012\r\n", 50))

// BenchmarkBaselineSplit is the floor: splitting the stream at LF.
func BenchmarkBaselineSplit(b *testing.B) {
	b.SetBytes(int64(len(benchStream)))
	for b.Loop() {
		if n := len(bytes.Split(benchStream, []byte{'\n'})); n != 101 {
			b.Fatal(n)
		}
	}
}

// BenchmarkParserFeed parses the same 100 scans with AIM and validation.
func BenchmarkParserFeed(b *testing.B) {
	p, err := NewParser(&Opts{AIM: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchStream)))
	n := 0
	emit := func(Scan, error) { n++ }
	for b.Loop() {
		n = 0
		p.Feed(benchStream, t0, emit)
		if n != 100 {
			b.Fatal(n)
		}
	}
}
