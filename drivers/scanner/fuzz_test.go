package scanner

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseOutput feeds arbitrary output: the report stays within its
// bounds, holds clean text only, and its counts are sane.
func FuzzParseOutput(f *testing.F) {
	f.Add([]byte("/d/p01.png\n"), []byte("Scanning page 1\nScanned page 1. (scanner status = 5)\nBatch terminated, 1 page scanned\n"))
	f.Fuzz(func(t *testing.T, stdout, stderr []byte) {
		r := ParseOutput(stdout, stderr)
		if len(r.Files) > maxFiles || len(r.Messages) > maxMessages {
			t.Fatalf("report of %d files and %d messages: over the bounds", len(r.Files), len(r.Messages))
		}
		if r.Scanned < -1 || r.Pages < 0 || r.Pages > strings.Count(string(stderr), "Scanned page ") {
			t.Fatalf("scanned %d, pages %d from %d page lines", r.Scanned, r.Pages, strings.Count(string(stderr), "Scanned page "))
		}
		for _, s := range append(append([]string{}, r.Files...), r.Messages...) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") || len(s) > 3*maxLine {
				t.Fatalf("unclean line %q", s)
			}
		}
		for _, name := range r.Files {
			if name == "" {
				t.Fatal("empty file name kept")
			}
		}
	})
}
