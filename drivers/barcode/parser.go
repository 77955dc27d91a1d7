package barcode

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
)

// Opts configures how scans are framed. A zero MaxLen or LineTimeout takes
// the value from DefaultOpts.
type Opts struct {
	// Suffix ends every scan. Empty accepts CR, LF and CRLF alike.
	Suffix string
	// Prefix is a fixed prefix the scanner is programmed to send; it is
	// stripped where present.
	Prefix string
	// AIM: the scanner sends an AIM symbology identifier ("]Q1") before
	// the data; it is stripped and reported in Scan.Symbology.
	AIM bool
	// MaxLen is the longest scan accepted, in bytes, framing included.
	MaxLen int
	// LineTimeout: a scanner sends a code in one burst, so a partial line
	// left this long without its suffix is dropped (ErrTruncated) rather
	// than glued to the next scan.
	LineTimeout time.Duration
	// Clock dates the scans and times LineTimeout for a Scanner; nil means
	// the real clock. A Parser is given the times instead.
	Clock clockwork.Clock
}

// DefaultOpts accepts any line ending, 1024-byte scans and a 500 ms gap.
var DefaultOpts = Opts{MaxLen: 1024, LineTimeout: 500 * time.Millisecond}

func (o *Opts) fill() (Opts, error) {
	out := DefaultOpts
	if o != nil {
		out = *o
	}
	if out.MaxLen == 0 {
		out.MaxLen = DefaultOpts.MaxLen
	}
	if out.LineTimeout == 0 {
		out.LineTimeout = DefaultOpts.LineTimeout
	}
	switch {
	case out.MaxLen < 0:
		return out, fmt.Errorf("barcode: MaxLen %d: want > 0", out.MaxLen)
	case out.LineTimeout < 0:
		return out, fmt.Errorf("barcode: LineTimeout %v: want > 0", out.LineTimeout)
	}
	return out, nil
}

// ParseSuffix turns a suffix name into the bytes: auto (or empty: CR, LF or
// CRLF), cr, lf, crlf or tab.
func ParseSuffix(name string) (string, error) {
	switch name {
	case "", "auto":
		return "", nil
	case "cr":
		return "\r", nil
	case "lf":
		return "\n", nil
	case "crlf":
		return "\r\n", nil
	case "tab":
		return "\t", nil
	}
	return "", fmt.Errorf("barcode: suffix %q: want auto, cr, lf, crlf or tab", name)
}

// Scan is one code read.
type Scan struct {
	Data      string    // the text, framing stripped
	Symbology string    // the AIM identifier such as "]Q1", when Opts.AIM
	At        time.Time // when its suffix arrived
}

// Reasons a line is rejected; a *LineError matches one of them.
var (
	ErrTooLong      = errors.New("barcode: scan too long")
	ErrNonPrintable = errors.New("barcode: non-printable bytes in scan")
	ErrTruncated    = errors.New("barcode: scan cut off")
)

// LineError is a rejected line. It does not quote the line.
type LineError struct {
	Err error // ErrTooLong, ErrNonPrintable or ErrTruncated
	Len int   // bytes in the line (the first MaxLen+1 for a long one)
	Bad int   // non-printable or invalid UTF-8 bytes
}

func (e *LineError) Error() string {
	if e.Err == ErrNonPrintable {
		return fmt.Sprintf("%v: %d of %d bytes", e.Err, e.Bad, e.Len)
	}
	return fmt.Sprintf("%v: %d bytes", e.Err, e.Len)
}

func (e *LineError) Unwrap() error { return e.Err }

// Parser splits a byte stream into scans. It holds no I/O and no clock: the
// caller says when bytes arrived. It is not safe for concurrent use.
type Parser struct {
	o       Opts
	buf     []byte
	long    bool      // the line passed MaxLen: discard it up to its suffix
	longLen int       // bytes of the long line seen
	last    time.Time // when the last byte arrived
}

// NewParser returns a Parser; o may be nil for DefaultOpts.
func NewParser(o *Opts) (*Parser, error) {
	opts, err := o.fill()
	if err != nil {
		return nil, err
	}
	return &Parser{o: opts}, nil
}

// Feed adds bytes that arrived at the time at and calls emit for each line
// they complete: a Scan, or a *LineError. Empty lines are skipped.
func (p *Parser) Feed(b []byte, at time.Time, emit func(Scan, error)) {
	if len(b) == 0 {
		return
	}
	p.Expire(at, emit)
	p.last = at
	for _, c := range b {
		if p.o.Suffix == "" && (c == '\r' || c == '\n') {
			p.end(at, emit)
			continue
		}
		p.buf = append(p.buf, c)
		if p.o.Suffix != "" && bytes.HasSuffix(p.buf, []byte(p.o.Suffix)) {
			p.buf = p.buf[:len(p.buf)-len(p.o.Suffix)]
			p.end(at, emit)
			continue
		}
		// Up to len(Suffix)-1 bytes at the end may be the start of the
		// suffix; anything more than MaxLen before them is too long.
		if keep := max(len(p.o.Suffix)-1, 0); len(p.buf) > p.o.MaxLen+keep {
			p.longLen += len(p.buf) - keep
			p.buf = append(p.buf[:0], p.buf[len(p.buf)-keep:]...)
			p.long = true
		}
	}
}

// Expire drops a partial line whose last byte came more than LineTimeout
// before now, reporting ErrTruncated.
func (p *Parser) Expire(now time.Time, emit func(Scan, error)) {
	if (len(p.buf) > 0 || p.long) && now.Sub(p.last) > p.o.LineTimeout {
		emit(Scan{}, &LineError{Err: ErrTruncated, Len: p.longLen + len(p.buf)})
		p.reset()
	}
}

func (p *Parser) reset() {
	p.buf, p.long, p.longLen = p.buf[:0], false, 0
}

// end completes the line in buf.
func (p *Parser) end(at time.Time, emit func(Scan, error)) {
	defer p.reset()
	if p.long {
		emit(Scan{}, &LineError{Err: ErrTooLong, Len: p.longLen + len(p.buf)})
		return
	}
	line := p.buf
	if len(line) == 0 {
		return
	}
	if bad := nonPrintable(line); bad > 0 {
		emit(Scan{}, &LineError{Err: ErrNonPrintable, Len: len(line), Bad: bad})
		return
	}
	line = bytes.TrimPrefix(line, []byte(p.o.Prefix))
	s := Scan{At: at}
	if p.o.AIM && isAIM(line) {
		s.Symbology, line = string(line[:3]), line[3:]
	}
	if len(line) == 0 {
		return
	}
	s.Data = string(line)
	emit(s, nil)
}

// isAIM tells whether b starts with an AIM identifier: "]", a letter, a
// letter or digit.
func isAIM(b []byte) bool {
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	return len(b) >= 3 && b[0] == ']' && alnum(b[1]) && b[1] > '9' && alnum(b[2])
}

// nonPrintable counts control bytes and bytes that are not valid UTF-8.
func nonPrintable(b []byte) int {
	bad := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if (r == utf8.RuneError && n == 1) || !unicode.IsGraphic(r) {
			bad += n
		}
		b = b[n:]
	}
	return bad
}
