package escpos

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the printer's state as DLE EOT 1–4 (or an ASB block) report it.
type Status struct {
	Online          bool `json:"online"`
	CoverOpen       bool `json:"cover_open"`
	Feeding         bool `json:"feeding"` // paper fed with the FEED button
	PaperEnd        bool `json:"paper_end"`
	PaperNearEnd    bool `json:"paper_near_end"`
	CutterError     bool `json:"cutter_error"`
	Unrecoverable   bool `json:"unrecoverable"`
	AutoRecoverable bool `json:"auto_recoverable"` // e.g. head overheat
	Error           bool `json:"error"`
}

// CanPrint reports whether a ticket sent now would come out whole: online,
// cover closed, paper present and no error. A near-end roll can still
// print.
func (s Status) CanPrint() bool {
	return s.Online && !s.CoverOpen && !s.PaperEnd && !s.CutterError &&
		!s.Unrecoverable && !s.AutoRecoverable && !s.Error
}

// String lists the conditions, e.g. "offline, paper end" or "online".
func (s Status) String() string {
	parts := []string{"online"}
	if !s.Online {
		parts[0] = "offline"
	}
	for _, c := range []struct {
		on   bool
		name string
	}{
		{s.CoverOpen, "cover open"},
		{s.Feeding, "feeding"},
		{s.PaperEnd, "paper end"},
		{s.PaperNearEnd, "paper near end"},
		{s.CutterError, "cutter error"},
		{s.Unrecoverable, "unrecoverable error"},
		{s.AutoRecoverable, "auto-recoverable error"},
		{s.Error, "error"},
	} {
		if c.on {
			parts = append(parts, c.name)
		}
	}
	return strings.Join(parts, ", ")
}

// Sentinel errors. A *StatusError matches (errors.Is) every one of the
// first six whose condition it reports.
var (
	ErrOffline       = errors.New("escpos: offline")
	ErrCoverOpen     = errors.New("escpos: cover open")
	ErrPaperEnd      = errors.New("escpos: paper end")
	ErrCutter        = errors.New("escpos: cutter error")
	ErrUnrecoverable = errors.New("escpos: unrecoverable error")
	ErrRecoverable   = errors.New("escpos: recoverable error") // auto-recoverable or unspecified error
	// ErrIncomplete: the ticket was sent but may not have come out whole
	// (paper ran out or the printer failed while printing, or the port
	// vanished part-way).
	ErrIncomplete = errors.New("escpos: ticket may be incomplete")
	// ErrGarbled: bytes arrived that are neither a DLE EOT reply nor an
	// ASB block; they are counted and never decoded.
	ErrGarbled = errors.New("escpos: garbled reply")
	// ErrTimeout: no reply came in time.
	ErrTimeout = errors.New("escpos: no reply")
	// ErrDisconnected: the port failed (EIO, EOF, closed); the Printer stays
	// failed and a new one must be made on the reopened port.
	ErrDisconnected = errors.New("escpos: disconnected")
	// ErrHalted: Halt stopped the operation.
	ErrHalted = errors.New("escpos: halted")
)

// StatusError is returned by PrintTicket when the printer's status forbids
// printing (before the ticket is sent) or shows a fault afterwards
// (AfterPrint; it then also matches ErrIncomplete).
type StatusError struct {
	Status     Status
	AfterPrint bool
}

func (e *StatusError) Error() string {
	if e.AfterPrint {
		return "escpos: ticket may be incomplete: " + e.Status.String()
	}
	return "escpos: cannot print: " + e.Status.String()
}

// Is matches the sentinel of every condition in the status.
func (e *StatusError) Is(target error) bool {
	s := e.Status
	switch target {
	case ErrOffline:
		return !s.Online
	case ErrCoverOpen:
		return s.CoverOpen
	case ErrPaperEnd:
		return s.PaperEnd
	case ErrCutter:
		return s.CutterError
	case ErrUnrecoverable:
		return s.Unrecoverable
	case ErrRecoverable:
		return s.AutoRecoverable || (s.Error && !s.CutterError && !s.Unrecoverable)
	case ErrIncomplete:
		return e.AfterPrint
	}
	return false
}

// DLE EOT reply bits (protocol notes §2.5). A reply has bits 1 and 4 set
// and bits 0 and 7 clear.
const (
	rtMask  = 0x93
	rtFixed = 0x12

	rt1Offline       = 0x08 // n=1
	rt2CoverOpen     = 0x04 // n=2
	rt2Feeding       = 0x08
	rt2PaperEnd      = 0x20
	rt2Error         = 0x40
	rt3Cutter        = 0x08 // n=3
	rt3Unrecoverable = 0x20
	rt3AutoRecover   = 0x40
	rt4NearEnd       = 0x0C // n=4: either of the paired bits
	rt4PaperEnd      = 0x60
)

// ValidReply reports whether b can be a DLE EOT reply.
func ValidReply(b byte) bool { return b&rtMask == rtFixed }

// DecodeStatus decodes the replies to DLE EOT 1, 2, 3 and 4 (in that
// order). Bits are tested with masks, not compared whole, because some
// printers (Citizen) report the paired near-end and end bits separately.
// A reply that fails the fixed-bit check is an error matching ErrGarbled;
// the status is then not decoded at all.
func DecodeStatus(r [4]byte) (Status, error) {
	for i, b := range r {
		if !ValidReply(b) {
			return Status{}, fmt.Errorf("%w: DLE EOT %d reply %#02x", ErrGarbled, i+1, b)
		}
	}
	return Status{
		Online:          r[0]&rt1Offline == 0,
		CoverOpen:       r[1]&rt2CoverOpen != 0,
		Feeding:         r[1]&rt2Feeding != 0,
		PaperEnd:        r[1]&rt2PaperEnd != 0 || r[3]&rt4PaperEnd != 0,
		PaperNearEnd:    r[3]&rt4NearEnd != 0,
		CutterError:     r[2]&rt3Cutter != 0,
		Unrecoverable:   r[2]&rt3Unrecoverable != 0,
		AutoRecoverable: r[2]&rt3AutoRecover != 0,
		Error:           r[1]&rt2Error != 0,
	}, nil
}

// ASB block bits (protocol notes §2.6).
const (
	asbMask       = 0x93 // first byte: bits 0, 1 and 7 clear, bit 4 set
	asbFixed      = 0x10
	asbRestMask   = 0x90 // bytes 2–4: bits 4 and 7 clear
	asb1Offline   = 0x08
	asb1CoverOpen = 0x20
	asb1Feeding   = 0x40
	asb2Mech      = 0x04
	asb2Cutter    = 0x08
	asb2Unrecover = 0x20
	asb2AutoRecov = 0x40
	asb3NearEnd   = 0x03
	asb3PaperEnd  = 0x0C
)

// IsASBStart reports whether b can begin an Automatic Status Back block,
// which tells it apart from a DLE EOT reply.
func IsASBStart(b byte) bool { return b&asbMask == asbFixed }

// DecodeASB decodes a 4-byte Automatic Status Back block (sent after
// GS a n while a selected status changes). The first byte must pass
// IsASBStart and the other three must have bits 4 and 7 clear, as on
// Epson-compatible printers; otherwise the error matches ErrGarbled.
func DecodeASB(b [4]byte) (Status, error) {
	if !IsASBStart(b[0]) {
		return Status{}, fmt.Errorf("%w: ASB first byte %#02x", ErrGarbled, b[0])
	}
	for i, c := range b[1:] {
		if c&asbRestMask != 0 {
			return Status{}, fmt.Errorf("%w: ASB byte %d %#02x", ErrGarbled, i+2, c)
		}
	}
	return Status{
		Online:          b[0]&asb1Offline == 0,
		CoverOpen:       b[0]&asb1CoverOpen != 0,
		Feeding:         b[0]&asb1Feeding != 0,
		PaperEnd:        b[2]&asb3PaperEnd != 0,
		PaperNearEnd:    b[2]&asb3NearEnd != 0,
		CutterError:     b[1]&asb2Cutter != 0,
		Unrecoverable:   b[1]&asb2Unrecover != 0,
		AutoRecoverable: b[1]&asb2AutoRecov != 0,
		Error:           b[1]&(asb2Mech|asb2Cutter|asb2Unrecover|asb2AutoRecov) != 0,
	}, nil
}

// ASB status groups for EnableASB (GS a n).
const (
	ASBDrawer  byte = 0x01
	ASBOnline  byte = 0x02
	ASBError   byte = 0x04
	ASBPaper   byte = 0x08
	ASBAll          = ASBDrawer | ASBOnline | ASBError | ASBPaper
	ASBDisable byte = 0
)
