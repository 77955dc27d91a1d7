package ups

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported is matched when the UPS echoes or rejects an optional query
// (F, I) or gives no usable answer to it: the unit does not implement it.
var ErrUnsupported = errors.New("ups: query not supported by this UPS")

// Reply lengths, CR included, of the optional queries.
const (
	FLen = 22
	ILen = 39
)

// Ratings is the F reply: the unit's nominal values. Nil means the field was
// unavailable.
type Ratings struct {
	InputVoltage   *float64 // input.voltage.nominal, V
	InputCurrent   *float64 // input.current.nominal, A
	BatteryVoltage *float64 // battery.voltage.nominal, V
	InputFrequency *float64 // input.frequency.nominal, Hz
}

var fFields = []struct {
	name     string
	from, to int
	prec     int
	field    func(*Ratings) **float64
}{
	{"input.voltage.nominal", 1, 5, 0, func(r *Ratings) **float64 { return &r.InputVoltage }},
	{"input.current.nominal", 7, 9, 1, func(r *Ratings) **float64 { return &r.InputCurrent }},
	{"battery.voltage.nominal", 11, 15, 1, func(r *Ratings) **float64 { return &r.BatteryVoltage }},
	{"input.frequency.nominal", 17, 20, 0, func(r *Ratings) **float64 { return &r.InputFrequency }},
}

// Vars returns the ratings under NUT's names, formatted as NUT does.
func (r Ratings) Vars() map[string]string {
	m := map[string]string{}
	for _, f := range fFields {
		if p := *f.field(&r); p != nil {
			m[f.name] = format(*p, f.prec)
		}
	}
	return m
}

// MarshalJSON writes the ratings keyed by NUT variable names.
func (r Ratings) MarshalJSON() ([]byte, error) {
	m := r.Vars()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, f := range fFields {
		v, ok := m[f.name]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", f.name, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// DecodeF decodes an F reply ("#220.0 005 024.0 50.0" + CR) as NUT's
// megatec subdriver does. A reply that is shorter than 22 bytes (an echoed
// "F", a "NAK") or does not start with '#' gives ErrUnsupported; a field
// with characters other than digits, space and '.' is left absent.
func DecodeF(reply []byte) (Ratings, error) {
	var r Ratings
	if err := optionalReply(reply, FLen, "F"); err != nil {
		return r, err
	}
	for _, f := range fFields {
		if v, ok := nutNumber(reply[f.from:f.to+1], f.prec); ok {
			*f.field(&r) = &v
		}
	}
	return r, nil
}

// Info is the I reply: who made the unit.
type Info struct {
	Manufacturer string `json:"device.mfr,omitempty"`
	Model        string `json:"device.model,omitempty"`
	Firmware     string `json:"ups.firmware,omitempty"`
}

// DecodeI decodes an I reply ("#" + company[15] + " " + model[10] + " " +
// version[10] + CR) with the layout of NUT 2.8.0–2.8.3: fields trimmed of
// spaces and '#'. Short, echoed or rejected replies give ErrUnsupported.
func DecodeI(reply []byte) (Info, error) {
	if err := optionalReply(reply, ILen, "I"); err != nil {
		return Info{}, err
	}
	trim := func(b []byte) string { return strings.Trim(string(b), "# ") }
	return Info{
		Manufacturer: trim(reply[1:16]),
		Model:        trim(reply[17:27]),
		Firmware:     trim(reply[28:38]),
	}, nil
}

// optionalReply applies NUT's checks for an F or I reply; every failure is
// ErrUnsupported, since units that lack the query echo it or reject it.
func optionalReply(reply []byte, want int, query string) error {
	line := strings.TrimRight(string(reply), "\r")
	switch {
	case line == query:
		return fmt.Errorf("%w: %s echoed", ErrUnsupported, query)
	case line == "(NAK" || line == "NAK":
		return fmt.Errorf("%w: %s rejected (%s)", ErrUnsupported, query, line)
	case len(reply) < want:
		return fmt.Errorf("%w: %s reply is %d bytes, want %d", ErrUnsupported, query, len(reply), want)
	case reply[0] != '#':
		return fmt.Errorf("%w: %s reply starts with %#02x, want '#'", ErrUnsupported, query, reply[0])
	}
	return nil
}
