package scanner

import (
	"errors"
	"fmt"
	"strconv"
)

// Status is a SANE status code; scanimage exits with the status of the
// failed operation.
type Status int

// SANE status codes (sane.h).
const (
	StatusGood         Status = 0
	StatusUnsupported  Status = 1
	StatusCancelled    Status = 2
	StatusDeviceBusy   Status = 3
	StatusInval        Status = 4
	StatusEOF          Status = 5 // end of a page: the good end of a read
	StatusJammed       Status = 6
	StatusNoDocs       Status = 7
	StatusCoverOpen    Status = 8
	StatusIOError      Status = 9
	StatusNoMem        Status = 10
	StatusAccessDenied Status = 11
)

var statusNames = [...]string{"good", "unsupported", "cancelled", "device busy", "invalid argument",
	"end of page", "document feeder jammed", "document feeder out of documents", "scanner cover is open",
	"error during device I/O", "out of memory", "access denied"}

// String returns SANE's description of the status in lower case.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status " + strconv.Itoa(int(s))
}

// Errors callers branch on. A *StatusError matches the one of its status.
var (
	ErrJammed     = errors.New("scanner: paper jam")
	ErrNoDocs     = errors.New("scanner: no documents in the feeder")
	ErrCoverOpen  = errors.New("scanner: cover open")
	ErrDeviceBusy = errors.New("scanner: device busy")
	// ErrTimeout is returned when a scan exceeds Opts.Timeout.
	ErrTimeout = errors.New("scanner: scan timed out")
	// ErrHalted is returned by a Scan that Halt stopped.
	ErrHalted = errors.New("scanner: halted")
	// ErrInUse is returned by a Scan started while another runs on the
	// same Dev.
	ErrInUse = errors.New("scanner: a scan is already running")
)

// StatusError is a scan that scanimage ended with a SANE status other than
// good.
type StatusError struct {
	Status Status
	// Msg is scanimage's last message ("sane_read: Document feeder
	// jammed"); it never holds document content.
	Msg string
	// Pages is the number of complete pages kept.
	Pages int
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("scanner: %v after %d page(s)", e.Status, e.Pages)
	if e.Msg != "" {
		s += " (" + e.Msg + ")"
	}
	return s
}

// Is matches the sentinel of the status.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrJammed:
		return e.Status == StatusJammed
	case ErrNoDocs:
		return e.Status == StatusNoDocs
	case ErrCoverOpen:
		return e.Status == StatusCoverOpen
	case ErrDeviceBusy:
		return e.Status == StatusDeviceBusy
	}
	return false
}
