package ups

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrGarbled is matched by every error about a reply that arrived but could
// not be used: too short, wrong lead byte, a bad status bit.
var ErrGarbled = errors.New("ups: garbled reply")

// Q1Len is the length of a Q1 reply, CR included.
const Q1Len = 47

// NUT's texts for the status bits it turns into strings.
const (
	TypeStandby   = "offline / line interactive" // b3 = 1
	TypeOnline    = "online"                     // b3 = 0
	AlarmFailed   = "UPS selftest failed!"       // b4 = 1
	AlarmShutdown = "Shutdown imminent!"         // added on NUT's full poll when FSD
	BeeperOn      = "enabled"
	BeeperOff     = "disabled"
)

// Regulation is what the output stage does when status bit b5 is set.
type Regulation string

// NUT's regulation states, decided from the output/input voltage ratio.
const (
	RegNone   Regulation = ""
	RegTrim   Regulation = "TRIM"
	RegBypass Regulation = "BYPASS"
	RegBoost  Regulation = "BOOST"
)

// Status is one decoded Q1 reply, plus the battery charge and runtime a Dev
// estimates. A nil pointer means the UPS did not give that value (an "@"
// field, a character NUT refuses, or no estimate): it is absent, not zero.
type Status struct {
	InputVoltage      *float64 // input.voltage, V
	InputVoltageFault *float64 // input.voltage.fault, V
	OutputVoltage     *float64 // output.voltage, V
	Load              *float64 // ups.load, % of the rated load
	InputFrequency    *float64 // input.frequency, Hz
	// BatteryVoltage is battery.voltage as the UPS reports it: the whole
	// pack (SS.S) or, on units that report per cell, one cell (S.SS).
	BatteryVoltage *float64
	Temperature    *float64 // ups.temperature, °C

	UtilityFail    bool       // b7: on battery (NUT "OB", else "OL")
	BatteryLow     bool       // b6: "LB"
	Regulation     Regulation // b5 with the vo/vi comparison
	Failed         bool       // b4: ups.alarm "UPS selftest failed!"
	Testing        bool       // b2: "CAL"
	ShutdownActive bool       // b1: "FSD" (never set when Q1Options.IgnoreSAB)

	Standby *bool // b3: ups.type, true = offline / line interactive
	Beeper  *bool // b0: ups.beeper.status

	// BatteryCharge is battery.charge, %, NUT's estimate from the voltage;
	// set by a Dev when the nominal battery voltage is known.
	BatteryCharge *float64
	// BatteryRuntime is battery.runtime, this package's estimate of the
	// time left on battery at the present load; set by a Dev when known.
	BatteryRuntime *time.Duration
}

// OnBattery reports whether the UPS runs from its battery (b7).
func (s Status) OnBattery() bool { return s.UtilityFail }

// UPSStatus returns ups.status as NUT's quick poll sets it: "OL" or "OB",
// then LB, TRIM, BOOST, BYPASS, CAL and FSD in NUT's order.
func (s Status) UPSStatus() string {
	parts := make([]string, 0, 4)
	if s.UtilityFail {
		parts = append(parts, "OB")
	} else {
		parts = append(parts, "OL")
	}
	if s.BatteryLow {
		parts = append(parts, "LB")
	}
	switch s.Regulation {
	case RegTrim, RegBoost, RegBypass:
		parts = append(parts, string(s.Regulation))
	}
	if s.Testing {
		parts = append(parts, "CAL")
	}
	if s.ShutdownActive {
		parts = append(parts, "FSD")
	}
	return strings.Join(parts, " ")
}

// Alarm returns ups.alarm as NUT's full poll sets it ("" when none).
func (s Status) Alarm() string {
	var a []string
	if s.Failed {
		a = append(a, AlarmFailed)
	}
	if s.ShutdownActive {
		a = append(a, AlarmShutdown)
	}
	return strings.Join(a, " ")
}

// varSpec is one numeric Q1 field: its NUT name, byte positions and the
// printf precision NUT formats it with.
type varSpec struct {
	name     string
	from, to int
	prec     int
	field    func(*Status) **float64
}

var q1Fields = []varSpec{
	{"input.voltage", 1, 5, 1, func(s *Status) **float64 { return &s.InputVoltage }},
	{"input.voltage.fault", 7, 11, 1, func(s *Status) **float64 { return &s.InputVoltageFault }},
	{"output.voltage", 13, 17, 1, func(s *Status) **float64 { return &s.OutputVoltage }},
	{"ups.load", 19, 21, 0, func(s *Status) **float64 { return &s.Load }},
	{"input.frequency", 23, 26, 1, func(s *Status) **float64 { return &s.InputFrequency }},
	{"battery.voltage", 28, 31, 2, func(s *Status) **float64 { return &s.BatteryVoltage }},
	{"ups.temperature", 33, 36, 1, func(s *Status) **float64 { return &s.Temperature }},
}

// Q1Options change how DecodeQ1 reads a reply.
type Q1Options struct {
	// IgnoreSAB ignores the shutdown-active bit b1, as NUT's "ignoresab"
	// flag does for units that hold it at 1.
	IgnoreSAB bool
}

// DecodeQ1 decodes a Q1 reply as NUT 2.8.0 does. reply is the line as read,
// CR included (47 bytes); longer replies are read at the same fixed
// positions, as NUT does. opts may be nil.
//
// The error matches ErrGarbled when the reply is short, does not start with
// '(', or has a bad utility, battery-low, regulation, test or shutdown bit,
// or when b5 is set and the output/input voltage ratio is outside 0.5–1.5:
// NUT drops the whole update then. A bad numeric field, or a bad type,
// failure or beeper bit, only leaves that value absent.
func DecodeQ1(reply []byte, opts *Q1Options) (Status, error) {
	var s Status
	if len(reply) < Q1Len {
		return s, fmt.Errorf("%w: Q1 reply is %d bytes, want %d", ErrGarbled, len(reply), Q1Len)
	}
	if reply[0] != '(' {
		return s, fmt.Errorf("%w: Q1 reply starts with %#02x, want '('", ErrGarbled, reply[0])
	}
	for _, f := range q1Fields {
		if v, ok := nutNumber(reply[f.from:f.to+1], f.prec); ok {
			*f.field(&s) = &v
		}
	}
	bit := func(pos int) (bool, bool) {
		switch reply[pos] {
		case '0':
			return false, true
		case '1':
			return true, true
		}
		return false, false
	}
	quick := func(pos int, name string) (bool, error) {
		v, ok := bit(pos)
		if !ok {
			return false, fmt.Errorf("%w: Q1 %s bit (byte %d) is %q, want '0' or '1'", ErrGarbled, name, pos, reply[pos])
		}
		return v, nil
	}
	var err error
	if s.UtilityFail, err = quick(38, "utility-fail"); err != nil {
		return Status{}, err
	}
	if s.BatteryLow, err = quick(39, "battery-low"); err != nil {
		return Status{}, err
	}
	reg, err := quick(40, "bypass/boost/buck")
	if err != nil {
		return Status{}, err
	}
	if reg {
		if s.Regulation, err = regulation(s.InputVoltage, s.OutputVoltage); err != nil {
			return Status{}, err
		}
	}
	if v, ok := bit(41); ok {
		s.Failed = v
	}
	if v, ok := bit(42); ok {
		s.Standby = &v
	}
	if s.Testing, err = quick(43, "test-in-progress"); err != nil {
		return Status{}, err
	}
	if opts == nil || !opts.IgnoreSAB {
		if s.ShutdownActive, err = quick(44, "shutdown-active"); err != nil {
			return Status{}, err
		}
	}
	if v, ok := bit(45); ok {
		s.Beeper = &v
	}
	return s, nil
}

// regulation applies NUT's vo/vi comparison for status bit b5.
func regulation(vi, vo *float64) (Regulation, error) {
	if vi == nil || vo == nil {
		return RegNone, fmt.Errorf("%w: Q1 regulation bit set without input and output voltage", ErrGarbled)
	}
	in, out := *vi, *vo
	switch {
	case out < 0.5*in:
		return RegNone, fmt.Errorf("%w: Q1 regulation bit set, output %.1f V too low for input %.1f V", ErrGarbled, out, in)
	case out < 0.95*in:
		return RegTrim, nil
	case out < 1.05*in:
		return RegBypass, nil
	case out < 1.5*in:
		return RegBoost, nil
	}
	return RegNone, fmt.Errorf("%w: Q1 regulation bit set, output %.1f V too high for input %.1f V", ErrGarbled, out, in)
}

// nutNumber reads a numeric field as NUT does: only digits, spaces and '.'
// are allowed; the value is what C's strtod makes of it, rounded to the
// precision NUT prints it with (NUT keeps the printed string, so later
// arithmetic starts from the rounded value).
func nutNumber(field []byte, prec int) (float64, bool) {
	for _, c := range field {
		if !(c >= '0' && c <= '9' || c == ' ' || c == '.') {
			return 0, false
		}
	}
	v := strtod(field)
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
	if err != nil {
		return 0, false
	}
	return r, true
}

// strtod parses the longest prefix of b that C's strtod would take, for the
// characters a numeric field may hold: leading spaces, digits, one '.',
// digits. Nothing parsable gives 0.
func strtod(b []byte) float64 {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	start := i
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		j := i + 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
			digits++
		}
		i = j
	}
	if digits == 0 {
		return 0
	}
	v, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err != nil {
		return 0
	}
	return v
}

// format prints v as C's printf("%.<prec>f") does (both round to nearest,
// ties to even on the exact binary value).
func format(v float64, prec int) string {
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// Vars returns the status as NUT variable names and NUT-formatted values,
// exactly as nutdrv_qx prints them in its dump (absent values are left out).
func (s Status) Vars() map[string]string {
	m := make(map[string]string, 16)
	for _, f := range q1Fields {
		if p := *f.field(&s); p != nil {
			m[f.name] = format(*p, f.prec)
		}
	}
	m["ups.status"] = s.UPSStatus()
	if a := s.Alarm(); a != "" {
		m["ups.alarm"] = a
	}
	if s.Standby != nil {
		if *s.Standby {
			m["ups.type"] = TypeStandby
		} else {
			m["ups.type"] = TypeOnline
		}
	}
	if s.Beeper != nil {
		if *s.Beeper {
			m["ups.beeper.status"] = BeeperOn
		} else {
			m["ups.beeper.status"] = BeeperOff
		}
	}
	if s.BatteryCharge != nil {
		m["battery.charge"] = format(*s.BatteryCharge, 0)
	}
	if s.BatteryRuntime != nil {
		m["battery.runtime"] = format(s.BatteryRuntime.Seconds(), 0)
	}
	return m
}

// numericVars are the Vars printed as JSON numbers; the rest are strings.
var numericVars = map[string]bool{
	"input.voltage": true, "input.voltage.fault": true, "output.voltage": true,
	"ups.load": true, "input.frequency": true, "battery.voltage": true,
	"ups.temperature": true, "battery.charge": true, "battery.runtime": true,
}

// MarshalJSON writes the status as one object keyed by NUT variable names,
// in name order, numbers with NUT's precision (battery.voltage 27.20,
// battery.runtime in seconds).
func (s Status) MarshalJSON() ([]byte, error) {
	return marshalVars(s.Vars())
}

func marshalVars(vars map[string]string) ([]byte, error) {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteByte(':')
		if numericVars[n] {
			b.WriteString(vars[n])
		} else {
			v, _ := json.Marshal(vars[n])
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Status) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("ups: status json: %w", err)
	}
	var out Status
	num := func(name string) (*float64, error) {
		raw, ok := m[name]
		if !ok {
			return nil, nil
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("ups: status json %s: %w", name, err)
		}
		return &v, nil
	}
	str := func(name string) (string, bool, error) {
		raw, ok := m[name]
		if !ok {
			return "", false, nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false, fmt.Errorf("ups: status json %s: %w", name, err)
		}
		return v, true, nil
	}
	var err error
	for _, f := range q1Fields {
		if *f.field(&out), err = num(f.name); err != nil {
			return err
		}
	}
	if out.BatteryCharge, err = num("battery.charge"); err != nil {
		return err
	}
	rt, err := num("battery.runtime")
	if err != nil {
		return err
	}
	if rt != nil {
		d := time.Duration(math.Round(*rt)) * time.Second
		out.BatteryRuntime = &d
	}
	st, _, err := str("ups.status")
	if err != nil {
		return err
	}
	for _, w := range strings.Fields(st) {
		switch w {
		case "OB":
			out.UtilityFail = true
		case "OL":
		case "LB":
			out.BatteryLow = true
		case "CAL":
			out.Testing = true
		case "FSD":
			out.ShutdownActive = true
		case string(RegTrim), string(RegBoost), string(RegBypass):
			out.Regulation = Regulation(w)
		default:
			return fmt.Errorf("ups: status json: unknown ups.status word %q", w)
		}
	}
	alarm, _, err := str("ups.alarm")
	if err != nil {
		return err
	}
	out.Failed = strings.Contains(alarm, AlarmFailed)
	if t, ok, err := str("ups.type"); err != nil {
		return err
	} else if ok {
		v := t == TypeStandby
		out.Standby = &v
	}
	if b, ok, err := str("ups.beeper.status"); err != nil {
		return err
	} else if ok {
		v := b == BeeperOn
		out.Beeper = &v
	}
	*s = out
	return nil
}
