package hall

import (
	"errors"
	"fmt"
)

// Sentinel codes of Error; branch on them with errors.Is.
var (
	ErrUnknownWindow      = errors.New("hall: unknown window")
	ErrUnknownService     = errors.New("hall: unknown service")
	ErrUnknownTicket      = errors.New("hall: unknown ticket")
	ErrWindowClosed       = errors.New("hall: window closed")
	ErrWindowPaused       = errors.New("hall: window paused")
	ErrWindowBusy         = errors.New("hall: window busy")            // it already has a current ticket
	ErrNoCurrent          = errors.New("hall: no current ticket")      // the window is idle
	ErrQueueEmpty         = errors.New("hall: queue empty")            // nothing to call
	ErrDailyCap           = errors.New("hall: daily cap reached")      // 限号
	ErrRecallLimit        = errors.New("hall: recall limit reached")   // Rules.RecallMax
	ErrRecallTooSoon      = errors.New("hall: recall too soon")        // Rules.RecallMinGap
	ErrBadState           = errors.New("hall: illegal transition")     // e.g. calling a finished ticket
	ErrUnknownAppointment = errors.New("hall: unknown appointment")    //
	ErrAppointmentEarly   = errors.New("hall: too early for the slot") // Rules.AppointmentEarly
	ErrAppointmentLate    = errors.New("hall: appointment is stale")   // its slot ended before today began
	ErrReactivateExpired  = errors.New("hall: reactivation too late")  // Rules.ReactivateWithin
	ErrInvalid            = errors.New("hall: invalid command")        // malformed command or config
)

// Error is the error returned by Decide, Do and Apply. Code is one of the
// Err* sentinels; errors.Is(err, ErrWindowPaused) matches it. Err, when set,
// is the underlying cause (a *ConfigError for a rejected configuration) and
// is reachable with errors.As.
type Error struct {
	Code error
	Msg  string
	Err  error
}

// Error returns "hall: " followed by the message.
func (e *Error) Error() string { return "hall: " + e.Msg }

// Is reports whether target is the code of e.
func (e *Error) Is(target error) bool { return e.Code == target }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func errf(code error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ConfigError is a configuration rejected by Config.Validate. Field is the
// path of the offending value as in the YAML file, e.g. "windows[3].services[1]"
// or "rules.priority_ratio", so the loader can point at file:line.
type ConfigError struct {
	Field string
	Msg   string
}

// Error returns "hall: config <field>: <msg>".
func (e *ConfigError) Error() string { return "hall: config " + e.Field + ": " + e.Msg }

func cfgErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
