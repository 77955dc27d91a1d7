package upssim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FIMode is how the emulator treats the optional F and I queries.
type FIMode int

// FI modes.
const (
	FIAnswer FIMode = iota // answer them
	FIEcho                 // echo them back, like a Santak Castle
	FISilent               // ignore them
)

// Config describes the emulated UPS. Zero fields take DefaultConfig's
// values, except the booleans and FI (a zero load too: use SetLoad(0) for an
// unloaded UPS).
type Config struct {
	Baud            int     // wire pacing; 0 in DefaultConfig means 2400, use -1 for none
	Nominal         float64 // battery nominal volts (2 V cells)
	CapacityAh      float64
	Load            float64 // % of RatedPower
	RatedPower      float64 // W at 100 % load
	Efficiency      float64 // inverter efficiency, 0–1
	InputVoltage    float64 // mains volts while mains is on
	Frequency       float64 // mains Hz
	InverterVoltage float64 // output volts on battery
	Temperature     float64 // °C
	LowCell         float64 // low-battery threshold, volts per cell
	RatedVoltage    float64 // F reply: rated input volts
	RatedCurrent    float64 // F reply: rated amps
	Vendor, Model   string  // I reply
	Version         string  // I reply

	Online  bool   // report an on-line unit (b3 = 0); else standby
	PerCell bool   // report the battery voltage per cell (S.SS)
	FI      FIMode // F and I handling
	// Now is the model's clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig is a 1 kVA standby unit with a 24 V 9 Ah pack at 20 % load.
var DefaultConfig = Config{
	Baud:            2400,
	Nominal:         24,
	CapacityAh:      9,
	Load:            20,
	RatedPower:      600,
	Efficiency:      0.85,
	InputVoltage:    230,
	Frequency:       50,
	InverterVoltage: 220,
	Temperature:     25,
	LowCell:         1.80,
	RatedVoltage:    220,
	RatedCurrent:    5,
	Vendor:          "HALLGW SIM",
	Model:           "Q1-1000",
	Version:         "V1.0",
}

func (c *Config) fill() error {
	d := DefaultConfig
	num := func(p *float64, def float64) {
		if *p == 0 {
			*p = def
		}
	}
	if c.Baud == 0 {
		c.Baud = d.Baud
	}
	num(&c.Nominal, d.Nominal)
	num(&c.CapacityAh, d.CapacityAh)
	num(&c.Load, d.Load)
	num(&c.RatedPower, d.RatedPower)
	num(&c.Efficiency, d.Efficiency)
	num(&c.InputVoltage, d.InputVoltage)
	num(&c.Frequency, d.Frequency)
	num(&c.InverterVoltage, d.InverterVoltage)
	num(&c.Temperature, d.Temperature)
	num(&c.LowCell, d.LowCell)
	num(&c.RatedVoltage, d.RatedVoltage)
	num(&c.RatedCurrent, d.RatedCurrent)
	if c.Vendor == "" {
		c.Vendor = d.Vendor
	}
	if c.Model == "" {
		c.Model = d.Model
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	cells := c.Nominal / 2
	switch {
	case cells < 1 || cells != math.Trunc(cells):
		return fmt.Errorf("upssim: nominal %g V is not a whole number of 2 V cells", c.Nominal)
	case !c.PerCell && c.Nominal > 72:
		return fmt.Errorf("upssim: a %g V pack does not fit the SS.S field; use PerCell", c.Nominal)
	case c.CapacityAh < 0 || c.CapacityAh > 10000:
		return fmt.Errorf("upssim: capacity %g Ah out of range", c.CapacityAh)
	case c.Load < 0 || c.Load > 150:
		return fmt.Errorf("upssim: load %g %% out of range 0..150", c.Load)
	case c.Efficiency <= 0 || c.Efficiency > 1:
		return fmt.Errorf("upssim: efficiency %g out of range", c.Efficiency)
	case c.LowCell < 1.5 || c.LowCell > 2.1:
		return fmt.Errorf("upssim: low-battery threshold %g V/cell out of range 1.5..2.1", c.LowCell)
	case c.FI < FIAnswer || c.FI > FISilent:
		return fmt.Errorf("upssim: FI mode %d", c.FI)
	case c.RatedPower < 0 || c.InputVoltage < 0 || c.Frequency < 0 || c.InverterVoltage < 0:
		return errors.New("upssim: negative rating")
	}
	return nil
}

// restore modes after a shutdown command.
const (
	restoreOnMains = iota // S<n>: back 10 s after mains is present
	restoreAfter          // S<n>R<m>: back m minutes after going off
	restoreNever          // S<n>R0000: stay off
)

// step bounds one integration step of the battery model.
const step = 10 * time.Second

// Sim is an emulated UPS. Its methods may be called from several
// goroutines.
type Sim struct {
	cfg   Config
	cells float64

	mu   sync.Mutex
	last time.Time // model time reached

	soc       float64 // state of charge 0..1
	mains     bool
	mainsAt   time.Time // when mains last came on
	inputV    float64
	load      float64
	failed    bool
	beeper    bool
	fi        FIMode
	silent    bool
	override  float64 // reported pack volts when > 0
	faultV    float64 // input.voltage.fault latch
	testing   bool
	testDeep  bool
	testUntil time.Time

	sdPending bool // shutdown command active (b1)
	sdOffAt   time.Time
	sdMode    int
	sdAfter   time.Duration
	outOff    bool // output is off
	offByS    bool // … because of a shutdown command
	restoreAt time.Time
}

// New returns an emulated UPS on mains with a full battery.
func New(cfg Config) (*Sim, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	now := cfg.Now()
	s := &Sim{
		cfg: cfg, cells: cfg.Nominal / 2, last: now,
		soc: 1, mains: true, mainsAt: now.Add(-time.Hour), inputV: cfg.InputVoltage,
		load: cfg.Load, beeper: true, fi: cfg.FI, faultV: cfg.InputVoltage,
	}
	return s, nil
}

// restCell is the resting voltage of one cell at state of charge soc.
func restCell(soc float64) float64 {
	if soc >= 0.2 {
		return 2.0 + 0.125*soc
	}
	k := 1 - soc/0.2
	return 2.025 - 0.225*k*k
}

// discharging reports whether the battery feeds the output; mu held.
func (s *Sim) discharging() bool { return !s.outOff && (!s.mains || s.testing) }

// current is the battery current in amps; mu held.
func (s *Sim) current() float64 {
	if !s.discharging() {
		return 0
	}
	p := s.load / 100 * s.cfg.RatedPower
	return p / (restCell(s.soc) * s.cells * s.cfg.Efficiency)
}

// cellVoltage is the cell voltage the UPS measures; mu held.
func (s *Sim) cellVoltage() float64 {
	if s.override > 0 {
		return s.override / s.cells
	}
	switch {
	case s.discharging():
		return restCell(s.soc) - 0.03*s.current()/s.cfg.CapacityAh
	case s.mains:
		return math.Min(2.27, restCell(s.soc)+0.15)
	}
	return restCell(s.soc)
}

// low reports the low-battery condition; mu held.
func (s *Sim) low() bool { return s.cellVoltage() < s.cfg.LowCell }

// advance runs the model up to now; mu held.
func (s *Sim) advance(now time.Time) {
	s.events(s.last)
	for s.last.Before(now) {
		dt := now.Sub(s.last)
		if dt > step {
			dt = step
		}
		if i := s.current(); i > 0 {
			s.soc -= i * dt.Hours() / s.cfg.CapacityAh
		} else if s.mains && !s.testing {
			s.soc += 0.1 * dt.Hours()
		}
		s.soc = math.Min(math.Max(s.soc, 0), 1)
		s.last = s.last.Add(dt)
		s.events(s.last)
	}
}

// events applies what happens at time t: tests ending, the output dropping
// or coming back; mu held.
func (s *Sim) events(t time.Time) {
	// Tests end at their time or at low battery.
	if s.testing && ((!s.testDeep && !t.Before(s.testUntil)) || s.low()) {
		s.testing = false
	}
	// An exhausted battery drops the output; mains brings it back.
	if s.discharging() && s.soc <= 0 {
		s.outOff = true
	}
	if s.outOff && !s.offByS && s.mains {
		s.outOff = false
	}
	// Shutdown command timers.
	if s.sdPending && !s.outOff && !t.Before(s.sdOffAt) {
		s.outOff, s.offByS, s.testing = true, true, false
		s.restoreAt = s.sdOffAt.Add(s.sdAfter)
	}
	if s.sdPending && s.offByS && s.mains {
		back := false
		switch s.sdMode {
		case restoreOnMains:
			back = !t.Before(s.mainsAt.Add(10*time.Second)) && !t.Before(s.sdOffAt.Add(10*time.Second))
		case restoreAfter:
			back = !t.Before(s.restoreAt)
		}
		if back {
			s.outOff, s.offByS, s.sdPending = false, false, false
		}
	}
}

// Q1 returns the status line the UPS would send now, without the CR, and
// latches the fault voltage as a query does.
func (s *Sim) Q1() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	return s.q1()
}

// q1 builds the status line; mu held, model advanced.
func (s *Sim) q1() string {
	in, freq := 0.0, 0.0
	if s.mains {
		in, freq = s.inputV, s.cfg.Frequency
	}
	out, reg := 0.0, false
	load := 0.0
	if !s.outOff {
		load = s.load
		switch {
		case !s.mains || s.testing:
			out = s.cfg.InverterVoltage
		case in > 240:
			out, reg = in*0.88, true
		case in < 200:
			out, reg = in*1.15, true
		default:
			out = in
		}
	}
	var batt string
	if s.cfg.PerCell {
		batt = fmt.Sprintf("%4.2f", clamp(s.cellVoltage(), 9.99))
	} else {
		batt = fmt.Sprintf("%04.1f", clamp(s.cellVoltage()*s.cells, 99.9))
	}
	bits := []bool{!s.mains, s.low(), reg, s.failed, !s.cfg.Online, s.testing, s.sdPending, s.beeper}
	var b strings.Builder
	fmt.Fprintf(&b, "(%05.1f %05.1f %05.1f %03d %04.1f %s %04.1f ",
		clamp(in, 999.9), clamp(s.faultV, 999.9), clamp(out, 999.9), int(math.Round(clamp(load, 999))),
		clamp(freq, 99.9), batt, clamp(s.cfg.Temperature+load/20, 99.9))
	for _, v := range bits {
		if v {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	s.faultV = in
	return b.String()
}

func clamp(v, max float64) float64 { return math.Min(math.Max(v, 0), max) }

// Handle answers one request line (without its CR). ok is false when the
// UPS sends nothing back.
func (s *Sim) Handle(req string) (reply string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.advance(now)
	if s.silent {
		return "", false
	}
	switch {
	case req == "Q1":
		return s.q1(), true
	case req == "F" || req == "I":
		switch s.fi {
		case FIEcho:
			return req, true
		case FISilent:
			return "", false
		}
		if req == "F" {
			return fmt.Sprintf("#%05.1f %03.0f %05.1f %04.1f", clamp(s.cfg.RatedVoltage, 999.9),
				clamp(s.cfg.RatedCurrent, 999), clamp(s.cfg.Nominal, 999.9), clamp(s.cfg.Frequency, 99.9)), true
		}
		return fmt.Sprintf("#%-15.15s %-10.10s %-10.10s", s.cfg.Vendor, s.cfg.Model, s.cfg.Version), true
	case req == "Q":
		s.beeper = !s.beeper
		return "", false
	case req == "CT":
		s.testing = false
		return "", false
	case req == "C":
		s.sdPending = false
		if s.offByS {
			s.outOff, s.offByS = false, false
		}
		return "", false
	case req == "T" || req == "TL" || (len(req) == 3 && req[0] == 'T' && digits(req[1:])):
		if !s.mains || s.outOff || s.testing {
			return req, true
		}
		d := 10 * time.Second
		if len(req) == 3 {
			n, _ := strconv.Atoi(req[1:])
			if n < 1 {
				return req, true
			}
			d = time.Duration(n) * time.Minute
		}
		s.testing, s.testDeep, s.testUntil = true, req == "TL", now.Add(d)
		return "", false
	case strings.HasPrefix(req, "S"):
		off, mode, after, err := parseShutdown(req)
		if err != nil {
			return req, true
		}
		s.sdPending, s.sdOffAt, s.sdMode, s.sdAfter = true, now.Add(off), mode, after
		return "", false
	}
	return req, true
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// parseShutdown reads "S<n>" or "S<n>R<mmmm>": n is ".2".."."9" (tenths of a
// minute) or "00".."10" minutes, m 0000–9999 minutes (0000: stay off).
func parseShutdown(req string) (off time.Duration, mode int, after time.Duration, err error) {
	body := req[1:]
	bad := fmt.Errorf("upssim: bad shutdown command %q", req)
	if len(body) < 2 {
		return 0, 0, 0, bad
	}
	n, rest := body[:2], body[2:]
	switch {
	case n[0] == '.' && n[1] >= '2' && n[1] <= '9':
		off = time.Duration(n[1]-'0') * 6 * time.Second
	case digits(n):
		m, _ := strconv.Atoi(n)
		if m > 10 {
			return 0, 0, 0, bad
		}
		off = time.Duration(m) * time.Minute
	default:
		return 0, 0, 0, bad
	}
	if rest == "" {
		return off, restoreOnMains, 0, nil
	}
	if len(rest) != 5 || rest[0] != 'R' || !digits(rest[1:]) {
		return 0, 0, 0, bad
	}
	m, _ := strconv.Atoi(rest[1:])
	if m == 0 {
		return off, restoreNever, 0, nil
	}
	return off, restoreAfter, time.Duration(m) * time.Minute, nil
}

// SetMains switches mains on or off. Turning it off latches the last input
// voltage as the fault voltage, as the UPS reports an outage.
func (s *Sim) SetMains(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.advance(now)
	if s.mains && !on {
		s.faultV = s.inputV
	}
	if !s.mains && on {
		s.mainsAt = now
	}
	s.mains = on
}

// SetInputVoltage sets the mains voltage (the UPS trims above 240 V and
// boosts below 200 V).
func (s *Sim) SetInputVoltage(v float64) error {
	if v < 0 || v > 999 {
		return fmt.Errorf("upssim: input voltage %g out of range", v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	s.inputV = v
	if s.mains {
		s.faultV = v // a steady change, not a glitch
	}
	return nil
}

// SetLoad sets the load in % of the rated power.
func (s *Sim) SetLoad(pct float64) error {
	if pct < 0 || pct > 150 {
		return fmt.Errorf("upssim: load %g %% out of range 0..150", pct)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	s.load = pct
	return nil
}

// SetBattery pins the reported pack voltage to v (whatever the model says)
// until SetBattery(0). The state of charge is set to match v where the
// model can reach it, so the discharge goes on from there once unpinned.
func (s *Sim) SetBattery(v float64) error {
	if v < 0 || v > 99.9*s.cells {
		return fmt.Errorf("upssim: battery voltage %g out of range", v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	s.override = 0
	if v == 0 {
		return nil
	}
	// Bisect the state of charge whose reading is v.
	lo, hi := 0.0, 1.0
	for i := 0; i < 60; i++ {
		s.soc = (lo + hi) / 2
		if s.cellVoltage()*s.cells < v {
			lo = s.soc
		} else {
			hi = s.soc
		}
	}
	s.override = v
	return nil
}

// SetFailed sets the "UPS failed" bit (b4).
func (s *Sim) SetFailed(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = on
}

// SetFI changes how F and I are treated.
func (s *Sim) SetFI(m FIMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fi = m
}

// SetSilent makes the UPS stop answering anything (a cut cable).
func (s *Sim) SetSilent(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = on
}

// Charge returns the model's state of charge, 0–1.
func (s *Sim) Charge() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	return s.soc
}

// Control applies one operator line, as `hallgw sim ups` reads them from
// stdin: "mains on|off", "load 45", "battery 21.1" (pin the pack voltage;
// "battery auto" unpins it), "input 250", "fail [on|off]" (the UPS-failed
// bit), "silent on|off", "echo-fi on|off", "status". It returns the Q1 line
// after the change.
func (s *Sim) Control(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", errors.New("upssim: empty control line")
	}
	onOff := func() (bool, error) {
		if len(f) == 1 && f[0] == "fail" {
			return true, nil
		}
		if len(f) != 2 || (f[1] != "on" && f[1] != "off") {
			return false, fmt.Errorf("upssim: %s: want on or off", f[0])
		}
		return f[1] == "on", nil
	}
	number := func() (float64, error) {
		if len(f) != 2 {
			return 0, fmt.Errorf("upssim: %s: want one number", f[0])
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("upssim: %s: %q is not a number", f[0], f[1])
		}
		return v, nil
	}
	var err error
	switch f[0] {
	case "mains":
		var on bool
		if on, err = onOff(); err == nil {
			s.SetMains(on)
		}
	case "load":
		var v float64
		if v, err = number(); err == nil {
			err = s.SetLoad(v)
		}
	case "battery":
		if len(f) == 2 && f[1] == "auto" {
			err = s.SetBattery(0)
			break
		}
		var v float64
		if v, err = number(); err == nil {
			if v <= 0 {
				err = fmt.Errorf("upssim: battery: %g V, want a positive voltage or auto", v)
			} else {
				err = s.SetBattery(v)
			}
		}
	case "input":
		var v float64
		if v, err = number(); err == nil {
			err = s.SetInputVoltage(v)
		}
	case "fail":
		var on bool
		if on, err = onOff(); err == nil {
			s.SetFailed(on)
		}
	case "silent":
		var on bool
		if on, err = onOff(); err == nil {
			s.SetSilent(on)
		}
	case "echo-fi":
		var on bool
		if on, err = onOff(); err == nil {
			if on {
				s.SetFI(FIEcho)
			} else {
				s.SetFI(FIAnswer)
			}
		}
	case "status":
		if len(f) != 1 {
			err = errors.New("upssim: status takes no argument")
		}
	default:
		err = fmt.Errorf("upssim: unknown control %q (mains, load, battery, input, fail, silent, echo-fi, status)", f[0])
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.Now())
	fault := s.faultV
	q := s.q1()
	s.faultV = fault // looking does not consume the latch
	return q, nil
}
