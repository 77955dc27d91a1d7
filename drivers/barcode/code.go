package barcode

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Kind is what a scanned code is.
type Kind int

// Kinds of code.
const (
	KindUnknown     Kind = iota
	KindAppointment      // an appointment QR code
	KindCase             // a case number (办件编号)
)

// String returns "unknown", "appointment" or "case".
func (k Kind) String() string {
	switch k {
	case KindAppointment:
		return "appointment"
	case KindCase:
		return "case"
	}
	return "unknown"
}

// MarshalText makes a Kind encode as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Code is a classified scan.
type Code struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id,omitempty"` // appointment ID or case number
	Raw  string `json:"raw"`          // the scan as read
}

// AppointmentPrefix starts an appointment QR code: HALLGW-APPT:<id>, where
// the ID is 1–64 characters from A–Z, a–z, 0–9, '-' and '_'. The prefix and
// an ID of upper-case letters, digits and '-' fit the QR alphanumeric mode,
// which gives the smallest code.
const AppointmentPrefix = "HALLGW-APPT:"

var appointmentID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// DefaultCasePattern is what a case number looks like unless configured
// otherwise: 10 to 32 ASCII letters and digits.
const DefaultCasePattern = `[0-9A-Za-z]{10,32}`

// ErrBadAppointment is matched by the error for a code that has the
// appointment prefix but no valid ID after it.
var ErrBadAppointment = errors.New("barcode: malformed appointment code")

// Classifier sorts scans into kinds.
type Classifier struct {
	casePat *regexp.Regexp
}

// NewClassifier returns a Classifier whose case numbers match casePattern
// (RE2 syntax) as a whole; "" means DefaultCasePattern.
func NewClassifier(casePattern string) (*Classifier, error) {
	if casePattern == "" {
		casePattern = DefaultCasePattern
	}
	re, err := regexp.Compile(`^(?:` + casePattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("barcode: case pattern: %w", err)
	}
	return &Classifier{casePat: re}, nil
}

var defaultClassifier, _ = NewClassifier("")

// ParseCode classifies s with the default case pattern.
func ParseCode(s string) (Code, error) { return defaultClassifier.Parse(s) }

// Parse classifies a scan, ignoring surrounding white space: an
// appointment code (AppointmentPrefix and an ID), a case number, or
// unknown. A code with the appointment prefix and a bad ID is unknown and
// comes with an error matching ErrBadAppointment.
func (c *Classifier) Parse(s string) (Code, error) {
	s = strings.TrimSpace(s)
	code := Code{Raw: s}
	if id, ok := strings.CutPrefix(s, AppointmentPrefix); ok {
		if !appointmentID.MatchString(id) {
			return code, fmt.Errorf("%w: want 1–64 of A-Z a-z 0-9 - _ after the prefix, got %d bytes", ErrBadAppointment, len(id))
		}
		code.Kind, code.ID = KindAppointment, id
		return code, nil
	}
	if c.casePat.MatchString(s) {
		code.Kind, code.ID = KindCase, s
	}
	return code, nil
}
