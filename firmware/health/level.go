package health

import (
	"fmt"
	"time"
)

// Level is a fault level of DB43/T 2422 part 4 §6.3.1: LevelI is the most
// severe, LevelIII the least; LevelNone means no fault.
type Level uint8

// Fault levels.
const (
	LevelNone Level = iota
	LevelI          // I级: no window can work, or a system outage of more than an hour
	LevelII         // II级: some windows cannot work, or a system outage of 20 minutes to an hour
	LevelIII        // III级: the platform is unreachable, or a system outage of less than 20 minutes
)

// String returns "I", "II", "III", or "" for LevelNone.
func (l Level) String() string {
	switch l {
	case LevelNone:
		return ""
	case LevelI:
		return "I"
	case LevelII:
		return "II"
	case LevelIII:
		return "III"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// MarshalText writes the level as String does.
func (l Level) MarshalText() ([]byte, error) {
	if l > LevelIII {
		return nil, fmt.Errorf("health: bad fault level %d", uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads "I", "II", "III" or "".
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*l = LevelNone
	case "I":
		*l = LevelI
	case "II":
		*l = LevelII
	case "III":
		*l = LevelIII
	default:
		return fmt.Errorf("health: bad fault level %q: want I, II or III", b)
	}
	return nil
}

// Worse reports whether l is more severe than m. Any fault is worse than
// LevelNone.
func (l Level) Worse(m Level) bool {
	if l == LevelNone {
		return false
	}
	return m == LevelNone || l < m
}

// Category separates the two fault classifications of the seed: network
// faults, graded by what is down, and information-system faults, graded by
// how long the outage has lasted.
type Category string

// Fault categories.
const (
	Network Category = "network" // seed part 4 §6.3.1.1
	System  Category = "system"  // seed part 4 §6.3.1.2
)

// FaultRules say when an outage becomes a fault and how an
// information-system fault escalates.
type FaultRules struct {
	// Grace is how long a device must be down before a fault opens, so a
	// reconnect of a few seconds is not a fault. It also bounds how long
	// faults restored after a restart wait for their devices to report.
	Grace time.Duration
	// SystemII and SystemI are the durations after which an
	// information-system fault becomes level II and level I.
	SystemII, SystemI time.Duration
}

// DefaultFaultRules follow the seed: III under 20 minutes, II under an hour,
// I beyond; 30 s of grace.
var DefaultFaultRules = FaultRules{Grace: 30 * time.Second, SystemII: 20 * time.Minute, SystemI: time.Hour}

func (r FaultRules) validate() error {
	if r.Grace < 0 || r.SystemII <= 0 || r.SystemI <= r.SystemII {
		return fmt.Errorf("health: fault rules want 0 ≤ grace and 0 < system_ii < system_i, got %v, %v, %v", r.Grace, r.SystemII, r.SystemI)
	}
	return nil
}

// systemLevel grades an information-system outage by its duration so far.
func (r FaultRules) systemLevel(d time.Duration) Level {
	switch {
	case d >= r.SystemI:
		return LevelI
	case d >= r.SystemII:
		return LevelII
	}
	return LevelIII
}
