package scanner

import (
	"bytes"
	"strconv"
	"strings"
)

// Report is what scanimage said about a batch.
type Report struct {
	// Files are the complete pages in order, as --batch-print printed them.
	Files []string
	// Pages counts the pages that ended well ("scanner status = 5"); for
	// a PDF, which has no per-page files, it is the page count.
	Pages int
	// Last is the status of the last page attempted; StatusGood when none
	// was reported.
	Last Status
	// Scanned is the count of "Batch terminated, N pages scanned", which
	// includes a page that failed; -1 when absent.
	Scanned int
	// Messages are scanimage's own lines ("scanimage: …") without the
	// prefix, and other diagnostics (libpng, …).
	Messages []string
}

// Bounds on what ParseOutput keeps, so a misbehaving program cannot make
// the gateway hold unbounded output.
const (
	maxFiles    = 10000
	maxMessages = 32
	maxLine     = 512
)

// ParseOutput reads scanimage's standard output (the --batch-print file
// names) and standard error (progress and messages) of a batch. It accepts
// any bytes: lines that are not understood are kept as messages (up to a
// bound) and never stop the parse.
func ParseOutput(stdout, stderr []byte) Report {
	r := Report{Scanned: -1}
	for _, line := range lines(stdout) {
		if line != "" && len(r.Files) < maxFiles {
			r.Files = append(r.Files, line)
		}
	}
	for _, line := range lines(stderr) {
		switch {
		case line == "":
		case strings.HasPrefix(line, "Scanning "):
			// "Scanning page N" and "Scanning N pages, incrementing by …"
		case strings.HasPrefix(line, "Scanned page "):
			// Scanned page 3. (scanner status = 5)
			if _, st, ok := strings.Cut(line, "(scanner status = "); ok {
				if n, err := strconv.Atoi(strings.TrimSuffix(st, ")")); err == nil {
					r.Last = Status(n)
					if r.Last == StatusEOF {
						r.Pages++
					}
				}
			}
		case strings.HasPrefix(line, "Batch terminated, "):
			// Batch terminated, 10 pages scanned
			f := strings.Fields(strings.TrimPrefix(line, "Batch terminated, "))
			if len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil && n >= 0 {
					r.Scanned = n
				}
			}
		default:
			if len(r.Messages) < maxMessages {
				r.Messages = append(r.Messages, strings.TrimPrefix(line, "scanimage: "))
			}
		}
	}
	return r
}

// Message returns the last message, the one that tells why a scan ended.
func (r Report) Message() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[len(r.Messages)-1]
}

// lines splits b at line ends, trimming each line, cutting long lines and
// replacing invalid UTF-8 and control characters.
func lines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		out = append(out, clean(line))
	}
	return out
}

func clean(b []byte) string {
	if len(b) > maxLine {
		b = b[:maxLine]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
