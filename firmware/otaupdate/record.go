package otaupdate

import (
	"errors"
	"time"

	"hallgw/firmware/update"
)

// KindFirmware is the journal kind of the update's business records; the
// uplink publishes them on the events topic like every business record.
const KindFirmware = "firmware"

// Steps of an update, the Type of its records.
const (
	StepAccepted   = "accepted"   // the command was taken; the download starts
	StepResumed    = "resumed"    // a start of the gateway found the download unfinished
	StepDownloaded = "downloaded" // every chunk arrived and the file matches its sha256
	StepInstalled  = "installed"  // written to the inactive slot, trial armed; the gateway restarts
	StepRefused    = "refused"    // the bundle was refused: nothing changed (Code, Reason)
	StepFailed     = "failed"     // the update could not be carried out: nothing changed (Reason)
)

// Refusal codes (Record.Code), one per refusal of firmware/update.
const (
	CodeChecksum     = "checksum"      // the downloaded file does not hash to the offered sha256
	CodeNoKeys       = "no_keys"       // the device trusts no key
	CodeUnsigned     = "unsigned"      // no signature
	CodeBadSignature = "bad_signature" // not signed by a trusted key, or changed after signing
	CodeTampered     = "tampered"      // a payload differs from the signed manifest
	CodeDowngrade    = "downgrade"     // security version below the committed one
	CodeWrongBoard   = "wrong_board"   // built for another board
	CodeWrongArch    = "wrong_arch"    // no daemon for this processor
	CodeMalformed    = "malformed"     // not a bundle
	CodeTrialPending = "trial_pending" // another update is on trial
	// CodeSuperseded ends (as failed) a download replaced by another offer.
	CodeSuperseded = "superseded"
)

// Record is the JSON payload of a firmware record.
type Record struct {
	Type            string    `json:"type"` // a Step* constant
	At              time.Time `json:"at"`
	Version         string    `json:"version,omitempty"` // offered, or the manifest's once known
	SHA256          string    `json:"sha256"`
	Size            int64     `json:"size,omitempty"`
	Chunks          int       `json:"chunks,omitempty"`
	Received        int       `json:"received,omitempty"` // chunks already on disk (accepted, resumed)
	Slot            string    `json:"slot,omitempty"`     // installed
	KeyID           string    `json:"key_id,omitempty"`   // installed: the key that signed it
	SecurityVersion uint64    `json:"security_version,omitempty"`
	// Code names the refusal (Code* constants); Reason says it in words.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// refusal maps an error of the download or the install to its refusal
// code; "" when it is not a refusal of the bundle.
func refusal(err error) string {
	switch {
	case errors.Is(err, update.ErrChecksum):
		return CodeChecksum
	case errors.Is(err, update.ErrNoKeys):
		return CodeNoKeys
	case errors.Is(err, update.ErrUnsigned):
		return CodeUnsigned
	case errors.Is(err, update.ErrBadSignature):
		return CodeBadSignature
	case errors.Is(err, update.ErrTampered):
		return CodeTampered
	case errors.Is(err, update.ErrDowngrade):
		return CodeDowngrade
	case errors.Is(err, update.ErrWrongBoard):
		return CodeWrongBoard
	case errors.Is(err, update.ErrWrongArch):
		return CodeWrongArch
	case errors.Is(err, update.ErrMalformed):
		return CodeMalformed
	case errors.Is(err, update.ErrTrialPending):
		return CodeTrialPending
	}
	return ""
}
