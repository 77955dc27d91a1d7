package ups

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"

	"hallgw/drivers/serialio"
)

// ErrStale is matched by Status errors from the StaleAfter-th failed poll in
// a row on, as NUT marks its data stale on the fifth: communication with the
// UPS is lost. The first successful poll clears it.
var ErrStale = errors.New("ups: data stale, communication lost")

// maxLine bounds a reply line; NUT's buffer is larger than any real reply.
const maxLine = 128

// Opts configure a Dev. Fields left zero take their DefaultOpts value.
type Opts struct {
	// ReplyTimeout bounds the wait for a reply line; an instant command
	// that gets none in this time succeeded (NUT waits 1 s).
	ReplyTimeout time.Duration
	// Flush bounds how long stale input is discarded before each request,
	// as NUT flushes the port before every command.
	Flush time.Duration
	// StaleAfter is the failed polls in a row after which Status reports
	// ErrStale (NUT: 5).
	StaleAfter int
	// Delays are the off and on delays of the shutdown commands.
	Delays Delays
	// IgnoreSAB ignores the shutdown-active bit (NUT's "ignoresab").
	IgnoreSAB bool
	// BatteryNominal is the nominal battery voltage (24 for a 24 V pack).
	// Zero takes it from the F reply once Ratings succeeded; without either
	// there is no battery.charge, as in NUT.
	BatteryNominal float64
	// BatteryLow and BatteryHigh are NUT's battery.voltage.low/high, the
	// 0 % and 100 % points of battery.charge; zero guesses them from the
	// nominal voltage as NUT does.
	BatteryLow, BatteryHigh float64
	// BatteryPacks multiplies the reported battery voltage; zero detects
	// it from the first reading as NUT does (12 for per-cell readings of a
	// 24 V pack).
	BatteryPacks float64
	// EndVoltage is the pack voltage where runtime extrapolation stops;
	// zero means the nominal voltage (2.00 V per cell), where lead-acid
	// batteries leave the straight part of their discharge curve at UPS
	// loads. See docs/ups.md.
	EndVoltage float64
	// Settle is how much of the start of a discharge is left out of slope
	// fits (the first drop from charging voltage to loaded voltage).
	Settle time.Duration
	// Clock times samples and paces BatteryTest.
	Clock clockwork.Clock
	// WireNow is the clock for reply deadlines; nil means time.Now.
	WireNow func() time.Time
	// Baud is the line's speed, when known. A status reply is then not
	// looked for before most of it can have crossed the wire (a Q1 reply
	// takes about 190 ms at 2400 baud), so its 47 bytes are read in a few
	// reads instead of one wake-up each. Zero reads from the first byte.
	Baud int
}

// DefaultOpts match NUT's defaults for a Megatec UPS on a serial line.
var DefaultOpts = Opts{
	ReplyTimeout: time.Second,
	Flush:        20 * time.Millisecond,
	StaleAfter:   5,
	Delays:       DefaultDelays,
	Settle:       30 * time.Second,
}

func (o *Opts) fill() error {
	d := DefaultOpts
	if o.ReplyTimeout == 0 {
		o.ReplyTimeout = d.ReplyTimeout
	}
	if o.Flush == 0 {
		o.Flush = d.Flush
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = d.StaleAfter
	}
	if o.Delays == (Delays{}) {
		o.Delays = d.Delays
	}
	if o.Settle == 0 {
		o.Settle = d.Settle
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.WireNow == nil {
		o.WireNow = time.Now
	}
	switch {
	case o.ReplyTimeout < 0 || o.ReplyTimeout > time.Minute:
		return fmt.Errorf("ups: reply timeout %v out of range 0..1m", o.ReplyTimeout)
	case o.Flush < 0:
		return fmt.Errorf("ups: negative flush time %v", o.Flush)
	case o.StaleAfter < 1:
		return fmt.Errorf("ups: stale-after %d, want at least 1", o.StaleAfter)
	case o.BatteryNominal < 0 || o.BatteryNominal > 480:
		return fmt.Errorf("ups: battery nominal %g V out of range", o.BatteryNominal)
	case o.BatteryLow < 0 || o.BatteryHigh < 0 || o.BatteryPacks < 0 || o.EndVoltage < 0:
		return errors.New("ups: negative battery setting")
	case o.BatteryLow > 0 && o.BatteryHigh > 0 && o.BatteryHigh <= o.BatteryLow:
		return fmt.Errorf("ups: battery high %g V not above low %g V", o.BatteryHigh, o.BatteryLow)
	case o.Settle < 0:
		return fmt.Errorf("ups: negative settle time %v", o.Settle)
	case o.Baud < 0:
		return fmt.Errorf("ups: negative baud %d", o.Baud)
	}
	return o.Delays.check()
}

// Dev is one Megatec Q1 UPS on a byte stream it does not own. Methods may be
// called from several goroutines; they take turns on the wire.
type Dev struct {
	rw   io.ReadWriter
	opts Opts

	mu sync.Mutex // held for a whole exchange

	smu      sync.Mutex
	failures int
	rated    float64 // battery.voltage.nominal from F
	model    ChargeModel
	modelOK  bool
	modelSet bool
	dis      []Sample // samples of the discharge in progress
	disStart time.Time
	report   *Report
	stop     chan struct{} // closed by Halt
}

var _ conn.Resource = (*Dev)(nil)

// New returns a Dev talking Q1 over rw. opts may be nil for DefaultOpts.
func New(rw io.ReadWriter, opts *Opts) (*Dev, error) {
	if rw == nil {
		return nil, errors.New("ups: nil port")
	}
	o := Opts{}
	if opts != nil {
		o = *opts
	}
	if err := o.fill(); err != nil {
		return nil, err
	}
	return &Dev{rw: rw, opts: o, stop: make(chan struct{})}, nil
}

// String names the device and its port when the port has a name.
func (d *Dev) String() string {
	if n, ok := d.rw.(interface{ Name() string }); ok {
		return "ups(" + n.Name() + ")"
	}
	return "ups(Q1)"
}

// Halt stops a running BatteryTest, which cancels the UPS's test ("CT")
// before it returns. It does not touch the UPS otherwise.
func (d *Dev) Halt() error {
	d.smu.Lock()
	close(d.stop)
	d.stop = make(chan struct{})
	d.smu.Unlock()
	return nil
}

// Failures returns the failed status polls in a row.
func (d *Dev) Failures() int {
	d.smu.Lock()
	defer d.smu.Unlock()
	return d.failures
}

// Stale reports whether communication counts as lost (ErrStale).
func (d *Dev) Stale() bool { return d.Failures() >= d.opts.StaleAfter }

// exchange flushes stale input, sends cmd + CR and reads one reply line
// before the reply timeout. A timeout error matches serialio.ErrTimeout.
func (d *Dev) exchange(cmd []byte) ([]byte, error) { return d.exchangeLen(cmd, 0) }

// exchangeLen is exchange for a reply of at least minReply bytes, which
// with Opts.Baud set is waited out before the first read. The reply
// deadline still runs from the write.
func (d *Dev) exchangeLen(cmd []byte, minReply int) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.WireNow
	if d.opts.Flush > 0 {
		serialio.Drain(d.rw, d.opts.Flush, now)
	}
	if _, err := d.rw.Write(cmd); err != nil {
		return nil, fmt.Errorf("ups: write %q: %w", strings.TrimRight(string(cmd), "\r"), err)
	}
	deadline := now().Add(d.opts.ReplyTimeout)
	if d.opts.Baud > 0 && minReply > 0 {
		// Leave the last few characters to be waited for, so a UPS that
		// answers at once is read as soon as its line ends.
		// 8N1: ten bit times a character.
		airtime := time.Duration(len(cmd)+minReply-4) * 10 * time.Second / time.Duration(d.opts.Baud)
		time.Sleep(min(airtime, d.opts.ReplyTimeout))
	}
	line, err := serialio.ReadUntil(d.rw, '\r', maxLine, deadline, now)
	if err != nil {
		return line, fmt.Errorf("ups: %s: %w", strings.TrimRight(string(cmd), "\r"), err)
	}
	return line, nil
}

// Status polls Q1 once and decodes it. battery.charge is filled in when the
// nominal battery voltage is known, battery.runtime when an estimate exists
// (a discharge long enough to fit, or an earlier BatteryTest). From the
// StaleAfter-th failure in a row the error also matches ErrStale.
func (d *Dev) Status() (Status, error) {
	line, err := d.exchangeLen([]byte("Q1\r"), Q1Len)
	var s Status
	if err == nil {
		s, err = DecodeQ1(line, &Q1Options{IgnoreSAB: d.opts.IgnoreSAB})
	}
	d.smu.Lock()
	defer d.smu.Unlock()
	if err != nil {
		d.failures++
		if d.failures >= d.opts.StaleAfter {
			return Status{}, fmt.Errorf("%w after %d failed polls: %w", ErrStale, d.failures, err)
		}
		return Status{}, err
	}
	d.failures = 0
	d.enrich(&s, d.opts.Clock.Now())
	return s, nil
}

// nominal returns the battery nominal voltage in use; smu held.
func (d *Dev) nominal() float64 {
	if d.opts.BatteryNominal > 0 {
		return d.opts.BatteryNominal
	}
	return d.rated
}

// enrich adds charge and runtime to s and tracks the discharge; smu held.
func (d *Dev) enrich(s *Status, now time.Time) {
	if s.BatteryVoltage == nil {
		return
	}
	v := *s.BatteryVoltage
	if !d.modelSet {
		d.model, d.modelOK = GuessCharge(d.nominal(), d.opts.BatteryLow, d.opts.BatteryHigh, d.opts.BatteryPacks, v)
		d.modelSet = true
	}
	var charge *float64
	if d.modelOK {
		c := d.model.Charge(v)
		charge = &c
		s.BatteryCharge = charge
	}
	packV := v * d.model.Packs
	discharging := (s.UtilityFail || s.Testing) && s.Load != nil
	if !discharging {
		d.dis, d.disStart = nil, time.Time{}
	} else {
		if d.dis == nil {
			d.disStart = now
		}
		if len(d.dis) >= 4096 {
			d.dis = append(d.dis[:0], d.dis[len(d.dis)/2:]...)
		}
		d.dis = append(d.dis, Sample{At: now, Voltage: packV, Load: *s.Load, Status: s.UPSStatus()})
	}
	if rt, ok := d.liveRuntime(v, now); ok {
		s.BatteryRuntime = &rt
		return
	}
	if d.report != nil && charge != nil && s.Load != nil {
		rt := RuntimeAt(d.report.Runtime, d.report.Load, *charge, *s.Load)
		s.BatteryRuntime = &rt
	}
}

// liveRuntime extrapolates the discharge in progress over its last 15
// minutes; smu held.
func (d *Dev) liveRuntime(v float64, now time.Time) (time.Duration, bool) {
	end := d.endVoltage()
	if len(d.dis) < 3 || end <= 0 {
		return 0, false
	}
	from := d.disStart.Add(d.opts.Settle)
	if w := now.Add(-15 * time.Minute); w.After(from) {
		from = w
	}
	f, ok := FitDischarge(d.dis, from)
	if !ok || f.At.Sub(from) < 2*time.Minute {
		return 0, false
	}
	rt, err := f.Remaining(end, resolution(v)*d.model.Packs)
	if err != nil {
		return 0, false
	}
	return rt, true
}

// endVoltage is the extrapolation target in pack volts; smu held.
func (d *Dev) endVoltage() float64 {
	if d.opts.EndVoltage > 0 {
		return d.opts.EndVoltage
	}
	return d.nominal()
}

// resolution is the voltage step of a battery reading: 0.1 V for a pack
// reading (SS.S), 0.01 V for a per-cell one (S.SS).
func resolution(v float64) float64 {
	if v < 10 {
		return 0.01
	}
	return 0.1
}

// UseReport makes r the basis of battery.runtime when no discharge is in
// progress, for example a report the daemon kept from an earlier test.
func (d *Dev) UseReport(r Report) {
	d.smu.Lock()
	defer d.smu.Unlock()
	d.report = &r
}

// Ratings asks F once. When it answers with a battery nominal voltage and
// Opts.BatteryNominal is zero, battery.charge uses it from then on. Units
// that echo, reject or ignore F give ErrUnsupported.
func (d *Dev) Ratings() (Ratings, error) {
	line, err := d.exchange([]byte("F\r"))
	if err != nil {
		if errors.Is(err, serialio.ErrTimeout) {
			return Ratings{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return Ratings{}, err
	}
	r, err := DecodeF(line)
	if err != nil {
		return r, err
	}
	if r.BatteryVoltage != nil && *r.BatteryVoltage > 0 {
		d.smu.Lock()
		if d.opts.BatteryNominal == 0 && d.rated != *r.BatteryVoltage {
			d.rated = *r.BatteryVoltage
			d.modelSet = false
		}
		d.smu.Unlock()
	}
	return r, nil
}

// Info asks I once. Units that echo, reject or ignore it give
// ErrUnsupported.
func (d *Dev) Info() (Info, error) {
	line, err := d.exchange([]byte("I\r"))
	if err != nil {
		if errors.Is(err, serialio.ErrTimeout) {
			return Info{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return Info{}, err
	}
	return DecodeI(line)
}

// Instant sends the instant command name (a Cmd… constant) with its
// argument (only CmdTest has one: seconds) and judges the answer as NUT
// does: no reply line within the reply timeout, or "ACK", means done; any
// other reply (usually the command echoed) is ErrRejected.
func (d *Dev) Instant(name, arg string) error {
	cmd, err := EncodeCommand(name, arg, d.opts.Delays)
	if err != nil {
		return err
	}
	line, err := d.exchange(cmd)
	if err != nil {
		if errors.Is(err, serialio.ErrTimeout) {
			return nil
		}
		return err
	}
	if got := strings.TrimRight(string(line), "\r"); got != "ACK" {
		return fmt.Errorf("%w: %s: UPS answered %q", ErrRejected, name, got)
	}
	return nil
}
