package idcard

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// TextLen is the size of the text block a card holds.
const TextLen = 256

// PhotoLen is the usual size of the WLT photo. The reader takes the real
// length from the frame.
const PhotoLen = 1024

// longTerm is what the validity end holds for a card that never expires.
const longTerm = "长期"

// field is one slot of the text block.
type field struct {
	name      string
	off, size int // in bytes
}

var (
	fName      = field{"name", 0, 30}
	fSex       = field{"sex", 30, 2}
	fNation    = field{"nation", 32, 4}
	fBirth     = field{"birth date", 36, 16}
	fAddress   = field{"address", 52, 70}
	fNumber    = field{"id number", 122, 36}
	fAuthority = field{"issuing authority", 158, 30}
	fValidFrom = field{"validity start", 188, 16}
	fValidTo   = field{"validity end", 204, 16}
)

// Sex is the GB/T 2261.1 sex code stored on the card.
type Sex byte

// Sex codes.
const (
	SexUnknown  Sex = 0
	SexMale     Sex = 1
	SexFemale   Sex = 2
	SexUnstated Sex = 9
)

// String returns the Chinese term: 男, 女, 未知 or 未说明.
func (s Sex) String() string {
	switch s {
	case SexUnknown:
		return "未知"
	case SexMale:
		return "男"
	case SexFemale:
		return "女"
	case SexUnstated:
		return "未说明"
	}
	return fmt.Sprintf("Sex(%d)", byte(s))
}

func (s Sex) valid() bool {
	return s == SexUnknown || s == SexMale || s == SexFemale || s == SexUnstated
}

// ErrInvalidText is matched by every error about a text block that does not
// decode or does not validate.
var ErrInvalidText = errors.New("idcard: invalid text block")

// TextError says which field of a text block is wrong. It never quotes the
// field's content, which is personal data.
type TextError struct {
	Field  string // "name", "id number", …
	Offset int    // byte offset of the field in the block
	Reason string
	Err    error // a more specific cause, such as ErrCheckDigit; may be nil
}

func (e *TextError) Error() string {
	return fmt.Sprintf("idcard: text block: %s at offset %d: %s", e.Field, e.Offset, e.Reason)
}

// Is matches ErrInvalidText.
func (e *TextError) Is(target error) bool { return target == ErrInvalidText }

// Unwrap returns the specific cause.
func (e *TextError) Unwrap() error { return e.Err }

func (f field) errorf(format string, args ...any) *TextError {
	return &TextError{Field: f.name, Offset: f.off, Reason: fmt.Sprintf(format, args...)}
}

// text decodes a field as UCS-2 little-endian and drops the space (and NUL)
// padding on the right.
func (f field) text(b []byte) (string, error) {
	r := make([]rune, f.size/2)
	for i := range r {
		r[i] = rune(b[f.off+2*i]) | rune(b[f.off+2*i+1])<<8
		if utf16.IsSurrogate(r[i]) {
			return "", f.errorf("not UCS-2 text")
		}
	}
	s := strings.TrimRight(string(r), " \x00")
	for _, c := range s {
		if c == unicode.ReplacementChar || unicode.IsControl(c) {
			return "", f.errorf("not text")
		}
	}
	return s, nil
}

func (f field) nonEmpty(b []byte) (string, error) {
	s, err := f.text(b)
	if err == nil && s == "" {
		err = f.errorf("empty")
	}
	return s, err
}

func (f field) date(b []byte) (time.Time, error) {
	s, err := f.text(b)
	if err != nil {
		return time.Time{}, err
	}
	return f.parseDate(s)
}

func (f field) parseDate(s string) (time.Time, error) {
	if len(s) != 8 {
		return time.Time{}, f.errorf("not a YYYYMMDD date")
	}
	t, err := time.Parse("20060102", s)
	if err != nil || t.Year() < 1800 {
		return time.Time{}, f.errorf("not a valid date")
	}
	return t, nil
}

// put encodes s as UCS-2 little-endian into the field, padded with spaces.
func (f field) put(b []byte, s string) error {
	u := utf16.Encode([]rune(s))
	if len(u) > f.size/2 {
		return f.errorf("%d characters, room for %d", len(u), f.size/2)
	}
	for _, r := range s {
		if r > 0xFFFF || r == unicode.ReplacementChar {
			return f.errorf("character outside UCS-2")
		}
	}
	for i := 0; i < f.size/2; i++ {
		c := uint16(' ')
		if i < len(u) {
			c = u[i]
		}
		b[f.off+2*i], b[f.off+2*i+1] = byte(c), byte(c>>8)
	}
	return nil
}

// DecodeText decodes and validates a 256-byte text block. It returns a Card
// without a photo, or a *TextError (matching ErrInvalidText, and
// ErrCheckDigit for a wrong check digit) naming the first bad field. Dates
// are calendar dates at midnight UTC.
func DecodeText(b []byte) (*Card, error) {
	if len(b) != TextLen {
		return nil, &TextError{Field: "block", Reason: fmt.Sprintf("%d bytes, want %d", len(b), TextLen)}
	}
	var c Card
	var err error
	if c.Name, err = fName.nonEmpty(b); err != nil {
		return nil, err
	}
	sex, err := fSex.text(b)
	if err != nil {
		return nil, err
	}
	if len(sex) != 1 || sex[0] < '0' || sex[0] > '9' || !Sex(sex[0]-'0').valid() {
		return nil, fSex.errorf("not a sex code")
	}
	c.Sex = Sex(sex[0] - '0')
	if c.Nation, err = fNation.text(b); err != nil {
		return nil, err
	}
	if _, ok := NationName(c.Nation); !ok {
		return nil, fNation.errorf("not a nation code")
	}
	if c.Birth, err = fBirth.date(b); err != nil {
		return nil, err
	}
	if c.Address, err = fAddress.nonEmpty(b); err != nil {
		return nil, err
	}
	if c.Number, err = fNumber.text(b); err != nil {
		return nil, err
	}
	if strings.HasSuffix(c.Number, "x") {
		c.Number = strings.TrimSuffix(c.Number, "x") + "X"
	}
	if err := ValidNumber(c.Number); err != nil {
		e := fNumber.errorf("%s", strings.TrimPrefix(err.Error(), "idcard: "))
		if errors.Is(err, ErrCheckDigit) {
			e.Err = ErrCheckDigit
		}
		return nil, e
	}
	if c.Authority, err = fAuthority.nonEmpty(b); err != nil {
		return nil, err
	}
	if c.ValidFrom, err = fValidFrom.date(b); err != nil {
		return nil, err
	}
	end, err := fValidTo.text(b)
	if err != nil {
		return nil, err
	}
	if end == longTerm {
		c.LongTerm = true
	} else {
		if c.ValidTo, err = fValidTo.parseDate(end); err != nil {
			return nil, err
		}
		if c.ValidTo.Before(c.ValidFrom) {
			return nil, fValidTo.errorf("before the validity start")
		}
	}
	return &c, nil
}

// EncodeText lays a card out as the 256-byte text block, as a card holds
// it. It checks that every field fits and that the codes are valid, but not
// the ID number's check digit, so that an emulator can present a bad card.
func EncodeText(c *Card) ([]byte, error) {
	b := make([]byte, TextLen)
	for i := 0; i < TextLen; i += 2 {
		b[i] = ' '
	}
	if !c.Sex.valid() {
		return nil, fSex.errorf("not a sex code")
	}
	if _, ok := NationName(c.Nation); !ok {
		return nil, fNation.errorf("not a nation code")
	}
	switch {
	case c.Birth.IsZero():
		return nil, fBirth.errorf("missing")
	case c.ValidFrom.IsZero():
		return nil, fValidFrom.errorf("missing")
	case !c.LongTerm && c.ValidTo.IsZero():
		return nil, fValidTo.errorf("missing")
	}
	end := longTerm
	if !c.LongTerm {
		end = c.ValidTo.Format("20060102")
	}
	for _, p := range []struct {
		f field
		s string
	}{
		{fName, c.Name},
		{fSex, string(rune('0' + c.Sex))},
		{fNation, c.Nation},
		{fBirth, c.Birth.Format("20060102")},
		{fAddress, c.Address},
		{fNumber, c.Number},
		{fAuthority, c.Authority},
		{fValidFrom, c.ValidFrom.Format("20060102")},
		{fValidTo, end},
	} {
		if err := p.f.put(b, p.s); err != nil {
			return nil, err
		}
	}
	return b, nil
}
