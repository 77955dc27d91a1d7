package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// StateFormat is the version of state.json. The stable pre-start copy of
// hallgw reads it, so it may only grow fields, never change their meaning.
const StateFormat = 1

const (
	maxHistory   = 32
	maxReasonLen = 512
	maxTries     = 100
)

// State is state.json: the whole of the slot machine's memory.
type State struct {
	Format int `json:"format"`
	// Active is the committed slot: known good, the fallback of any trial.
	Active string `json:"active"`
	// Trial is the slot holding an installed but uncommitted update, or "".
	Trial string `json:"trial,omitempty"`
	// TriesLeft counts the starts the trial may still take.
	TriesLeft int `json:"tries_left"`
	// TrialTries is the number of starts the trial was given.
	TrialTries int `json:"trial_tries,omitempty"`
	// Booted is the slot the last Select started.
	Booted string `json:"booted,omitempty"`
	// SecurityVersion is the highest committed security version; bundles
	// below it are refused.
	SecurityVersion uint64 `json:"security_version"`
	// TrialProblem is the last health failure the trial reported; it ends up
	// in the rollback reason.
	TrialProblem string `json:"trial_problem,omitempty"`
	// LastFailureReason says why the last rollback or fallback happened. It
	// survives until the next failure.
	LastFailureReason string    `json:"last_failure_reason,omitempty"`
	LastFailureAt     time.Time `json:"last_failure_at,omitzero"`
	// History holds the latest events, oldest first.
	History []Event `json:"history,omitempty"`
}

// EventKind names a step in a slot's life.
type EventKind string

// The events History records.
const (
	EventProvisioned EventKind = "provisioned" // laid down by the installer
	EventInstalled   EventKind = "installed"   // bundle written, trial armed
	EventTrialBoot   EventKind = "trial-boot"  // a start of the trial slot
	EventCommitted   EventKind = "committed"   // trial passed its health gate
	EventRolledBack  EventKind = "rolled-back" // trial given up
	EventFellBack    EventKind = "fell-back"   // active slot damaged, other one used
	EventAdopted     EventKind = "adopted"     // state rebuilt from the slots
)

// Event is one entry of the history.
type Event struct {
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	Slot    string    `json:"slot"`
	Version string    `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// errBadState marks a state.json that exists but cannot be used.
var errBadState = errors.New("update: state file unreadable")

// ParseState decodes and validates state.json.
func ParseState(data []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadState, err)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadState, err)
	}
	return &st, nil
}

// validate checks the invariants every reader relies on.
func (st *State) validate() error {
	switch {
	case st.Format != StateFormat:
		return fmt.Errorf("format %d, want %d", st.Format, StateFormat)
	case !validSlot(st.Active):
		return fmt.Errorf("bad active slot %q", st.Active)
	case st.Trial != "" && st.Trial != otherSlot(st.Active):
		return fmt.Errorf("bad trial slot %q with active %q", st.Trial, st.Active)
	case st.TriesLeft < 0 || st.TriesLeft > maxTries || st.TrialTries < 0 || st.TrialTries > maxTries:
		return fmt.Errorf("tries out of range")
	case st.Trial == "" && st.TriesLeft != 0:
		return fmt.Errorf("tries left without a trial")
	case st.Booted != "" && !validSlot(st.Booted):
		return fmt.Errorf("bad booted slot %q", st.Booted)
	case len(st.TrialProblem) > maxReasonLen || len(st.LastFailureReason) > maxReasonLen:
		return fmt.Errorf("reason too long")
	case len(st.History) > maxHistory:
		return fmt.Errorf("%d history entries, at most %d", len(st.History), maxHistory)
	}
	return nil
}

// loadState reads state.json: ErrNotInstalled when it is missing, an error
// wrapping errBadState when it is unusable.
func (s *Slots) loadState() (*State, error) {
	data, err := s.fs().ReadFile(s.path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInstalled
	}
	if err != nil {
		return nil, fmt.Errorf("update: state: %w", err)
	}
	return ParseState(data)
}

// saveState writes state.json atomically.
func (s *Slots) saveState(st *State) error {
	if n := len(st.History); n > maxHistory {
		st.History = append([]Event(nil), st.History[n-maxHistory:]...)
	}
	if err := st.validate(); err != nil {
		return fmt.Errorf("update: refusing to save state: %w", err)
	}
	if err := s.writeJSON(s.path(StateFile), st); err != nil {
		return fmt.Errorf("update: save state: %w", err)
	}
	return nil
}

// event appends to the history.
func (s *Slots) event(st *State, kind EventKind, slot, version, detail string) {
	st.History = append(st.History, Event{At: s.now(), Kind: kind, Slot: slot, Version: version, Detail: clip(detail)})
	if n := len(st.History); n > maxHistory {
		st.History = append([]Event(nil), st.History[n-maxHistory:]...)
	}
}

// fail records why the device left a slot.
func (s *Slots) fail(st *State, reason string) {
	st.LastFailureReason = clip(reason)
	st.LastFailureAt = s.now()
}

// clip bounds a reason so that state.json stays tiny.
func clip(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen - 3
	for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}
