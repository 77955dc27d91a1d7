package idcard

import (
	"errors"
	"fmt"
)

// Status is a response's result code, the SW3 byte.
type Status byte

// The result codes the SAM sends. Codes 01–09 in vendor SDKs are host-side
// errors (port, timeout) and never appear on the wire.
const (
	StatusOK            Status = 0x90 // success
	StatusEmpty         Status = 0x91 // the requested item is empty on the card
	StatusCardFound     Status = 0x9F // find card: a card is in the field
	StatusChecksum      Status = 0x10 // the request's checksum was wrong
	StatusLength        Status = 0x11 // the request's length was wrong
	StatusCommand       Status = 0x21 // unknown command
	StatusNotPermitted  Status = 0x23 // operation not permitted
	StatusUnrecognised  Status = 0x24 // unrecognised error
	StatusCardAuth      Status = 0x31 // the card failed to authenticate the SAM
	StatusSAMAuth       Status = 0x32 // the SAM failed to authenticate the card
	StatusInfoCheck     Status = 0x33 // information check failed
	StatusFingerprint   Status = 0x37 // fingerprint check failed
	StatusInfoLength    Status = 0x3F // information length error
	StatusCardType      Status = 0x40 // unrecognised card type
	StatusReadFailed    Status = 0x41 // reading the card failed
	StatusRandom        Status = 0x47 // fetching a random number failed
	StatusSelfTest      Status = 0x60 // SAM self-test failed
	StatusNotAuthorised Status = 0x66 // SAM not authorised
	StatusNoCard        Status = 0x80 // find card: no card
	StatusSelectFailed  Status = 0x81 // select card failed
)

var statusText = map[Status]string{
	StatusOK:            "success",
	StatusEmpty:         "item empty on card",
	StatusCardFound:     "card found",
	StatusChecksum:      "request checksum error",
	StatusLength:        "request length error",
	StatusCommand:       "command error",
	StatusNotPermitted:  "operation not permitted",
	StatusUnrecognised:  "unrecognised error",
	StatusCardAuth:      "card failed to authenticate SAM",
	StatusSAMAuth:       "SAM failed to authenticate card",
	StatusInfoCheck:     "information check failed",
	StatusFingerprint:   "fingerprint check failed",
	StatusInfoLength:    "information length error",
	StatusCardType:      "unrecognised card type",
	StatusReadFailed:    "card read failed",
	StatusRandom:        "random number fetch failed",
	StatusSelfTest:      "SAM self-test failed",
	StatusNotAuthorised: "SAM not authorised",
	StatusNoCard:        "card not found",
	StatusSelectFailed:  "card select failed",
}

// String returns the code's meaning and its hex value, e.g. "card not found
// (80)".
func (s Status) String() string {
	if t, ok := statusText[s]; ok {
		return fmt.Sprintf("%s (%02X)", t, byte(s))
	}
	return fmt.Sprintf("unknown status (%02X)", byte(s))
}

// Errors a caller may branch on with errors.Is. A *StatusError matches the
// one its command and status mean.
var (
	// ErrNoCard: find card answered 80, no card on the reader.
	ErrNoCard = errors.New("idcard: no card")
	// ErrCardRemoved: a card was found but select or read then failed (81,
	// 41 or 80), which is what lifting it in the middle of a read gives.
	ErrCardRemoved = errors.New("idcard: card removed during read")
	// ErrSAM: the security module is not working (self-test failed, not
	// authorised, or its status is not 90).
	ErrSAM = errors.New("idcard: SAM not ready")
)

// StatusError is a response whose status was not the one the command
// expects.
type StatusError struct {
	Cmd    Command
	Status Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("idcard: %v: %v", e.Cmd, e.Status)
}

// Is matches ErrNoCard, ErrCardRemoved or ErrSAM according to the command
// and status.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNoCard:
		return e.Cmd == CmdFindCard && e.Status == StatusNoCard
	case ErrCardRemoved:
		switch e.Cmd {
		case CmdSelectCard, CmdReadText, CmdReadTextFinger, CmdReadAddress:
			return e.Status == StatusReadFailed || e.Status == StatusNoCard || e.Status == StatusSelectFailed
		}
	case ErrSAM:
		if e.Status == StatusSelfTest || e.Status == StatusNotAuthorised {
			return true
		}
		return e.Cmd == CmdSAMStatus || e.Cmd == CmdSAMReset
	}
	return false
}
