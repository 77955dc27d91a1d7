package ups

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInconclusive is matched when a discharge was too short or too flat to
// measure a slope: the voltage fell by less than two steps of the UPS's
// resolution.
var ErrInconclusive = errors.New("ups: discharge too small to estimate runtime")

// Required is the runtime a service hall's UPS must give: at least 4 hours
// (DB43/T 2422.1 §6.1.1).
const Required = 4 * time.Hour

// Sample is one Q1 reading taken while the battery discharges.
type Sample struct {
	At      time.Time `json:"at"`
	Voltage float64   `json:"voltage"` // pack volts (a per-cell reading times the cell count)
	Load    float64   `json:"load"`    // % of rated load
	Status  string    `json:"status"`  // ups.status
}

// Fit is a straight line through discharge samples, by least squares.
type Fit struct {
	Slope float64   // volts per hour (negative while discharging)
	At    time.Time // the time of the last sample
	V     float64   // the line's value at At
	Drop  float64   // how far the line falls over the samples, volts
	N     int       // samples used
}

// FitDischarge fits a line to samples taken at or after from. It needs at
// least three samples spanning a positive time.
func FitDischarge(samples []Sample, from time.Time) (Fit, bool) {
	var n, sx, sy, sxx, sxy float64
	var t0, tl time.Time
	first := true
	for _, s := range samples {
		if s.At.Before(from) {
			continue
		}
		if first {
			t0, first = s.At, false
		}
		tl = s.At
		x := s.At.Sub(t0).Hours()
		n++
		sx += x
		sy += s.Voltage
		sxx += x * x
		sxy += x * s.Voltage
	}
	if n < 3 {
		return Fit{}, false
	}
	den := n*sxx - sx*sx
	if den <= 0 {
		return Fit{}, false
	}
	slope := (n*sxy - sx*sy) / den
	icpt := (sy - slope*sx) / n
	span := tl.Sub(t0).Hours()
	return Fit{Slope: slope, At: tl, V: icpt + slope*span, Drop: -slope * span, N: int(n)}, true
}

// Remaining returns the time for the fitted line to fall from its value at
// the last sample to end volts. resolution is the voltage step of the
// readings (pack volts); a drop under two steps is ErrInconclusive.
func (f Fit) Remaining(end, resolution float64) (time.Duration, error) {
	if f.Slope >= 0 || f.Drop < 2*resolution {
		return 0, fmt.Errorf("%w: fell %.2f V over %d samples, resolution %.2f V", ErrInconclusive, f.Drop, f.N, resolution)
	}
	if f.V <= end {
		return 0, nil
	}
	h := (f.V - end) / -f.Slope
	if h > 1e5 {
		h = 1e5
	}
	return time.Duration(h * float64(time.Hour)), nil
}

// Report is the outcome of a battery test.
type Report struct {
	// Runtime is the time a full battery lasts at Load, from the start of
	// the discharge to End volts (measured, or extrapolated: see Method).
	Runtime time.Duration `json:"runtime"`
	// Load is the mean load during the test, %.
	Load float64 `json:"load"`
	// Required is the runtime the hall needs (4 h unless the test said
	// otherwise); Meets4h tells whether Runtime reaches it.
	Required time.Duration `json:"required"`
	Meets4h  bool          `json:"meets_4h"`
	// Measured is true when the battery reached low battery during the test,
	// so Runtime was timed rather than extrapolated.
	Measured bool `json:"measured"`
	// Method says how Runtime was found and how far to trust it.
	Method string `json:"method"`
	// End is the pack voltage the extrapolation aims at, Slope the fitted
	// discharge slope in volts per hour.
	End   float64 `json:"end_voltage"`
	Slope float64 `json:"slope_v_per_h"`
	// Start and Stop bound the test.
	Start   time.Time `json:"start"`
	Stop    time.Time `json:"stop"`
	Samples []Sample  `json:"samples"`
}

// Method texts for Report.
const (
	MethodMeasured     = "measured: the battery reached low battery during the test"
	MethodExtrapolated = "extrapolated from the battery-voltage slope: rough, treat as ±30 %"
)

// String summarises the report in one line.
func (r Report) String() string {
	verdict := "meets"
	if !r.Meets4h {
		verdict = "does NOT meet"
	}
	return fmt.Sprintf("runtime %v at %.0f %% load (%s); %s the %v requirement",
		r.Runtime.Round(time.Minute), r.Load, r.Method, verdict, r.Required)
}

// RuntimeAt scales a full-battery runtime measured at load rLoad to the
// present charge (%) and load: runtime × charge/100 × rLoad/load, with both
// loads floored at 10 % as NUT's idle load is. Runtime is taken as inversely
// proportional to load, which flatters high loads (Peukert's law).
func RuntimeAt(full time.Duration, rLoad, charge, load float64) time.Duration {
	rLoad = math.Max(rLoad, 10)
	load = math.Max(load, 10)
	c := math.Min(math.Max(charge, 0), 100) / 100
	return time.Duration(float64(full) * c * rLoad / load)
}

// mean load of samples.
func meanLoad(samples []Sample) float64 {
	if len(samples) == 0 {
		return 0
	}
	var s float64
	for _, x := range samples {
		s += x.Load
	}
	return s / float64(len(samples))
}
