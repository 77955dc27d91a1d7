package hall

import (
	"errors"
	"fmt"
	"time"
)

// Estimate is a wait estimate: a point value and a range of whole minutes.
// Known is false when no open, unpaused window serves the service.
type Estimate struct {
	Point, Lo, Hi time.Duration
	Known         bool
}

// Appointment is one booked slot of the day, from the platform.
type Appointment struct {
	ID, Service string
	Start, End  time.Time
	HolderHash  string // HMAC of the holder's ID number; opaque here
}

// Command is a request to the hall, given to Decide or Do. Which fields
// matter depends on Op; the others are ignored.
type Command struct {
	Op     Op
	Window string   // acting window (most ops)
	Ticket TicketID // 0 = the window's current ticket where that makes sense
	// Service is the service of OpIssue.
	Service string
	// ToService or ToWindow (exactly one) is the target of OpTransfer;
	// Return asks for the ticket back when the target finishes it.
	ToService, ToWindow string
	Return              bool
	// Priority and GreenReason ("elderly", "disabled", "staff" …) for
	// OpIssue and OpSetPriority.
	Priority    Priority
	GreenReason string
	// BirthDate, read from an ID card at OpIssue, applies the elderly rule.
	// It is never journaled; only the resulting priority is.
	BirthDate time.Time
	// Appointment (its ID) or HolderHash (from an ID card) for OpCheckIn.
	Appointment  string
	HolderHash   string
	Staff        string        // OpOpenWindow
	Reason       string        // OpPause reason (required), OpSkip note …
	Appointments []Appointment // OpLoadAppointments: the day's list, replaces the previous one
	Config       *Config       // OpApplyConfig
	Source       string        // "kiosk", "window", "api", "sim", "platform"
	Personal     []byte        // opaque sealed personal data carried on EvTicketIssued
	// Notice is the level of OpNotice (the text is in Reason).
	Notice NoticeLevel
	// Grade, Reasons (差评 reason codes) and ReasonNumber (the 1-based
	// number of a reason typed on a key pad, 0 = none) for OpRate; Rating
	// names the request rated (0 = the newest at the window). Source is
	// the pad kind (PadKeys, PadTablet).
	Grade        Grade
	Reasons      []string
	ReasonNumber int
	Rating       RatingID
	// Case is the case number (办件编号) of OpSetCase.
	Case string
}

// Event is one change of the hall. Decide produces events, Apply consumes
// them, the journal stores them (MarshalBinary). Which fields are set
// depends on Type.
type Event struct {
	Type EventType
	At   time.Time // UTC, from Decide's now

	Ticket TicketID
	Number string // "A012"

	Service, Window, ToService, ToWindow, Staff, Reason, Appointment, Source string

	Priority Priority
	Return   bool

	Count    int // sequence number at issue, recall count, day number …
	Ahead    int // people ahead at issue / turn-near
	Estimate Estimate

	Appointments []Appointment // EvAppointmentsLoaded
	Config       []byte        // EvConfigApplied: Config.MarshalBinary
	Personal     []byte        // EvTicketIssued

	// Rating events (rating.go).
	Case    string    // case number (办件编号)
	Grade   Grade     // EvRatingGiven
	Reasons []string  // EvRatingGiven: 差评 reason codes
	Due     time.Time // EvRatingRequested: when it is not rated any more
	Rating  RatingID  // the rating request
}

// eventVersion is the first byte of an encoded event. Fields are added only
// at the end of the field list, so decoders of this version skip what they
// do not know.
const eventVersion = 1

// Presence bits of the optional fields, in encoding order. New fields take
// the next bit and are encoded after all existing ones.
const (
	fTicket = 1 << iota
	fNumber
	fService
	fWindow
	fToService
	fToWindow
	fStaff
	fReason
	fAppointment
	fSource
	fPriority
	fReturn
	fCount
	fAhead
	fEstimate
	fAppointments
	fConfig
	fPersonal
	fCase
	fGrade
	fReasons
	fDue
	fRating
)

// MarshalBinary encodes the event compactly: a version byte, the type, a
// presence mask and the fields that are set. It fails only for a time
// outside 1900–2200 or an unset type.
func (e Event) MarshalBinary() ([]byte, error) {
	w := &wbuf{b: make([]byte, 0, 48+len(e.Personal)+len(e.Config))}
	if err := e.encode(w); err != nil {
		return nil, err
	}
	return w.b, nil
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (e Event) AppendBinary(b []byte) ([]byte, error) {
	w := &wbuf{b: b}
	if err := e.encode(w); err != nil {
		return b, err
	}
	return w.b, nil
}

func (e *Event) mask() uint64 {
	var m uint64
	set := func(bit uint64, ok bool) {
		if ok {
			m |= bit
		}
	}
	set(fTicket, e.Ticket != 0)
	set(fNumber, e.Number != "")
	set(fService, e.Service != "")
	set(fWindow, e.Window != "")
	set(fToService, e.ToService != "")
	set(fToWindow, e.ToWindow != "")
	set(fStaff, e.Staff != "")
	set(fReason, e.Reason != "")
	set(fAppointment, e.Appointment != "")
	set(fSource, e.Source != "")
	set(fPriority, e.Priority != Normal)
	set(fReturn, e.Return)
	set(fCount, e.Count != 0)
	set(fAhead, e.Ahead != 0)
	set(fEstimate, e.Estimate != Estimate{})
	set(fAppointments, len(e.Appointments) > 0)
	set(fConfig, len(e.Config) > 0)
	set(fPersonal, len(e.Personal) > 0)
	set(fCase, e.Case != "")
	set(fGrade, e.Grade != 0)
	set(fReasons, len(e.Reasons) > 0)
	set(fDue, !e.Due.IsZero())
	set(fRating, e.Rating != 0)
	return m
}

func (e *Event) encode(w *wbuf) error {
	if e.Type == 0 {
		return errors.New("hall: event type not set")
	}
	if !e.Priority.Valid() {
		return fmt.Errorf("hall: event priority %d invalid", e.Priority)
	}
	if e.Grade > GradeVeryDissatisfied {
		return fmt.Errorf("hall: event grade %d invalid", e.Grade)
	}
	m := e.mask()
	w.byte(eventVersion)
	w.byte(byte(e.Type))
	w.uvarint(m)
	w.time(e.At)
	if m&fTicket != 0 {
		w.uvarint(uint64(e.Ticket))
	}
	for _, f := range [...]struct {
		bit uint64
		s   string
	}{{fNumber, e.Number}, {fService, e.Service}, {fWindow, e.Window}, {fToService, e.ToService},
		{fToWindow, e.ToWindow}, {fStaff, e.Staff}, {fReason, e.Reason}, {fAppointment, e.Appointment},
		{fSource, e.Source}} {
		if m&f.bit != 0 {
			w.str(f.s)
		}
	}
	if m&fPriority != 0 {
		w.byte(byte(e.Priority))
	}
	if m&fCount != 0 {
		w.varint(int64(e.Count))
	}
	if m&fAhead != 0 {
		w.varint(int64(e.Ahead))
	}
	if m&fEstimate != 0 {
		w.dur(e.Estimate.Point)
		w.dur(e.Estimate.Lo)
		w.dur(e.Estimate.Hi)
		w.bool(e.Estimate.Known)
	}
	if m&fAppointments != 0 {
		w.uvarint(uint64(len(e.Appointments)))
		for _, a := range e.Appointments {
			w.str(a.ID)
			w.str(a.Service)
			w.time(a.Start)
			w.time(a.End)
			w.str(a.HolderHash)
		}
	}
	if m&fConfig != 0 {
		w.bytes(e.Config)
	}
	if m&fPersonal != 0 {
		w.bytes(e.Personal)
	}
	if m&fCase != 0 {
		w.str(e.Case)
	}
	if m&fGrade != 0 {
		w.byte(byte(e.Grade))
	}
	if m&fReasons != 0 {
		w.uvarint(uint64(len(e.Reasons)))
		for _, s := range e.Reasons {
			w.str(s)
		}
	}
	if m&fDue != 0 {
		w.time(e.Due)
	}
	if m&fRating != 0 {
		w.uvarint(uint64(e.Rating))
	}
	if w.err != nil {
		return fmt.Errorf("hall: encode %v: %w", e.Type, w.err)
	}
	return nil
}

// UnmarshalBinary decodes an event written by MarshalBinary. Fields added
// by later versions (presence bits this decoder does not know, with their
// data at the end) are ignored. Anything malformed is an error; it never
// panics.
func (e *Event) UnmarshalBinary(data []byte) error {
	r := &rbuf{b: data}
	var out Event
	if v := r.byte(); r.err == nil && v != eventVersion {
		return fmt.Errorf("hall: event encoding version %d not supported", v)
	}
	out.Type = EventType(r.byte())
	if r.err == nil && out.Type == 0 {
		return errors.New("hall: bad event: type 0")
	}
	m := r.uvarint()
	out.At = r.time()
	if m&fTicket != 0 {
		out.Ticket = TicketID(r.uvarint())
		if r.err == nil && out.Ticket == 0 {
			r.fail(errors.New("ticket 0 marked present"))
		}
	}
	for _, f := range [...]struct {
		bit uint64
		s   *string
	}{{fNumber, &out.Number}, {fService, &out.Service}, {fWindow, &out.Window}, {fToService, &out.ToService},
		{fToWindow, &out.ToWindow}, {fStaff, &out.Staff}, {fReason, &out.Reason}, {fAppointment, &out.Appointment},
		{fSource, &out.Source}} {
		if m&f.bit != 0 {
			*f.s = r.str()
		}
	}
	if m&fPriority != 0 {
		out.Priority = Priority(r.byte())
		if r.err == nil && !out.Priority.Valid() {
			r.fail(fmt.Errorf("priority %d", out.Priority))
		}
	}
	out.Return = m&fReturn != 0
	if m&fCount != 0 {
		out.Count = r.int()
	}
	if m&fAhead != 0 {
		out.Ahead = r.int()
	}
	if m&fEstimate != 0 {
		out.Estimate.Point = r.dur()
		out.Estimate.Lo = r.dur()
		out.Estimate.Hi = r.dur()
		out.Estimate.Known = r.bool()
	}
	if m&fAppointments != 0 {
		n := r.count(5)
		if n > 0 {
			out.Appointments = make([]Appointment, n)
			for i := range out.Appointments {
				a := &out.Appointments[i]
				a.ID = r.str()
				a.Service = r.str()
				a.Start = r.time()
				a.End = r.time()
				a.HolderHash = r.str()
			}
		}
	}
	if m&fConfig != 0 {
		out.Config = r.bytes()
	}
	if m&fPersonal != 0 {
		out.Personal = r.bytes()
	}
	if m&fCase != 0 {
		out.Case = r.str()
	}
	if m&fGrade != 0 {
		out.Grade = Grade(r.byte())
		if r.err == nil && !out.Grade.Valid() {
			r.fail(fmt.Errorf("grade %d", out.Grade))
		}
	}
	if m&fReasons != 0 {
		if n := r.count(1); n > 0 {
			out.Reasons = make([]string, n)
			for i := range out.Reasons {
				out.Reasons[i] = r.str()
			}
		}
	}
	if m&fDue != 0 {
		out.Due = r.time()
	}
	if m&fRating != 0 {
		out.Rating = RatingID(r.uvarint())
		if r.err == nil && out.Rating == 0 {
			r.fail(errors.New("rating 0 marked present"))
		}
	}
	if r.err != nil {
		return fmt.Errorf("hall: bad event: %w", r.err)
	}
	*e = out
	return nil
}
