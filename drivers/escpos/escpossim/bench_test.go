package escpossim

import (
	"bytes"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// BenchmarkRender parses ten §2.7 tickets.
func BenchmarkRender(b *testing.B) {
	stream := bytes.Repeat(ticketVector, 10)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		if ts, _ := Render(stream, 80); len(ts) != 10 {
			b.Fatalf("Render cut %d tickets, want 10", len(ts))
		}
	}
}

// BenchmarkBaselineDecode is the floor BenchmarkRender is measured
// against: the same bytes through x/text's GB18030 decoder in one call,
// with no command parsing.
func BenchmarkBaselineDecode(b *testing.B) {
	stream := bytes.Repeat(ticketVector, 10)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := simplifiedchinese.GB18030.NewDecoder().Bytes(stream); err != nil {
			b.Fatal(err)
		}
	}
}
