package uplink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hallgw/firmware/health"
)

// Command names (the "cmd" of a command message).
const (
	CmdPing         = "ping"
	CmdStatus       = "status"
	CmdConfig       = "config"       // push a configuration file
	CmdBroadcast    = "broadcast"    // a notice or an emergency text on every display
	CmdOpenWindow   = "open_window"  // staff signs in at a window
	CmdCloseWindow  = "close_window" // a window closes
	CmdAppointments = "appointments" // the day's appointment list
	CmdCloseFault   = "close_fault"  // ops close a fault with a resolution note
)

// Limits of a command message.
const (
	MaxCommandBytes  = 8 << 20 // a whole day's appointments fit
	MaxConfigBytes   = 1 << 20
	MaxBroadcastLen  = 200 // characters
	MaxRequestIDLen  = 64
	MaxAppointments  = 100000
	maxIdentifierLen = 64
)

// Notice levels of a broadcast.
const (
	NoticeInfo      = "info"
	NoticeEmergency = "emergency" // evacuation and the like (seed part 4 §6)
	NoticeClear     = "clear"     // remove the notice
)

// Request is a decoded, validated command. Exactly the argument field of
// its Cmd is set.
type Request struct {
	ID    string // the platform's request id, echoed in the reply
	Cmd   string
	Token string

	Config       *ConfigArgs
	Broadcast    *BroadcastArgs
	Window       *WindowArgs
	Appointments *AppointmentArgs
	Fault        *FaultArgs
	Args         json.RawMessage // a registered command's arguments (RegisterCommand)
}

// ConfigArgs carries a whole configuration file.
type ConfigArgs struct {
	YAML string `json:"yaml"`
}

// BroadcastArgs is a message for every display.
type BroadcastArgs struct {
	Text  string `json:"text"`
	Level string `json:"level"` // info, emergency or clear
}

// WindowArgs names a window, and the staff for open_window.
type WindowArgs struct {
	Window string `json:"window"`
	Staff  string `json:"staff,omitempty"`
}

// AppointmentArgs is the day's appointment list; it replaces the previous
// one.
type AppointmentArgs struct {
	Appointments []AppointmentArg `json:"appointments"`
}

// AppointmentArg is one booked slot. HolderHash is the platform's HMAC of
// the holder's ID number, never the number itself.
type AppointmentArg struct {
	ID         string    `json:"id"`
	Service    string    `json:"service"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	HolderHash string    `json:"holder_hash,omitempty"`
}

// FaultArgs closes a fault with a resolution note.
type FaultArgs struct {
	Fault string `json:"fault"`
	Note  string `json:"note"`
}

// Error codes of a command reply.
const (
	CodeMalformed    = "malformed" // not a command message at all
	CodeUnknown      = "unknown_command"
	CodeUnauthorised = "unauthorised" // token missing or wrong
	CodeInvalid      = "invalid"      // arguments wrong
	CodeRejected     = "rejected"     // the gateway refused it (hall rules, configuration errors)
	CodeFailed       = "failed"       // it could not be carried out
	CodeBusy         = "busy"         // too many commands waiting
	CodeUnavailable  = "unavailable"  // this gateway cannot do it (no hall, no configuration file)
)

// CommandError is why a command was refused; Code is one of the Code*
// constants.
type CommandError struct {
	Code string
	Msg  string
	// Details are the individual problems (file:line:col: field: message
	// for a configuration).
	Details []string
	Err     error
}

func (e *CommandError) Error() string { return "uplink: command " + e.Code + ": " + e.Msg }

// Unwrap returns the cause.
func (e *CommandError) Unwrap() error { return e.Err }

func cmdErr(code, format string, args ...any) *CommandError {
	return &CommandError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// envelope is the wire form of a command.
type envelope struct {
	V     int             `json:"v"`
	ID    string          `json:"id"`
	Cmd   string          `json:"cmd"`
	Token string          `json:"token,omitempty"`
	Args  json.RawMessage `json:"args,omitempty"`
}

var (
	identRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)
	hashRE  = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{16,128}$`)
)

// RequestID returns the request id of a payload when it has a usable one,
// so that even a malformed command can be answered by id.
func RequestID(payload []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(payload, &e) != nil || !validRequestID(e.ID) {
		return ""
	}
	return e.ID
}

func validRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// DecodeCommand parses and validates a command message. It never panics;
// every refusal is a *CommandError. The token is returned, not checked.
func DecodeCommand(payload []byte) (*Request, error) {
	if len(payload) > MaxCommandBytes {
		return nil, cmdErr(CodeMalformed, "message of %d bytes (max %d)", len(payload), MaxCommandBytes)
	}
	var e envelope
	if err := strictUnmarshal(payload, &e); err != nil {
		return nil, &CommandError{Code: CodeMalformed, Msg: "not a command message: " + err.Error(), Err: err}
	}
	switch {
	case e.V != SchemaVersion:
		return nil, cmdErr(CodeMalformed, "schema version %d (want %d)", e.V, SchemaVersion)
	case !validRequestID(e.ID):
		return nil, cmdErr(CodeMalformed, "id: want 1–%d printable characters without spaces", MaxRequestIDLen)
	}
	r := &Request{ID: e.ID, Cmd: e.Cmd, Token: e.Token}
	args := bytes.TrimSpace(e.Args)
	if bytes.Equal(args, []byte("null")) {
		args = nil
	}
	var err error
	switch e.Cmd {
	case CmdPing, CmdStatus:
		if len(args) > 0 && !bytes.Equal(args, []byte("{}")) {
			err = fmt.Errorf("%s takes no arguments", e.Cmd)
		}
	case CmdConfig:
		r.Config = &ConfigArgs{}
		if err = decodeArgs(args, r.Config); err == nil {
			err = r.Config.validate()
		}
	case CmdBroadcast:
		r.Broadcast = &BroadcastArgs{}
		if err = decodeArgs(args, r.Broadcast); err == nil {
			err = r.Broadcast.validate()
		}
	case CmdOpenWindow, CmdCloseWindow:
		r.Window = &WindowArgs{}
		if err = decodeArgs(args, r.Window); err == nil {
			err = r.Window.validate(e.Cmd == CmdOpenWindow)
		}
	case CmdAppointments:
		r.Appointments = &AppointmentArgs{}
		if err = decodeArgs(args, r.Appointments); err == nil {
			err = r.Appointments.validate()
		}
	case CmdCloseFault:
		r.Fault = &FaultArgs{}
		if err = decodeArgs(args, r.Fault); err == nil {
			err = r.Fault.validate()
		}
	case "":
		return nil, cmdErr(CodeMalformed, "cmd missing")
	default:
		return decodeExt(r, args)
	}
	if err != nil {
		return nil, &CommandError{Code: CodeInvalid, Msg: e.Cmd + ": " + err.Error(), Err: err}
	}
	return r, nil
}

// EncodeCommand writes r as a command message (for the platform side,
// tests and tools). It validates like DecodeCommand.
func EncodeCommand(r *Request) ([]byte, error) {
	e := envelope{V: SchemaVersion, ID: r.ID, Cmd: r.Cmd, Token: r.Token}
	var args any
	switch {
	case r.Config != nil:
		args = r.Config
	case r.Broadcast != nil:
		args = r.Broadcast
	case r.Window != nil:
		args = r.Window
	case r.Appointments != nil:
		args = r.Appointments
	case r.Fault != nil:
		args = r.Fault
	case r.Args != nil:
		args = r.Args
	}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("uplink: encode command: %w", err)
		}
		e.Args = b
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("uplink: encode command: %w", err)
	}
	if _, err := DecodeCommand(b); err != nil {
		return nil, err
	}
	return b, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func decodeArgs(args []byte, v any) error {
	if len(args) == 0 {
		return errors.New("args missing")
	}
	if args[0] != '{' {
		return errors.New("args: want a JSON object")
	}
	if err := strictUnmarshal(args, v); err != nil {
		return fmt.Errorf("args: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func checkIdent(field, v string) error {
	if !identRE.MatchString(v) {
		return fmt.Errorf("%s %q: want letters, digits, '-', '_', '.' or ':' (at most %d)", field, clip(v, 40), maxIdentifierLen)
	}
	return nil
}

// checkText accepts printable text (no control characters) of 1..max
// characters.
func checkText(field, v string, maxLen int) error {
	switch n := utf8.RuneCountInString(v); {
	case !utf8.ValidString(v):
		return fmt.Errorf("%s: not UTF-8", field)
	case strings.TrimSpace(v) == "":
		return fmt.Errorf("%s: empty", field)
	case n > maxLen:
		return fmt.Errorf("%s: %d characters (max %d)", field, n, maxLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' {
			return fmt.Errorf("%s: control character %U", field, r)
		}
	}
	return nil
}

func (a *ConfigArgs) validate() error {
	switch {
	case strings.TrimSpace(a.YAML) == "":
		return errors.New("yaml: empty")
	case len(a.YAML) > MaxConfigBytes:
		return fmt.Errorf("yaml: %d bytes (max %d)", len(a.YAML), MaxConfigBytes)
	case !utf8.ValidString(a.YAML):
		return errors.New("yaml: not UTF-8")
	}
	return nil
}

func (a *BroadcastArgs) validate() error {
	switch a.Level {
	case NoticeInfo, NoticeEmergency:
		return checkText("text", a.Text, MaxBroadcastLen)
	case NoticeClear:
		if a.Text != "" {
			return errors.New("text: a clear takes no text")
		}
		return nil
	}
	return fmt.Errorf("level %q: want info, emergency or clear", clip(a.Level, 20))
}

func (a *WindowArgs) validate(open bool) error {
	if err := checkIdent("window", a.Window); err != nil {
		return err
	}
	if open {
		return checkIdent("staff", a.Staff)
	}
	if a.Staff != "" {
		return errors.New("staff: only for open_window")
	}
	return nil
}

func (a *AppointmentArgs) validate() error {
	if a.Appointments == nil {
		return errors.New("appointments missing (send [] to clear the list)")
	}
	if len(a.Appointments) > MaxAppointments {
		return fmt.Errorf("%d appointments (max %d)", len(a.Appointments), MaxAppointments)
	}
	seen := make(map[string]bool, len(a.Appointments))
	for i := range a.Appointments {
		ap := &a.Appointments[i]
		ap.Start, ap.End = ap.Start.UTC(), ap.End.UTC()
		p := fmt.Sprintf("appointments[%d]", i)
		if err := checkIdent(p+".id", ap.ID); err != nil {
			return err
		}
		if seen[ap.ID] {
			return fmt.Errorf("%s.id %q listed twice", p, ap.ID)
		}
		seen[ap.ID] = true
		if err := checkIdent(p+".service", ap.Service); err != nil {
			return err
		}
		if ap.Start.IsZero() || ap.End.Before(ap.Start) || ap.Start.Year() < 2000 || ap.End.Year() > 9999 {
			return fmt.Errorf("%s: bad slot %s – %s", p, ap.Start.Format(time.RFC3339), ap.End.Format(time.RFC3339))
		}
		if ap.HolderHash != "" {
			if looksLikeIDNumber(ap.HolderHash) {
				return fmt.Errorf("%s.holder_hash looks like a clear ID number: send its HMAC, never the number", p)
			}
			if !hashRE.MatchString(ap.HolderHash) {
				return fmt.Errorf("%s.holder_hash: want 16–128 characters of hex or base64", p)
			}
		}
	}
	return nil
}

// looksLikeIDNumber reports 18-character resident ID numbers (and 15-digit
// old ones) in s.
func looksLikeIDNumber(s string) bool {
	b := []byte(s)
	if _, n := MaskIDNumbers(append([]byte(nil), b...)); n > 0 {
		return true
	}
	digits := 0
	for _, c := range b {
		if isDigit(c) {
			digits++
		} else {
			digits = 0
		}
		if digits >= 15 && len(b) <= 18 {
			return true
		}
	}
	return false
}

func (a *FaultArgs) validate() error {
	if err := checkIdent("fault", a.Fault); err != nil {
		return err
	}
	return checkText("note", a.Note, health.MaxNoteLen)
}

// Reply is the message on the reply topic, one per command.
type Reply struct {
	V     int       `json:"v"`
	ID    string    `json:"id"` // the request id ("" when the command had none)
	Cmd   string    `json:"cmd,omitempty"`
	OK    bool      `json:"ok"`
	At    time.Time `json:"at"`
	Code  string    `json:"code,omitempty"`
	Error string    `json:"error,omitempty"`
	// Errors are the individual problems (file:line:col: field: message
	// for a rejected configuration).
	Errors []string        `json:"errors,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}
