package ups

// ChargeModel is NUT's linear battery-charge guess: the reported battery
// voltage times Packs, placed between Low (0 %) and High (100 %).
type ChargeModel struct {
	Low, High float64 // pack volts
	// Packs multiplies the reported voltage: 1 for a whole-pack reading,
	// the cell count (12 for 24 V) for a per-cell reading.
	Packs float64
}

// GuessCharge returns the model NUT 2.8.0 builds without a battery.charge
// from the UPS: low and high are used when both are given (> 0), otherwise
// low = 104/120 and high = 130/120 of nominal (20.8 V and 26.0 V for 24 V);
// packs is used when > 0, otherwise detected from the first reading v with
// DetectPacks. ok is false when there is neither a nominal voltage nor both
// limits: NUT then publishes no battery.charge.
func GuessCharge(nominal, low, high, packs, v float64) (m ChargeModel, ok bool) {
	m.Low, m.High = low, high
	if nominal > 0 && (low <= 0 || high <= 0) {
		m.Low = 104 * nominal / 120
		m.High = 130 * nominal / 120
	}
	m.Packs = packs
	if m.Packs <= 0 {
		m.Packs = 1
		if nominal > 0 {
			m.Packs = DetectPacks(nominal, v)
		}
	}
	return m, m.Low > 0 && m.High > m.Low
}

// DetectPacks is NUT's guess of the battery voltage multiplier: the largest
// of 120, 100, 80, 60, 48, 36, 30, 24, 18, 12, 8, 6, 4, 3, 2, 1, 0.5 that
// brings the reading v within 0.8–1.2 of nominal; 1 when none does (NUT
// logs "Can't autodetect number of battery packs").
func DetectPacks(nominal, v float64) float64 {
	for _, p := range []float64{120, 100, 80, 60, 48, 36, 30, 24, 18, 12, 8, 6, 4, 3, 2, 1, 0.5} {
		if p*v > 1.2*nominal {
			continue
		}
		if p*v < 0.8*nominal {
			return 1
		}
		return p
	}
	return 1
}

// Charge returns battery.charge in % for the reported voltage v, clamped
// to 0–100 as NUT does.
func (m ChargeModel) Charge(v float64) float64 {
	c := 100 * (m.Packs*v - m.Low) / (m.High - m.Low)
	if c < 0 {
		return 0
	}
	if c > 100 {
		return 100
	}
	return c
}
