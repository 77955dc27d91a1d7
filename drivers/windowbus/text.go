package windowbus

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// EncodeText encodes s in GB18030 for a bar or hall display. Line feeds
// (\n) separate lines on multi-line displays; other control characters are
// refused, as are texts longer than MaxText bytes once encoded.
func EncodeText(s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("windowbus: display text is not valid UTF-8")
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7F {
			return nil, fmt.Errorf("windowbus: control character %U in display text", r)
		}
	}
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("windowbus: encode display text: %w", err)
	}
	if len(b) > MaxText {
		return nil, fmt.Errorf("windowbus: display text is %d bytes in GB18030, limit %d", len(b), MaxText)
	}
	return b, nil
}

// DecodeText decodes GB18030 display bytes; invalid sequences become U+FFFD.
func DecodeText(b []byte) string {
	s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		return string([]rune{0xFFFD})
	}
	return string(s)
}

// FitText returns the longest prefix of the GB18030 text b that is at most
// n bytes and does not cut a character in two.
func FitText(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	end := 0
	for i := 0; i < len(b); {
		w := gbCharLen(b[i:])
		if i+w > n {
			break
		}
		i += w
		end = i
	}
	return b[:end]
}

// gbCharLen returns the length of the GB18030 character at the start of b:
// 1 for ASCII, 4 when the second byte is a digit, else 2. Truncated or
// invalid input counts as 1 so that callers always advance.
func gbCharLen(b []byte) int {
	if b[0] < 0x81 || b[0] == 0xFF || len(b) < 2 {
		return 1
	}
	if b[1] >= 0x30 && b[1] <= 0x39 {
		if len(b) < 4 {
			return 1
		}
		return 4
	}
	return 2
}
