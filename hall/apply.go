package hall

import (
	"fmt"
	"time"
)

func applyErr(e *Event, format string, args ...any) error {
	return &Error{Code: ErrBadState, Msg: fmt.Sprintf("apply %v: ", e.Type) + fmt.Sprintf(format, args...)}
}

// Apply changes the state from one event. It is the only mutator and never
// re-decides: the event carries every decided value. An event that does not
// fit the state (a corrupt or reordered journal) returns an *Error with code
// ErrBadState and changes nothing.
func (h *Hall) Apply(e Event) error {
	if e.At.IsZero() || !timeOK(e.At) {
		return applyErr(&e, "time %v out of range", e.At)
	}
	e.At = e.At.UTC()
	switch e.Type {
	case EvConfigApplied:
		return h.applyConfig(&e)
	case EvDayReset:
		return h.applyDayReset(&e)
	case EvTicketIssued:
		return h.applyIssued(&e)
	case EvAppointmentsLoaded:
		return h.applyAppointments(&e)
	case EvWindowOpened, EvWindowClosed, EvWindowPaused, EvWindowUnpaused:
		return h.applyWindow(&e)
	case EvNotice:
		return h.applyNotice(&e)
	case EvRatingRequested, EvRatingGiven, EvRatingNotRated, EvCaseSet:
		return h.applyRating(&e)
	case EvIssuingSuspended, EvIssuingResumed:
		return h.applySuspend(&e)
	}
	t := h.ticket(e.Ticket)
	if t == nil {
		return applyErr(&e, "unknown ticket %d", e.Ticket)
	}
	switch e.Type {
	case EvTicketCalled:
		return h.applyCalled(&e, t)
	case EvTicketRecalled, EvServiceStarted, EvTicketSkipped, EvTicketTransferred, EvTicketHeld,
		EvTicketFinished, EvTicketReturned:
		return h.applyCurrent(&e, t)
	case EvTicketResumed:
		return h.applyResumed(&e, t)
	case EvTicketReactivated:
		if t.state != NoShow {
			return applyErr(&e, "ticket %s is %v", t.number, t.state)
		}
		t.state = Waiting
		t.since = e.At
		t.nearSent = false
		h.enqueue(t)
		return nil
	case EvTicketExpired:
		if t.state.Terminal() {
			return applyErr(&e, "ticket %s is %v", t.number, t.state)
		}
		h.detach(t)
		t.state, t.since, t.toWindow, t.front = Expired, e.At, "", false
		return nil
	case EvPriorityChanged:
		if t.state != Waiting || t.prio == PriorityAppointment || e.Priority > Green {
			return applyErr(&e, "ticket %s is %v %v", t.number, t.state, t.prio)
		}
		h.dequeue(t)
		t.prio = e.Priority
		t.greenReason = ""
		if t.prio == Green {
			t.greenReason = e.Reason
		}
		h.enqueue(t)
		return nil
	case EvTurnNear:
		if t.state != Waiting {
			return applyErr(&e, "ticket %s is %v", t.number, t.state)
		}
		t.nearSent = true
		return nil
	}
	return applyErr(&e, "unknown event type")
}

// detach removes a ticket from whatever list or window holds it.
func (h *Hall) detach(t *ticket) {
	switch t.state {
	case Waiting:
		h.dequeue(t)
	case Held:
		if wi, ok := h.winIdx[t.window]; ok {
			h.wins[wi].held = remove(h.wins[wi].held, t.heldEntry())
		}
	case Called, Serving:
		if wi, ok := h.winIdx[t.window]; ok && h.wins[wi].current == t.id {
			h.wins[wi].current = 0
		}
	}
}

func (h *Hall) applyConfig(e *Event) error {
	cfg, err := decodeConfig(&rbuf{b: e.Config})
	if err != nil {
		return applyErr(e, "%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return applyErr(e, "%v", err)
	}
	svc := make(map[string]bool, len(cfg.Services))
	for _, s := range cfg.Services {
		svc[s.ID] = true
	}
	win := make(map[string]bool, len(cfg.Windows))
	for _, w := range cfg.Windows {
		win[w.ID] = true
	}
	for i := range h.tickets {
		t := &h.tickets[i]
		switch t.state {
		case Waiting, Held, NoShow, Called, Serving:
			if !svc[t.service] {
				return applyErr(e, "ticket %s of removed service %q is %v", t.number, t.service, t.state)
			}
		}
		switch {
		case t.state == Waiting && t.toWindow != "" && !win[t.toWindow],
			(t.state == Held || t.state == Called || t.state == Serving) && !win[t.window]:
			return applyErr(e, "ticket %s at removed window %q is %v", t.number, t.window, t.state)
		}
	}
	for i := range h.tickets {
		t := &h.tickets[i]
		if t.returnTo != "" && (!win[t.returnTo] || !svc[t.returnSvc]) {
			t.returnTo, t.returnSvc = "", ""
		}
	}
	h.setConfig(cfg)
	return nil
}

func (h *Hall) applyDayReset(e *Event) error {
	if !h.configured {
		return applyErr(e, "hall not configured")
	}
	if e.Count != h.day+1 {
		return applyErr(e, "day %d follows day %d", e.Count, h.day)
	}
	if len(h.rating.pending) > 0 {
		return applyErr(e, "%d rating requests still open", len(h.rating.pending))
	}
	h.day = e.Count
	h.dayStart = e.At
	h.nextReset = nextBoundary(e.At, h.loc(), h.cfg.Rules.ResetAt)
	kept := h.tickets[:0]
	for _, t := range h.tickets {
		if !t.state.Terminal() {
			kept = append(kept, t)
		}
	}
	clear(h.tickets[len(kept):])
	h.tickets = kept
	h.numbers = make(map[string]TicketID, len(h.tickets))
	for i := range h.tickets {
		h.numbers[h.tickets[i].number] = h.tickets[i].id
	}
	for i := range h.svcs {
		h.svcs[i].seq, h.svcs[i].walkIns = 0, 0
	}
	h.stats.init()
	h.pruneCases()
	return nil
}

func (h *Hall) applyIssued(e *Event) error {
	si, ok := h.svcIdx[e.Service]
	switch {
	case !ok:
		return applyErr(e, "unknown service %q", e.Service)
	case h.day == 0:
		return applyErr(e, "no business day started")
	case e.Ticket < h.nextID || e.Ticket >= 1<<62:
		return applyErr(e, "ticket %d not after %d", e.Ticket, h.nextID-1)
	case e.Number == "":
		return applyErr(e, "empty number")
	case e.Count < 1:
		return applyErr(e, "sequence %d", e.Count)
	case !e.Priority.Valid():
		return applyErr(e, "priority %d", e.Priority)
	}
	if _, dup := h.numbers[e.Number]; dup {
		return applyErr(e, "number %s in use", e.Number)
	}
	ai := -1
	if e.Appointment != "" {
		i, ok := h.apptIdx[e.Appointment]
		if !ok || h.appts[i].ticket != 0 {
			return applyErr(e, "appointment %q unknown or checked in", e.Appointment)
		}
		ai = i
	} else if e.Priority == PriorityAppointment {
		return applyErr(e, "appointment priority without appointment")
	}
	t := ticket{
		id: e.Ticket, number: e.Number, service: e.Service, prio: e.Priority,
		state: Waiting, issuedAt: e.At, since: e.At, day: h.day,
		appointment: e.Appointment, est: e.Estimate, ahead0: e.Ahead,
		source: e.Source, personal: clonePersonal(e.Personal),
	}
	if t.prio == Green {
		t.greenReason = e.Reason
	}
	if t.prio == PriorityAppointment {
		t.slotStart = h.appts[ai].Start
	}
	if ai >= 0 {
		h.appts[ai].ticket = t.id
	}
	h.tickets = append(h.tickets, t)
	h.nextID = e.Ticket + 1
	h.numbers[e.Number] = e.Ticket
	s := &h.svcs[si]
	s.seq = e.Count
	if t.prio != PriorityAppointment {
		s.walkIns++
	}
	counter(h.stats.services, e.Service).Issued++
	h.enqueue(&h.tickets[len(h.tickets)-1])
	return nil
}

func (h *Hall) applyAppointments(e *Event) error {
	idx := make(map[string]int, len(e.Appointments))
	appts := make([]apptRun, len(e.Appointments))
	for i, a := range e.Appointments {
		if a.ID == "" {
			return applyErr(e, "appointment %d without ID", i)
		}
		if _, dup := idx[a.ID]; dup {
			return applyErr(e, "appointment %q twice", a.ID)
		}
		idx[a.ID] = i
		a.Start, a.End = a.Start.UTC(), a.End.UTC()
		appts[i] = apptRun{Appointment: a}
		if j, ok := h.apptIdx[a.ID]; ok {
			appts[i].ticket = h.appts[j].ticket // a reload keeps the check-ins
		}
	}
	h.appts, h.apptIdx = appts, idx
	return nil
}

func (h *Hall) applyWindow(e *Event) error {
	wi, ok := h.winIdx[e.Window]
	if !ok {
		return applyErr(e, "unknown window %q", e.Window)
	}
	w := &h.wins[wi]
	switch e.Type {
	case EvWindowOpened:
		if w.state != Closed || e.Staff == "" {
			return applyErr(e, "window %s is %v", e.Window, w.state)
		}
		w.state, w.staff, w.streak = Open, e.Staff, 0
	case EvWindowClosed:
		if w.state == Closed || w.current != 0 {
			return applyErr(e, "window %s is %v with ticket %d", e.Window, w.state, w.current)
		}
		w.state, w.staff, w.pauseReason = Closed, "", ""
	case EvWindowPaused:
		if w.state != Open || w.current != 0 {
			return applyErr(e, "window %s is %v with ticket %d", e.Window, w.state, w.current)
		}
		w.state, w.pauseReason = Paused, e.Reason
	case EvWindowUnpaused:
		if w.state != Paused {
			return applyErr(e, "window %s is %v", e.Window, w.state)
		}
		w.state, w.pauseReason = Open, ""
	}
	return nil
}

func (h *Hall) applyCalled(e *Event, t *ticket) error {
	wi, ok := h.winIdx[e.Window]
	if !ok {
		return applyErr(e, "unknown window %q", e.Window)
	}
	w := &h.wins[wi]
	switch {
	case t.state != Waiting:
		return applyErr(e, "ticket %s is %v", t.number, t.state)
	case w.state != Open || w.current != 0:
		return applyErr(e, "window %s is %v with ticket %d", e.Window, w.state, w.current)
	case t.toWindow != "" && t.toWindow != e.Window:
		return applyErr(e, "ticket %s is addressed to window %s", t.number, t.toWindow)
	}
	h.dequeue(t)
	wait := clampWait(e.At.Sub(t.since))
	t.state, t.window, t.toWindow, t.front = Called, e.Window, "", false
	t.calledAt, t.lastCallAt, t.startedAt, t.recalls = e.At, e.At, time.Time{}, 0
	w.current = t.id
	if t.prio == Normal {
		w.streak = 0
	} else {
		w.streak++
	}
	for _, c := range h.countersFor(e.Window, w.staff, t.service) {
		c.Called++
		c.WaitSum += wait
		c.WaitMax = max(c.WaitMax, wait)
		c.WaitBuckets[bucket(wait)]++
	}
	if !t.sampled {
		t.sampled = true
		if t.est.Known {
			actual := clampWait(e.At.Sub(t.issuedAt))
			a := &h.stats.acc
			a.Samples++
			a.AbsErrSum += absDur(actual - t.est.Point)
			if actual > t.est.Hi {
				a.Under++
			} else if actual >= t.est.Lo {
				a.Within++
			}
		}
	}
	return nil
}

// countersFor returns the counters of a window, its staff member (if any)
// and a service.
func (h *Hall) countersFor(window, staff, service string) []*Counters {
	out := make([]*Counters, 0, 3)
	out = append(out, counter(h.stats.windows, window), counter(h.stats.services, service))
	if staff != "" {
		out = append(out, counter(h.stats.staff, staff))
	}
	return out
}

// applyCurrent applies the events that act on a window's current ticket.
func (h *Hall) applyCurrent(e *Event, t *ticket) error {
	wi, ok := h.winIdx[e.Window]
	if !ok {
		return applyErr(e, "unknown window %q", e.Window)
	}
	w := &h.wins[wi]
	if w.current != t.id || (t.state != Called && t.state != Serving) {
		return applyErr(e, "ticket %s is not current at window %s", t.number, e.Window)
	}
	switch e.Type {
	case EvTicketRecalled:
		if t.state != Called {
			return applyErr(e, "ticket %s is %v", t.number, t.state)
		}
		t.recalls = e.Count
		t.lastCallAt = e.At
		for _, c := range h.countersFor(e.Window, w.staff, t.service) {
			c.Recalls++
		}
	case EvServiceStarted:
		if t.state != Called {
			return applyErr(e, "ticket %s is %v", t.number, t.state)
		}
		t.state, t.startedAt = Serving, e.At
	case EvTicketSkipped:
		if t.state != Called {
			return applyErr(e, "ticket %s is %v", t.number, t.state)
		}
		t.state, t.since = NoShow, e.At
		w.current = 0
		for _, c := range h.countersFor(e.Window, w.staff, t.service) {
			c.NoShows++
		}
	case EvTicketHeld:
		t.state, t.since = Held, e.At
		w.current = 0
		w.held = insert(w.held, t.heldEntry())
	case EvTicketTransferred:
		toSvc := e.ToService != ""
		if toSvc == (e.ToWindow != "") {
			return applyErr(e, "need exactly one of to_service and to_window")
		}
		if _, ok := h.svcIdx[e.ToService]; toSvc && !ok {
			return applyErr(e, "unknown service %q", e.ToService)
		}
		if _, ok := h.winIdx[e.ToWindow]; !toSvc && !ok {
			return applyErr(e, "unknown window %q", e.ToWindow)
		}
		for _, c := range h.countersFor(e.Window, w.staff, t.service) {
			c.Transferred++
		}
		if e.Return {
			t.returnTo, t.returnSvc = e.Window, t.service
		}
		if toSvc {
			t.service = e.ToService
		} else {
			t.toWindow, t.front = e.ToWindow, false
		}
		t.state, t.since, t.nearSent = Waiting, e.At, false
		w.current = 0
		h.enqueue(t)
	case EvTicketFinished, EvTicketReturned:
		if e.Type == EvTicketReturned {
			if _, ok := h.winIdx[e.ToWindow]; !ok {
				return applyErr(e, "unknown window %q", e.ToWindow)
			}
			if _, ok := h.svcIdx[e.ToService]; !ok {
				return applyErr(e, "unknown service %q", e.ToService)
			}
		}
		from := t.startedAt
		if from.IsZero() {
			from = t.calledAt
		}
		st := clampWait(e.At.Sub(from))
		for _, c := range h.countersFor(e.Window, w.staff, t.service) {
			c.Served++
			c.ServiceSum += st
			c.ServiceMax = max(c.ServiceMax, st)
		}
		if si, ok := h.svcIdx[t.service]; ok {
			h.svcs[si].mean = ewma(h.svcs[si].mean, st, h.cfg.Rules.EWMAWeight)
		}
		w.current = 0
		if e.Type == EvTicketFinished {
			t.state, t.since = Finished, e.At
			t.returnTo, t.returnSvc = "", ""
			return nil
		}
		t.service, t.toWindow, t.front = e.ToService, e.ToWindow, true
		t.returnTo, t.returnSvc = "", ""
		t.state, t.since, t.nearSent = Waiting, e.At, false
		h.enqueue(t)
	}
	return nil
}

func (h *Hall) applyResumed(e *Event, t *ticket) error {
	wi, ok := h.winIdx[e.Window]
	if !ok {
		return applyErr(e, "unknown window %q", e.Window)
	}
	w := &h.wins[wi]
	switch {
	case t.state != Held || t.window != e.Window:
		return applyErr(e, "ticket %s is not held at window %s", t.number, e.Window)
	case w.state != Open || w.current != 0:
		return applyErr(e, "window %s is %v with ticket %d", e.Window, w.state, w.current)
	}
	w.held = remove(w.held, t.heldEntry())
	t.state = Called
	t.calledAt, t.lastCallAt, t.startedAt = e.At, e.At, time.Time{}
	w.current = t.id
	return nil
}
