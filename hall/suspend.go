package hall

import (
	"errors"
	"time"
	"unicode/utf8"
)

// Issuing tickets can be suspended for the whole hall: when the power fails
// and the gateway is about to shut down (DB43/T 2422 part 4 §6.5.2), no
// citizen should be handed a ticket that will not be called. OpSuspendIssuing
// journals EvIssuingSuspended with its reason; until OpResumeIssuing
// (EvIssuingResumed) every OpIssue and OpCheckIn is refused with
// ErrIssuingSuspended. Windows keep calling and serving the tickets already
// issued. Like a notice, the suspension is part of the state: it survives
// the day reset and a restart (replay or snapshot), so a gateway that
// powered off suspended comes back suspended until it is resumed.

// The suspension operations.
const (
	OpSuspendIssuing Op = 24 // stop issuing tickets (Reason required)
	OpResumeIssuing  Op = 25 // issue tickets again
)

// The suspension event types (their values are stored in the journal).
const (
	EvIssuingSuspended EventType = 27 // issuing stopped (Reason, Source)
	EvIssuingResumed   EventType = 28 // issuing started again
)

// ErrIssuingSuspended refuses OpIssue and OpCheckIn while issuing is
// suspended.
var ErrIssuingSuspended = errors.New("hall: issuing suspended")

// MaxSuspendReason bounds the reason of OpSuspendIssuing, in characters.
const MaxSuspendReason = 200

// IssuingView says whether tickets are issued. Reason, Source and Since
// describe a suspension and are empty when Suspended is false.
type IssuingView struct {
	Suspended bool
	Reason    string
	Source    string
	Since     time.Time
}

type suspendRun struct {
	on     bool
	reason string
	source string
	since  time.Time
}

// Issuing returns whether tickets are issued now and, when they are not,
// why, who said so and since when.
func (h *Hall) Issuing() IssuingView {
	s := h.suspend
	return IssuingView{Suspended: s.on, Reason: s.reason, Source: s.source, Since: s.since}
}

// checkIssuing refuses the operations that hand out tickets while issuing
// is suspended.
func (h *Hall) checkIssuing(op Op) error {
	if !h.suspend.on || (op != OpIssue && op != OpCheckIn) {
		return nil
	}
	return errf(ErrIssuingSuspended, "issuing suspended: %s", h.suspend.reason)
}

func (h *Hall) decideSuspend(cmd *Command, now time.Time) ([]Event, error) {
	if cmd.Op == OpResumeIssuing {
		if !h.suspend.on {
			return nil, errf(ErrBadState, "issuing is not suspended")
		}
		return []Event{{Type: EvIssuingResumed, At: now}}, nil
	}
	switch {
	case h.suspend.on:
		return nil, errf(ErrBadState, "issuing already suspended: %s", h.suspend.reason)
	case cmd.Reason == "":
		return nil, errf(ErrInvalid, "suspending issuing needs a reason")
	case !utf8.ValidString(cmd.Reason) || utf8.RuneCountInString(cmd.Reason) > MaxSuspendReason:
		return nil, errf(ErrInvalid, "suspend reason must be valid text of at most %d characters", MaxSuspendReason)
	}
	return []Event{{Type: EvIssuingSuspended, At: now, Reason: cmd.Reason}}, nil
}

func (h *Hall) applySuspend(e *Event) error {
	switch e.Type {
	case EvIssuingSuspended:
		if h.suspend.on {
			return applyErr(e, "issuing already suspended")
		}
		if e.Reason == "" {
			return applyErr(e, "no reason")
		}
		h.suspend = suspendRun{on: true, reason: e.Reason, source: e.Source, since: e.At}
		return nil
	case EvIssuingResumed:
		if !h.suspend.on {
			return applyErr(e, "issuing is not suspended")
		}
		h.suspend = suspendRun{}
		return nil
	}
	return applyErr(e, "not a suspension event")
}

// ---- Snapshot ----
//
// Optional sections follow the notice. Version 1 has none, version 2
// (ratingsVersion) the rating section. A hall whose issuing is suspended is
// written as version 3: a byte of section bits follows the notice, then the
// sections it names in bit order. A hall that is not suspended keeps the
// older encoding, so snapshots of halls that never suspended issuing are
// unchanged and the encoding stays canonical.

const (
	sectionsVersion = 3 // stateVersion with a section mask

	sectionRatings = 1 << 0
	sectionSuspend = 1 << 1
	sectionsKnown  = sectionRatings | sectionSuspend
)

// stateVersionFor returns the version byte of h's snapshot.
func (h *Hall) stateVersionFor() byte {
	switch {
	case h.suspend.on:
		return sectionsVersion
	case h.rating.inUse():
		return ratingsVersion
	}
	return stateVersion
}

func knownStateVersion(v byte) bool {
	return v == stateVersion || v == ratingsVersion || v == sectionsVersion
}

// encodeSections writes the optional sections of the version chosen by
// stateVersionFor.
func (h *Hall) encodeSections(w *wbuf, version byte) {
	switch version {
	case ratingsVersion:
		h.encodeRatings(w)
	case sectionsVersion:
		mask := byte(sectionSuspend)
		if h.rating.inUse() {
			mask |= sectionRatings
		}
		w.byte(mask)
		if mask&sectionRatings != 0 {
			h.encodeRatings(w)
		}
		w.str(h.suspend.reason)
		w.str(h.suspend.source)
		w.time(h.suspend.since)
	}
}

// decodeSections reads what encodeSections wrote for version.
func (h *Hall) decodeSections(r *rbuf, version byte) error {
	mask := byte(0)
	switch version {
	case ratingsVersion:
		mask = sectionRatings
	case sectionsVersion:
		mask = r.byte()
		if r.err == nil && (mask&^sectionsKnown != 0 || mask&sectionSuspend == 0) {
			return errors.New("bad section mask")
		}
	}
	if mask&sectionRatings != 0 && r.err == nil {
		if err := h.decodeRatings(r); err != nil {
			return err
		}
	}
	if mask&sectionSuspend != 0 && r.err == nil {
		s := suspendRun{on: true, reason: r.str(), source: r.str(), since: r.time()}
		if r.err == nil && (s.reason == "" || s.since.IsZero()) {
			return errors.New("suspension without reason or time")
		}
		h.suspend = s
	}
	return nil
}
