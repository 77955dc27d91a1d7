package ups

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// TestSpec describes a BatteryTest.
type TestSpec struct {
	// Duration is the commanded test length in whole minutes, 1–99 ("T<mm>").
	// Zero runs a deep test ("TL") until the UPS reports low battery.
	Duration time.Duration
	// Interval is the time between Q1 samples; zero means 10 s.
	Interval time.Duration
	// MaxDuration bounds a deep test; zero means 24 h. The test is cancelled
	// ("CT") when it runs longer.
	MaxDuration time.Duration
	// Required is the runtime the hall needs; zero means 4 h.
	Required time.Duration
}

// BatteryTest commands a battery test, samples Q1 every Interval while it
// runs and returns how long a full battery lasts at the observed load.
//
// When the UPS reports low battery during the test (always, for a deep
// test that runs its course) the runtime is timed: Report.Measured. Otherwise
// a straight line is fitted to the pack voltage after the first Opts.Settle
// of the test and extended to Opts.EndVoltage (the nominal voltage by
// default); the runtime is the test's length plus that extension. Such an
// estimate is rough (docs/ups.md): a battery's voltage falls faster near the
// end, and a short test at a light load may fall by less than the reading's
// resolution, which gives ErrInconclusive with the samples in the report.
//
// The UPS must be on mains and not testing already. Cancelling ctx or
// calling Halt stops the test with "CT". The report also becomes the basis
// of battery.runtime in later Status calls.
func (d *Dev) BatteryTest(ctx context.Context, spec TestSpec) (Report, error) {
	if spec.Interval == 0 {
		spec.Interval = 10 * time.Second
	}
	if spec.MaxDuration == 0 {
		spec.MaxDuration = 24 * time.Hour
	}
	if spec.Required == 0 {
		spec.Required = Required
	}
	cmd, arg := CmdTestDeep, ""
	switch {
	case spec.Duration < 0 || spec.Interval < 0 || spec.MaxDuration < 0:
		return Report{}, errors.New("ups: battery test: negative duration")
	case spec.Duration > 0:
		if spec.Duration%time.Minute != 0 || spec.Duration > 99*time.Minute {
			return Report{}, fmt.Errorf("ups: battery test: duration %v, want whole minutes 1..99", spec.Duration)
		}
		cmd, arg = CmdTest, strconv.FormatInt(int64(spec.Duration/time.Second), 10)
	}
	d.smu.Lock()
	end := d.endVoltage()
	stop := d.stop
	d.smu.Unlock()
	if end <= 0 {
		return Report{}, errors.New("ups: battery test: nominal battery voltage unknown (set Opts.BatteryNominal or call Ratings)")
	}
	pre, err := d.Status()
	if err != nil {
		return Report{}, fmt.Errorf("ups: battery test: %w", err)
	}
	if pre.OnBattery() || pre.Testing || pre.BatteryLow {
		return Report{}, fmt.Errorf("ups: battery test refused: UPS is %s", pre.UPSStatus())
	}
	if err := d.Instant(cmd, arg); err != nil {
		return Report{}, fmt.Errorf("ups: battery test: %w", err)
	}
	clk := d.opts.Clock
	r := Report{Start: clk.Now(), End: end, Required: spec.Required}
	cancel := func(cause error) (Report, error) {
		cerr := d.Instant(CmdTestStop, "")
		r.Stop = clk.Now()
		return r, errors.Join(cause, cerr)
	}
	limit := spec.MaxDuration
	if spec.Duration > 0 {
		limit = spec.Duration + 2*spec.Interval + time.Minute
	}
	seen, fails, polls := false, 0, 0
	var lastV float64
	var lastTest time.Time
	for {
		select {
		case <-ctx.Done():
			return cancel(fmt.Errorf("ups: battery test: %w", ctx.Err()))
		case <-stop:
			return cancel(errors.New("ups: battery test halted"))
		case <-clk.After(spec.Interval):
		}
		s, err := d.Status()
		if err != nil {
			fails++
			if errors.Is(err, ErrStale) {
				return cancel(fmt.Errorf("ups: battery test: %w", err))
			}
			continue
		}
		fails = 0
		polls++
		now := clk.Now()
		if s.Testing || s.OnBattery() {
			seen = true
			lastTest = now
			if s.BatteryVoltage != nil && s.Load != nil {
				d.smu.Lock()
				packs := d.model.Packs
				d.smu.Unlock()
				lastV = *s.BatteryVoltage
				r.Samples = append(r.Samples, Sample{At: now, Voltage: lastV * packs, Load: *s.Load, Status: s.UPSStatus()})
			}
		}
		if s.BatteryLow && seen {
			r.Measured = true
			r.Runtime = now.Sub(r.Start)
			if s.Testing {
				if err := d.Instant(CmdTestStop, ""); err != nil {
					return r, fmt.Errorf("ups: battery test: stop: %w", err)
				}
			}
			break
		}
		if seen && !s.Testing && !s.OnBattery() {
			// The UPS ended its test. A deep test ends at low battery, and
			// so does a timed one that stops well before its time; the UPS
			// is back on mains by now, so the last sample under test times
			// it (conservatively, within one interval).
			if spec.Duration == 0 || lastTest.Sub(r.Start) < spec.Duration-2*spec.Interval {
				r.Measured = true
				r.Runtime = lastTest.Sub(r.Start)
			}
			break
		}
		if !seen && polls >= 3 {
			return cancel(errors.New("ups: battery test did not start (the UPS never reported a test in progress)"))
		}
		if now.Sub(r.Start) > limit {
			if _, err := cancel(nil); err != nil {
				return r, fmt.Errorf("ups: battery test: stop: %w", err)
			}
			break
		}
	}
	r.Stop = clk.Now()
	r.Load = meanLoad(r.Samples)
	if r.Measured {
		r.Method = MethodMeasured
	} else {
		r.Method = MethodExtrapolated
		f, ok := FitDischarge(r.Samples, r.Start.Add(d.opts.Settle))
		if !ok {
			return r, fmt.Errorf("%w: %d samples after the first %v", ErrInconclusive, len(r.Samples), d.opts.Settle)
		}
		r.Slope = f.Slope
		d.smu.Lock()
		res := resolution(lastV) * d.model.Packs
		d.smu.Unlock()
		rem, err := f.Remaining(end, res)
		if err != nil {
			return r, err
		}
		r.Runtime = f.At.Sub(r.Start) + rem
	}
	if f, ok := FitDischarge(r.Samples, r.Start.Add(d.opts.Settle)); ok && r.Measured {
		r.Slope = f.Slope
	}
	r.Meets4h = r.Runtime >= r.Required
	d.UseReport(r)
	return r, nil
}
