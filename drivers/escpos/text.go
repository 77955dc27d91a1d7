package escpos

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Encoding is the character repertoire the printer's Chinese font covers.
// Text is always sent as GB18030 two-byte codes; the Encoding decides which
// characters are sent as they are and which are replaced by Substitute.
type Encoding int

const (
	// GB18030 sends every character of the GB18030 two-byte area (the GBK
	// repertoire, about 21,000 hanzi). Characters that need a four-byte
	// GB18030 sequence are substituted.
	GB18030 Encoding = iota + 1
	// GB2312 sends only the GB2312 rows (lead and trail bytes 0xA1–0xFE,
	// 6,763 hanzi), for printers whose font stops there.
	GB2312
)

// String returns the encoding's name.
func (e Encoding) String() string {
	switch e {
	case GB18030:
		return "GB18030"
	case GB2312:
		return "GB2312"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Substitute is the byte printed in place of a character the printer cannot
// print: one that needs a four-byte GB18030 sequence (rare hanzi, common in
// names), one outside the configured Encoding, a private-use character, a
// control character, or invalid UTF-8. Every substitution is counted.
const Substitute = '?'

// textEncoder turns UTF-8 into printable bytes, one character at a time.
type textEncoder struct {
	enc  Encoding
	gb   *encoding.Encoder
	subs int
}

func newTextEncoder(e Encoding) *textEncoder {
	return &textEncoder{enc: e, gb: simplifiedchinese.GB18030.NewEncoder()}
}

// appendRune appends the printer bytes for r and reports how many columns it
// takes at normal size (1 for ASCII and the substitute, 2 for a two-byte
// character).
func (t *textEncoder) appendRune(dst []byte, r rune) ([]byte, int) {
	switch {
	case r >= 0x20 && r < 0x7F:
		return append(dst, byte(r)), 1
	case r < 0x80 || r == utf8.RuneError || isPrivateUse(r):
		t.subs++
		return append(dst, Substitute), 1
	}
	var src [utf8.UTFMax]byte
	var out [8]byte
	n := utf8.EncodeRune(src[:], r)
	t.gb.Reset()
	nDst, _, err := t.gb.Transform(out[:], src[:n], true)
	if err != nil || nDst != 2 || !t.inRepertoire(out[0], out[1]) {
		t.subs++
		return append(dst, Substitute), 1
	}
	return append(dst, out[0], out[1]), 2
}

func (t *textEncoder) inRepertoire(lead, trail byte) bool {
	if t.enc == GB2312 {
		return lead >= 0xA1 && lead <= 0xF7 && trail >= 0xA1 && trail <= 0xFE
	}
	return true
}

// isPrivateUse reports runes that GB18030 maps to user-defined codes: they
// encode to two bytes but no printer font has a glyph for them.
func isPrivateUse(r rune) bool {
	return (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000
}

// Columns returns how many columns s takes at normal size once encoded:
// 1 for printable ASCII and substituted characters, 2 for the rest.
func Columns(s string, e Encoding) int {
	t := newTextEncoder(e)
	cols := 0
	var buf [2]byte
	for _, r := range s {
		_, w := t.appendRune(buf[:0], r)
		cols += w
	}
	return cols
}

// wrap splits s into lines of at most cols columns at normal size, never
// splitting a character. Breaks prefer the last space of a line when one
// exists in its second half, so that words and numbers stay whole.
func wrap(s string, cols int, e Encoding) []string {
	if cols < 2 {
		cols = 2
	}
	t := newTextEncoder(e)
	var lines []string
	var buf [2]byte
	for len(s) > 0 {
		width, cut, space := 0, len(s), -1
		for i, r := range s {
			_, w := t.appendRune(buf[:0], r)
			if width+w > cols {
				cut = i
				break
			}
			if r == ' ' {
				space = i
			}
			width += w
		}
		if cut < len(s) && space > 0 && space >= cut/2 {
			lines = append(lines, s[:space])
			s = s[space+1:]
			continue
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
	}
	return lines
}
