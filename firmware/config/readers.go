package config

import (
	"regexp"
	"time"
)

// WindowReader is an ID-card reader at a service window: staff sign in and
// out (考勤) by laying their own ID card on it (docs/privacy.md).
type WindowReader struct {
	Window string `yaml:"window"`
	Port   string `yaml:"port"`
	Baud   int    `yaml:"baud"` // 0 means DefaultReaderBaud
	// Poll is how often the reader is asked for a card; 0 means
	// DefaultReaderPoll.
	Poll Duration `yaml:"poll"`
}

// Window reader defaults.
const (
	DefaultReaderBaud = 115200
	DefaultReaderPoll = 500 * time.Millisecond
)

// BaudOrDefault returns the line speed, DefaultReaderBaud when unset.
func (r WindowReader) BaudOrDefault() int {
	if r.Baud == 0 {
		return DefaultReaderBaud
	}
	return r.Baud
}

// PollOrDefault returns the poll interval, DefaultReaderPoll when unset.
func (r WindowReader) PollOrDefault() time.Duration {
	if r.Poll <= 0 {
		return DefaultReaderPoll
	}
	return r.Poll.D()
}

// validateWindowReaders checks devices.window_readers against the windows:
// one reader per window, a port for each.
func validateWindowReaders(v *validator, readers []WindowReader, windows []Window) {
	known := map[string]bool{}
	for _, w := range windows {
		known[w.ID] = true
	}
	seen := map[string]bool{}
	for i, r := range readers {
		p := "devices.window_readers[" + itoa(i) + "]"
		switch {
		case r.Window == "":
			v.errf(p+".window", "required")
		case !known[r.Window]:
			v.errf(p+".window", "unknown window %q", r.Window)
		case seen[r.Window]:
			v.errf(p+".window", "window %q already has a reader", r.Window)
		}
		seen[r.Window] = true
		checkPort(v, p, Port{Port: r.Port, Baud: r.Baud})
		if d := r.Poll.D(); d != 0 && (d < 100*time.Millisecond || d > 10*time.Second) {
			v.errf(p+".poll", "%s: want 100ms…10s", r.Poll)
		}
	}
}

// StaffCard is what the window readers need of a roster entry: the staff
// member's id and the holder hash of their ID card (the `id_hash` field of
// the staff list), so the roster never holds a clear ID number.
type StaffCard struct {
	ID     string
	IDHash string
}

// holderHashPattern is the form of a holder hash: "h1:" and 64 lower-case
// hex digits (docs/privacy.md).
var holderHashPattern = regexp.MustCompile(`^h1:[0-9a-f]{64}$`)

// validateStaffCards checks the id_hash of every staff member: empty (that
// member cannot sign in with a card) or a holder hash, no two alike.
func validateStaffCards(v *validator, cards []StaffCard) {
	seen := map[string]string{}
	for i, c := range cards {
		if c.IDHash == "" {
			continue
		}
		p := "staff[" + itoa(i) + "].id_hash"
		if !holderHashPattern.MatchString(c.IDHash) {
			v.errf(p, "want h1: and 64 lower-case hex digits (docs/privacy.md: how to compute it)")
			continue
		}
		if other, dup := seen[c.IDHash]; dup {
			v.errf(p, "same card as staff %q", other)
			continue
		}
		seen[c.IDHash] = c.ID
	}
}
