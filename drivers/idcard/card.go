package idcard

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

// Card is the identity read from a card. It is personal data: the fields
// hold the clear values, while String, Format (every verb of the fmt
// package), MarshalJSON and LogValue give the masked form only, so a Card
// printed or logged by accident leaks nothing.
type Card struct {
	Name   string
	Sex    Sex
	Nation string // two-digit code; NationName gives the name
	// Birth, ValidFrom and ValidTo are calendar dates at midnight UTC.
	Birth     time.Time
	Address   string
	Number    string // 18 characters, the last may be 'X'
	Authority string // issuing authority (签发机关)
	ValidFrom time.Time
	ValidTo   time.Time // zero when LongTerm
	LongTerm  bool      // validity end is 长期
	Photo     []byte    // the WLT-compressed photo, opaque
}

// MaskedCard is a Card with its personal data masked: safe to show on a
// screen, print on a ticket, log or send as JSON.
type MaskedCard struct {
	Name      string `json:"name"`       // 张*三
	Sex       string `json:"sex"`        // 男
	Nation    string `json:"nation"`     // 汉
	BirthYear int    `json:"birth_year"` // the year only
	Address   string `json:"address"`    // cut at the district
	Number    string `json:"number"`     // 4301**********1234
	Authority string `json:"authority"`
	ValidFrom string `json:"valid_from"` // 2006-01-02
	ValidTo   string `json:"valid_to"`   // 2006-01-02, or 长期
	LongTerm  bool   `json:"long_term"`
	PhotoLen  int    `json:"photo_bytes"` // the photo itself is left out
}

// Masked returns the card with its personal data masked.
func (c Card) Masked() MaskedCard {
	nation, ok := NationName(c.Nation)
	if !ok {
		nation = c.Nation
	}
	m := MaskedCard{
		Name:      MaskName(c.Name),
		Sex:       c.Sex.String(),
		Nation:    nation,
		BirthYear: c.Birth.Year(),
		Address:   MaskAddress(c.Address),
		Number:    MaskNumber(c.Number),
		Authority: c.Authority,
		ValidFrom: c.ValidFrom.Format(time.DateOnly),
		ValidTo:   c.ValidTo.Format(time.DateOnly),
		LongTerm:  c.LongTerm,
		PhotoLen:  len(c.Photo),
	}
	if c.LongTerm {
		m.ValidTo = longTerm
	}
	return m
}

// String returns the masked name and number, e.g. "张* 0000**********000X".
func (c Card) String() string {
	return MaskName(c.Name) + " " + MaskNumber(c.Number)
}

// Format prints the masked card for every verb: %v and %s as String, %+v
// and %#v as the MaskedCard with field names, %q quoted; other verbs print
// nothing of the card.
func (c Card) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "%#v", c.Masked())
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%+v", c.Masked())
	case verb == 'v' || verb == 's':
		fmt.Fprint(f, c.String())
	case verb == 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprintf(f, "%%!%c(idcard.Card=masked)", verb)
	}
}

// MarshalJSON encodes the masked card.
func (c Card) MarshalJSON() ([]byte, error) { return json.Marshal(c.Masked()) }

// LogValue makes log/slog record the masked card.
func (c Card) LogValue() slog.Value { return slog.AnyValue(c.Masked()) }

// Age returns the holder's age in whole years on the calendar day that now
// falls on in loc (now's own location when loc is nil). Someone born on 29
// February turns a year older on 1 March in common years. It is negative
// when now is before the birth date.
func (c *Card) Age(now time.Time, loc *time.Location) int {
	if loc != nil {
		now = now.In(loc)
	}
	y, m, d := now.Date()
	by, bm, bd := c.Birth.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// MaskName keeps the first and last character of a name and stars the
// rest: 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜, and 张三 → 张* (a two-character name
// keeps its surname only). A single character becomes *.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// MaskNumber keeps the first four and last four characters of an ID number
// and stars the rest: 4301**********1234. A string shorter than 12
// characters is starred whole.
func MaskNumber(n string) string {
	r := []rune(strings.TrimSpace(n))
	if len(r) < 12 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// Address units longer than these are not taken for administrative names:
// the cut then stays at the level above, showing less rather than more.
const (
	maxUnit           = 6 // 黑龙江省, 岳麓区, 内蒙古自治区
	maxAutonomousUnit = 8 // 新疆维吾尔自治区
)

// streetRunes mark the street level of an address; the cut never goes past
// one.
const streetRunes = "路街巷弄号村组栋楼室"

// MaskAddress cuts an address after its district (区, 县 or 旗), or after
// the last city or province name before it when no short district name
// follows, and never past a digit or a street-level word (路, 街, 号, 村, …):
// 湖南省长沙市岳麓区麓山南路1号 → 湖南省长沙市岳麓区. An address with no
// recognisable administrative prefix becomes ***.
func MaskAddress(addr string) string {
	r := []rune(strings.TrimSpace(addr))
	cut, last := 0, 0 // end of the kept prefix; end of the last unit
	for i := 0; i < len(r); i++ {
		unit := i + 1 - last
		autonomous := i >= 2 && r[i-2] == '自' && r[i-1] == '治'
		if unicode.IsDigit(r[i]) || strings.ContainsRune(streetRunes, r[i]) {
			return masked(r, cut) // street level reached: nothing more is shown
		}
		switch r[i] {
		case '省', '市', '州', '盟':
			if unit > maxUnit && !(autonomous && unit <= maxAutonomousUnit) {
				return masked(r, cut)
			}
			cut, last = i+1, i+1
		case '区', '县', '旗':
			if unit > maxUnit && !(autonomous && unit <= maxAutonomousUnit) {
				return masked(r, cut)
			}
			if r[i] == '区' && autonomous && last == 0 {
				cut, last = i+1, i+1 // 广西壮族自治区: a province
				continue
			}
			return string(r[:i+1])
		}
	}
	return masked(r, cut)
}

func masked(r []rune, cut int) string {
	if cut == 0 {
		return "***"
	}
	return string(r[:cut])
}
