package privacy

import (
	"fmt"
	"log/slog"
	"time"

	"hallgw/drivers/idcard"
)

// Subject is what a kiosk seals about the holder of an ID card. Its JSON is
// the clear data, for Seal only; String, Format and LogValue print it
// masked, so a Subject printed or logged by accident leaks nothing.
type Subject struct {
	Name   string    `json:"name"`
	Number string    `json:"number"`
	Birth  time.Time `json:"birth"`
	Sex    string    `json:"sex,omitempty"`
}

// SubjectOf takes the personal fields of a card.
func SubjectOf(c *idcard.Card) Subject {
	return Subject{Name: c.Name, Number: c.Number, Birth: c.Birth, Sex: c.Sex.String()}
}

// String returns the masked name and number: 张*三 4301**********1234.
func (s Subject) String() string {
	return idcard.MaskName(s.Name) + " " + idcard.MaskNumber(s.Number)
}

// Format prints String for every verb.
func (s Subject) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue makes log/slog record the masked form.
func (s Subject) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Person is what may leave the gateway about someone: the holder hash, and
// masked name and number unless clear values are allowed.
type Person struct {
	HolderHash string `json:"holder_hash"`
	Name       string `json:"name,omitempty"`
	Number     string `json:"number,omitempty"`
	// Clear is true when Name and Number are the clear values.
	Clear bool `json:"clear,omitempty"`
}

// Upstream returns what the platform may receive about s: the holder hash
// and the masked name and number, or the clear ones when Opts.UpstreamClear
// is set (configuration privacy.upstream_clear, off by default).
func (k *Keeper) Upstream(s Subject) Person {
	p := Person{HolderHash: k.HolderHash(s.Number)}
	if k.o.UpstreamClear {
		p.Name, p.Number, p.Clear = s.Name, Normalise(s.Number), true
		return p
	}
	p.Name, p.Number = idcard.MaskName(s.Name), idcard.MaskNumber(Normalise(s.Number))
	return p
}
