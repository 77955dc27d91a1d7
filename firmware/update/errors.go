package update

import (
	"errors"
	"fmt"
)

// Refusals of a bundle. Callers branch on them with errors.Is; the typed
// errors below unwrap to ErrTampered, ErrDowngrade and ErrWrongBoard.
var (
	// ErrNoKeys: the device trusts no key, so it refuses every bundle.
	ErrNoKeys = errors.New("update: no trusted keys: every bundle is refused")
	// ErrUnsigned: the bundle has no manifest.sig right after its manifest.
	ErrUnsigned = errors.New("update: bundle is not signed")
	// ErrBadSignature: the signature matches none of the trusted keys, or the
	// manifest was altered after signing.
	ErrBadSignature = errors.New("update: manifest signature matches no trusted key")
	// ErrTampered: a payload differs from what the signed manifest lists.
	ErrTampered = errors.New("update: bundle content does not match its manifest")
	// ErrDowngrade: the bundle's security version is below the device's.
	ErrDowngrade = errors.New("update: security version below the installed one")
	// ErrWrongBoard: the bundle is for another board.
	ErrWrongBoard = errors.New("update: bundle is for another board")
	// ErrWrongArch: the bundle carries no daemon for this processor.
	ErrWrongArch = errors.New("update: bundle has no daemon for this processor")
	// ErrMalformed: the bundle is not a bundle (bad tar, bad manifest, …).
	ErrMalformed = errors.New("update: malformed bundle")
)

// Errors of the slot state machine.
var (
	// ErrTrialPending: an installed update has not been committed or rolled
	// back yet, so no other may be installed.
	ErrTrialPending = errors.New("update: an update is already on trial")
	// ErrNoTrial: there is no update on trial to roll back.
	ErrNoTrial = errors.New("update: no update on trial")
	// ErrNotInstalled: the root has no slot state; run the installer first.
	ErrNotInstalled = errors.New("update: no slot state (run hallgw install)")
	// ErrNoBootableSlot: neither slot holds a complete, intact daemon.
	ErrNoBootableSlot = errors.New("update: no bootable slot")
	// ErrUnhealthy: the daemon on trial did not pass its health checks
	// before the deadline.
	ErrUnhealthy = errors.New("update: trial not healthy before its deadline")
)

// TamperKind says how a payload differs from the manifest.
type TamperKind string

// The ways a bundle can disagree with its manifest.
const (
	HashMismatch  TamperKind = "sha256 mismatch"
	SizeMismatch  TamperKind = "size mismatch"
	ExtraFile     TamperKind = "file not in manifest"
	MissingFile   TamperKind = "file missing"
	DuplicateFile TamperKind = "file appears twice"
	NotRegular    TamperKind = "not a regular file"
)

// TamperError reports a payload that does not match the signed manifest.
type TamperError struct {
	File string
	Kind TamperKind
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("update: bundle tampered: %q: %s", e.File, e.Kind)
}

// Unwrap returns ErrTampered.
func (e *TamperError) Unwrap() error { return ErrTampered }

// DowngradeError reports a bundle whose security version is below the one
// the device has committed.
type DowngradeError struct {
	Bundle, Installed uint64
}

func (e *DowngradeError) Error() string {
	return fmt.Sprintf("update: security version %d is below the installed %d", e.Bundle, e.Installed)
}

// Unwrap returns ErrDowngrade.
func (e *DowngradeError) Unwrap() error { return ErrDowngrade }

// BoardError reports a bundle built for another board.
type BoardError struct {
	Bundle, Device string
}

func (e *BoardError) Error() string {
	if e.Device == "" {
		return fmt.Sprintf("update: bundle is for board %q but this device has no board string", e.Bundle)
	}
	return fmt.Sprintf("update: bundle is for board %q, this device is %q", e.Bundle, e.Device)
}

// Unwrap returns ErrWrongBoard.
func (e *BoardError) Unwrap() error { return ErrWrongBoard }
