package hall

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Decide validates cmd against the current state at time now and returns
// the events it causes, in order, without changing the state. When now is
// past the day boundary the events start with the day reset (the expiry of
// the previous day's open tickets, then EvDayReset). After the command's
// own events come EvTurnNear for every waiting ticket that is now within
// Rules.TurnNearAhead of its turn and has not been told yet.
//
// A refused command returns an *Error (errors.Is it against the Err*
// codes) and no events.
func (h *Hall) Decide(cmd Command, now time.Time) ([]Event, error) {
	if now.IsZero() || !timeOK(now) {
		return nil, errf(ErrInvalid, "time %v out of range", now)
	}
	now = now.UTC() // also drops the monotonic reading
	s := h
	var evs []Event
	if pre := append(h.ratingExpiry(now), h.resetEvents(now)...); len(pre) > 0 {
		s = h.clone()
		if err := s.applyAll(pre); err != nil {
			return nil, internalErr(err)
		}
		evs = pre
	}
	own, err := s.decideOp(&cmd, now)
	if err != nil {
		return nil, err
	}
	for i := range own {
		if own[i].Type != EvDayReset && own[i].Type != EvTicketExpired {
			own[i].Source = cmd.Source
		}
	}
	if len(own) > 0 {
		if s == h {
			s = h.clone()
		}
		if err := s.applyAll(own); err != nil {
			return nil, internalErr(err)
		}
	}
	evs = append(evs, own...)
	return append(evs, s.turnNear(now)...), nil
}

func internalErr(err error) error {
	return &Error{Code: ErrBadState, Msg: "internal: " + trimHall(err.Error()), Err: err}
}

func (h *Hall) applyAll(evs []Event) error {
	for _, e := range evs {
		if err := h.Apply(e); err != nil {
			return err
		}
	}
	return nil
}

// resetEvents returns the events of the day reset when one is due at now.
func (h *Hall) resetEvents(now time.Time) []Event {
	if !h.resetDue(now) {
		return nil
	}
	var evs []Event
	if h.day > 0 {
		for i := range h.tickets {
			t := &h.tickets[i]
			switch t.state {
			case NoShow:
			case Waiting, Called, Held:
				if h.cfg.Rules.CarryOver {
					continue
				}
			default:
				continue
			}
			evs = append(evs, h.expireEvent(t, now, "day_reset"))
		}
	}
	return append(evs, Event{Type: EvDayReset, At: now, Count: h.day + 1})
}

func (h *Hall) expireEvent(t *ticket, now time.Time, reason string) Event {
	w := t.window
	if t.state == Waiting {
		w = t.toWindow
	}
	return Event{Type: EvTicketExpired, At: now, Ticket: t.id, Number: t.number, Service: t.service,
		Window: w, Priority: t.prio, Reason: reason}
}

// turnNear returns EvTurnNear for each waiting ticket within
// Rules.TurnNearAhead of its turn that has not had one for its current
// queue entry: service queues in configuration order, then the windows'
// addressed lists.
func (h *Hall) turnNear(now time.Time) []Event {
	n := h.cfg.Rules.TurnNearAhead
	if n <= 0 {
		return nil
	}
	var evs []Event
	for si := range h.svcs {
		q := h.svcs[si].queue
		for j := 0; j < len(q) && j <= n; j++ {
			if t := h.ticket(q[j].id); t != nil && !t.nearSent {
				evs = append(evs, Event{Type: EvTurnNear, At: now, Ticket: t.id, Number: t.number,
					Service: t.service, Priority: t.prio, Ahead: j, Estimate: h.estimate(si, j)})
			}
		}
	}
	for wi := range h.wins {
		q := h.wins[wi].addressed
		for j := 0; j < len(q) && j <= n; j++ {
			if t := h.ticket(q[j].id); t != nil && !t.nearSent {
				evs = append(evs, Event{Type: EvTurnNear, At: now, Ticket: t.id, Number: t.number,
					Service: t.service, Window: t.toWindow, Priority: t.prio, Ahead: j,
					Estimate: h.estimateAddressed(wi, t.service, j)})
			}
		}
	}
	return evs
}

func (h *Hall) decideOp(cmd *Command, now time.Time) ([]Event, error) {
	if err := h.checkIssuing(cmd.Op); err != nil {
		return nil, err
	}
	switch cmd.Op {
	case OpIssue:
		return h.decideIssue(cmd, now)
	case OpCheckIn:
		return h.decideCheckIn(cmd, now)
	case OpCallNext:
		wi, err := h.callWindow(cmd.Window)
		if err != nil {
			return nil, err
		}
		id := h.pickNext(wi, now)
		if id == 0 {
			return nil, errf(ErrQueueEmpty, "no ticket waiting for window %s", h.winName(wi))
		}
		return []Event{h.callEvent(wi, h.ticket(id), now, "")}, nil
	case OpCall:
		return h.decideCall(cmd, now)
	case OpRecall, OpStart, OpSkip, OpHold, OpFinish, OpTransfer:
		return h.decideCurrent(cmd, now)
	case OpReactivate:
		return h.decideReactivate(cmd, now)
	case OpResume:
		if cmd.Ticket == 0 {
			return nil, errf(ErrInvalid, "resume needs a ticket")
		}
		wi, err := h.callWindow(cmd.Window)
		if err != nil {
			return nil, err
		}
		t, err := h.lookup(cmd.Ticket)
		if err != nil {
			return nil, err
		}
		if t.state != Held || t.window != cmd.Window {
			return nil, errf(ErrBadState, "ticket %s is %v, not held at window %s", t.number, t.state, h.winName(wi))
		}
		return []Event{{Type: EvTicketResumed, At: now, Ticket: t.id, Number: t.number, Service: t.service,
			Window: cmd.Window, Staff: h.wins[wi].staff, Priority: t.prio}}, nil
	case OpPause, OpUnpause, OpOpenWindow, OpCloseWindow:
		return h.decideWindow(cmd, now)
	case OpSetPriority:
		return h.decideSetPriority(cmd, now)
	case OpLoadAppointments:
		return h.decideAppointments(cmd, now)
	case OpApplyConfig:
		return h.decideConfig(cmd, now)
	case OpTick:
		return nil, nil
	case OpNotice:
		return h.decideNotice(cmd, now)
	case OpRate:
		return h.decideRate(cmd, now)
	case OpSetCase:
		return h.decideSetCase(cmd, now)
	case OpSuspendIssuing, OpResumeIssuing:
		return h.decideSuspend(cmd, now)
	}
	return nil, errf(ErrInvalid, "unknown operation %v", cmd.Op)
}

// winName names window wi in messages: its number.
func (h *Hall) winName(wi int) string { return strconv.Itoa(h.cfg.Windows[wi].Number) }

func (h *Hall) window(id string) (int, error) {
	wi, ok := h.winIdx[id]
	if !ok {
		return 0, errf(ErrUnknownWindow, "unknown window %q", id)
	}
	return wi, nil
}

func (h *Hall) lookup(id TicketID) (*ticket, error) {
	if t := h.ticket(id); t != nil {
		return t, nil
	}
	return nil, errf(ErrUnknownTicket, "unknown ticket %d", id)
}

// callWindow checks that window id may call: open, not paused, idle.
func (h *Hall) callWindow(id string) (int, error) {
	wi, err := h.window(id)
	if err != nil {
		return 0, err
	}
	w := &h.wins[wi]
	switch {
	case w.state == Closed:
		return 0, errf(ErrWindowClosed, "window %s is closed", h.winName(wi))
	case w.state == Paused:
		return 0, errf(ErrWindowPaused, "window %s is paused (%s)", h.winName(wi), w.pauseReason)
	case w.current != 0:
		return 0, errf(ErrWindowBusy, "window %s is busy with %s", h.winName(wi), h.ticket(w.current).number)
	}
	return wi, nil
}

func (h *Hall) callEvent(wi int, t *ticket, now time.Time, reason string) Event {
	return Event{Type: EvTicketCalled, At: now, Ticket: t.id, Number: t.number, Service: t.service,
		Window: h.cfg.Windows[wi].ID, Staff: h.wins[wi].staff, Priority: t.prio, Reason: reason,
		Appointment: t.appointment}
}

// pickNext chooses the ticket window wi calls next, or 0.
func (h *Hall) pickNext(wi int, now time.Time) TicketID {
	w := &h.wins[wi]
	if len(w.addressed) > 0 {
		return w.addressed[0].id
	}
	normal := h.pickNormal(wi, now)
	if normal != 0 && w.streak >= h.cfg.Rules.PriorityRatio {
		return normal
	}
	for _, tier := range []uint8{tierAppointment, tierGreen} {
		var best qent
		found := false
		for _, sid := range h.cfg.Windows[wi].Services {
			q := h.svcs[h.svcIdx[sid]].queue
			i := sort.Search(len(q), func(i int) bool { return q[i].tier >= tier })
			if i < len(q) && q[i].tier == tier && (!found || q[i].less(best)) {
				best, found = q[i], true
			}
		}
		if found {
			return best.id
		}
	}
	return normal
}

// pickNormal chooses among the heads of the normal tickets of the window's
// services the one with the largest load score: wait of the head × waiting
// count ÷ open windows serving the service; ties by earlier issue, then
// lower ID.
func (h *Hall) pickNormal(wi int, now time.Time) TicketID {
	var best qent
	var bestScore int64 = -1
	for _, sid := range h.cfg.Windows[wi].Services {
		si := h.svcIdx[sid]
		q := h.svcs[si].queue
		i := sort.Search(len(q), func(i int) bool { return q[i].tier >= tierNormal })
		if i == len(q) {
			continue
		}
		head := q[i]
		wait := clampWait(now.Sub(time.Unix(0, head.key))).Milliseconds()
		open := int64(max(h.openWindows(si), 1))
		score := wait * int64(min(len(q), 1<<20)) * 1000 / open
		if score > bestScore || (score == bestScore && head.less(best)) {
			best, bestScore = head, score
		}
	}
	return best.id
}

func (h *Hall) decideIssue(cmd *Command, now time.Time) ([]Event, error) {
	si, ok := h.svcIdx[cmd.Service]
	if !ok {
		return nil, errf(ErrUnknownService, "unknown service %q", cmd.Service)
	}
	prio, reason := cmd.Priority, cmd.GreenReason
	switch {
	case prio > Green:
		return nil, errf(ErrInvalid, "priority %v is not issued; appointments check in", prio)
	case prio == Normal && reason != "":
		return nil, errf(ErrInvalid, "green-channel reason %q on a normal ticket", reason)
	}
	if r := h.cfg.Rules; prio == Normal && r.ElderlyAge > 0 && !cmd.BirthDate.IsZero() &&
		ageAt(cmd.BirthDate, now, h.loc()) >= r.ElderlyAge {
		prio, reason = Green, "elderly"
	}
	if prio == Green && reason == "" {
		reason = "other"
	}
	return h.issue(si, prio, reason, "", time.Time{}, cmd, now)
}

func (h *Hall) issue(si int, prio Priority, reason, appt string, slot time.Time, cmd *Command, now time.Time) ([]Event, error) {
	sc, run := &h.cfg.Services[si], &h.svcs[si]
	if prio != PriorityAppointment && sc.DailyCap > 0 && run.walkIns >= sc.DailyCap {
		return nil, errf(ErrDailyCap, "service %s (%s) has issued its daily cap of %d tickets", sc.ID, sc.Name, sc.DailyCap)
	}
	seq, number := h.nextNumber(si)
	t := ticket{id: h.nextID, prio: prio, issuedAt: now, slotStart: slot}
	ahead := position(run.queue, t.queueEntry())
	return []Event{{Type: EvTicketIssued, At: now, Ticket: h.nextID, Number: number, Service: sc.ID,
		Priority: prio, Reason: reason, Appointment: appt, Count: seq, Ahead: ahead,
		Estimate: h.estimate(si, ahead), Personal: clonePersonal(cmd.Personal)}}, nil
}

// nextNumber returns the next sequence number of service si and its ticket
// number, skipping numbers still held by tickets carried over.
func (h *Hall) nextNumber(si int) (int, string) {
	sc := &h.cfg.Services[si]
	for seq := h.svcs[si].seq + 1; ; seq++ {
		digits := strconv.Itoa(seq)
		if pad := h.cfg.Rules.NumberWidth - len(digits); pad > 0 {
			digits = strings.Repeat("0", pad) + digits
		}
		n := sc.Prefix + digits
		if _, used := h.numbers[n]; !used {
			return seq, n
		}
	}
}

// Appointment timing relative to its check-in window.
const (
	slotOK = iota
	slotEarly
	slotLate
	slotStale
)

func (h *Hall) slotTiming(a *apptRun, now time.Time) int {
	r := h.cfg.Rules
	end := a.End.Add(r.AppointmentLate)
	switch {
	case now.Before(a.Start.Add(-r.AppointmentEarly)):
		return slotEarly
	case end.Before(lastBoundary(h.dayStart, h.loc(), r.ResetAt)):
		return slotStale
	case now.After(end):
		return slotLate
	}
	return slotOK
}

func (h *Hall) decideCheckIn(cmd *Command, now time.Time) ([]Event, error) {
	var ai int
	switch {
	case cmd.Appointment != "":
		i, ok := h.apptIdx[cmd.Appointment]
		if !ok {
			return nil, errf(ErrUnknownAppointment, "unknown appointment %q", cmd.Appointment)
		}
		ai = i
	case cmd.HolderHash != "":
		i, err := h.pickByHolder(cmd.HolderHash, now)
		if err != nil {
			return nil, err
		}
		ai = i
	default:
		return nil, errf(ErrInvalid, "check-in needs an appointment ID or a holder hash")
	}
	a := &h.appts[ai]
	if a.ticket != 0 {
		return nil, errf(ErrBadState, "appointment %q is already checked in", a.ID)
	}
	si, ok := h.svcIdx[a.Service]
	if !ok {
		return nil, errf(ErrUnknownService, "appointment %q is for unknown service %q", a.ID, a.Service)
	}
	switch h.slotTiming(a, now) {
	case slotEarly:
		return nil, errf(ErrAppointmentEarly, "appointment %q: check-in opens at %s", a.ID,
			a.Start.Add(-h.cfg.Rules.AppointmentEarly).In(h.loc()).Format("15:04"))
	case slotStale:
		return nil, errf(ErrAppointmentLate, "appointment %q ended on %s, before today began", a.ID,
			a.End.In(h.loc()).Format("2006-01-02 15:04"))
	case slotLate:
		return h.issue(si, Normal, "late", a.ID, time.Time{}, cmd, now)
	}
	return h.issue(si, PriorityAppointment, "", a.ID, a.Start, cmd, now)
}

// pickByHolder chooses the holder's appointment to check in: the first (by
// slot start) whose check-in window is open, else the next upcoming one,
// else the latest missed one of today, else a stale one.
func (h *Hall) pickByHolder(hash string, now time.Time) (int, error) {
	var cand []int
	matched := false
	for i := range h.appts {
		if h.appts[i].HolderHash == hash {
			matched = true
			if h.appts[i].ticket == 0 {
				cand = append(cand, i)
			}
		}
	}
	if !matched {
		return 0, errf(ErrUnknownAppointment, "no appointment for this card")
	}
	if len(cand) == 0 {
		return 0, errf(ErrBadState, "every appointment for this card is already checked in")
	}
	slices.SortFunc(cand, func(a, b int) int {
		if c := h.appts[a].Start.Compare(h.appts[b].Start); c != 0 {
			return c
		}
		return strings.Compare(h.appts[a].ID, h.appts[b].ID)
	})
	byTiming := map[int]int{}
	for _, i := range cand {
		k := h.slotTiming(&h.appts[i], now)
		if _, seen := byTiming[k]; !seen || k == slotLate {
			byTiming[k] = i // first of each kind, but the latest missed one
		}
	}
	for _, k := range []int{slotOK, slotEarly, slotLate, slotStale} {
		if i, ok := byTiming[k]; ok {
			return i, nil
		}
	}
	return cand[0], nil
}

func (h *Hall) decideCall(cmd *Command, now time.Time) ([]Event, error) {
	if cmd.Ticket == 0 {
		return nil, errf(ErrInvalid, "call needs a ticket")
	}
	wi, err := h.callWindow(cmd.Window)
	if err != nil {
		return nil, err
	}
	t, err := h.lookup(cmd.Ticket)
	if err != nil {
		return nil, err
	}
	switch {
	case t.state != Waiting:
		return nil, errf(ErrBadState, "ticket %s is %v", t.number, t.state)
	case t.toWindow != "" && t.toWindow != cmd.Window:
		return nil, errf(ErrBadState, "ticket %s is waiting for window %s", t.number, h.winName(h.winIdx[t.toWindow]))
	case t.toWindow == "" && !h.serves(wi, t.service):
		return nil, errf(ErrInvalid, "window %s does not serve service %s", h.winName(wi), t.service)
	}
	return []Event{h.callEvent(wi, t, now, "selected")}, nil
}

// decideCurrent decides the operations on the window's current ticket.
func (h *Hall) decideCurrent(cmd *Command, now time.Time) ([]Event, error) {
	wi, err := h.window(cmd.Window)
	if err != nil {
		return nil, err
	}
	w := &h.wins[wi]
	if w.current == 0 {
		return nil, errf(ErrNoCurrent, "window %s has no current ticket", h.winName(wi))
	}
	t := h.ticket(w.current)
	if cmd.Ticket != 0 && cmd.Ticket != t.id {
		return nil, errf(ErrBadState, "ticket %d is not current at window %s (%s is)", cmd.Ticket, h.winName(wi), t.number)
	}
	ev := Event{At: now, Ticket: t.id, Number: t.number, Service: t.service, Window: cmd.Window,
		Staff: w.staff, Priority: t.prio, Reason: cmd.Reason}
	r := h.cfg.Rules
	switch cmd.Op {
	case OpRecall:
		switch {
		case t.state != Called:
			return nil, errf(ErrBadState, "ticket %s is already being served", t.number)
		case t.recalls >= r.RecallMax:
			return nil, errf(ErrRecallLimit, "ticket %s was recalled %d times (max %d)", t.number, t.recalls, r.RecallMax)
		case now.Sub(t.lastCallAt) < r.RecallMinGap:
			return nil, errf(ErrRecallTooSoon, "ticket %s was called %v ago; recall after %v", t.number,
				now.Sub(t.lastCallAt).Truncate(time.Second), r.RecallMinGap)
		}
		ev.Type, ev.Count = EvTicketRecalled, t.recalls+1
	case OpStart:
		if t.state != Called {
			return nil, errf(ErrBadState, "ticket %s is already being served", t.number)
		}
		ev.Type = EvServiceStarted
	case OpSkip:
		if t.state != Called {
			return nil, errf(ErrBadState, "ticket %s is being served; it cannot be a no-show", t.number)
		}
		ev.Type = EvTicketSkipped
	case OpHold:
		ev.Type = EvTicketHeld
	case OpFinish:
		ev.Type = EvTicketFinished
		if t.returnTo != "" && t.returnTo != cmd.Window {
			ev.Type, ev.ToWindow, ev.ToService = EvTicketReturned, t.returnTo, t.returnSvc
		}
	case OpTransfer:
		switch {
		case (cmd.ToService == "") == (cmd.ToWindow == ""):
			return nil, errf(ErrInvalid, "transfer needs exactly one of a service and a window")
		case cmd.ToService != "":
			if _, ok := h.svcIdx[cmd.ToService]; !ok {
				return nil, errf(ErrUnknownService, "unknown service %q", cmd.ToService)
			}
			if cmd.ToService == t.service {
				return nil, errf(ErrInvalid, "ticket %s is already in service %s", t.number, t.service)
			}
		default:
			if _, err := h.window(cmd.ToWindow); err != nil {
				return nil, err
			}
			if cmd.ToWindow == cmd.Window {
				return nil, errf(ErrInvalid, "transfer of %s to its own window", t.number)
			}
		}
		ev.Type, ev.ToService, ev.ToWindow, ev.Return = EvTicketTransferred, cmd.ToService, cmd.ToWindow, cmd.Return
	}
	return append([]Event{ev}, h.ratingRequest(t, wi, &ev, now)...), nil
}

func (h *Hall) decideReactivate(cmd *Command, now time.Time) ([]Event, error) {
	if cmd.Ticket == 0 {
		return nil, errf(ErrInvalid, "reactivate needs a ticket")
	}
	wi, err := h.window(cmd.Window)
	if err != nil {
		return nil, err
	}
	t, err := h.lookup(cmd.Ticket)
	if err != nil {
		return nil, err
	}
	r := h.cfg.Rules
	switch {
	case t.state != NoShow:
		return nil, errf(ErrBadState, "ticket %s is %v, not a no-show", t.number, t.state)
	case !h.serves(wi, t.service) && t.window != cmd.Window:
		return nil, errf(ErrInvalid, "window %s does not serve service %s", h.winName(wi), t.service)
	case r.ReactivateWithin > 0 && now.Sub(t.since) > r.ReactivateWithin:
		return nil, errf(ErrReactivateExpired, "ticket %s was skipped %v ago (limit %v)", t.number,
			now.Sub(t.since).Truncate(time.Second), r.ReactivateWithin)
	}
	return []Event{{Type: EvTicketReactivated, At: now, Ticket: t.id, Number: t.number, Service: t.service,
		Window: cmd.Window, Staff: h.wins[wi].staff, Priority: t.prio, Reason: cmd.Reason}}, nil
}

func (h *Hall) decideWindow(cmd *Command, now time.Time) ([]Event, error) {
	wi, err := h.window(cmd.Window)
	if err != nil {
		return nil, err
	}
	w := &h.wins[wi]
	ev := Event{At: now, Window: cmd.Window, Staff: w.staff}
	switch cmd.Op {
	case OpOpenWindow:
		switch {
		case cmd.Staff == "":
			return nil, errf(ErrInvalid, "opening window %s needs a staff ID", h.winName(wi))
		case w.state != Closed:
			return nil, errf(ErrBadState, "window %s is already %v", h.winName(wi), w.state)
		}
		ev.Type, ev.Staff = EvWindowOpened, cmd.Staff
	case OpCloseWindow:
		switch {
		case w.state == Closed:
			return nil, errf(ErrWindowClosed, "window %s is already closed", h.winName(wi))
		case w.current != 0:
			return nil, errf(ErrWindowBusy, "window %s is busy with %s", h.winName(wi), h.ticket(w.current).number)
		}
		ev.Type = EvWindowClosed
	case OpPause:
		switch {
		case w.state == Closed:
			return nil, errf(ErrWindowClosed, "window %s is closed", h.winName(wi))
		case w.state == Paused:
			return nil, errf(ErrWindowPaused, "window %s is already paused", h.winName(wi))
		case w.current != 0:
			return nil, errf(ErrWindowBusy, "window %s is busy with %s", h.winName(wi), h.ticket(w.current).number)
		case cmd.Reason == "":
			return nil, errf(ErrInvalid, "pausing window %s needs a reason", h.winName(wi))
		}
		ev.Type, ev.Reason = EvWindowPaused, cmd.Reason
	case OpUnpause:
		if w.state != Paused {
			return nil, errf(ErrBadState, "window %s is %v, not paused", h.winName(wi), w.state)
		}
		ev.Type = EvWindowUnpaused
	}
	return []Event{ev}, nil
}

func (h *Hall) decideSetPriority(cmd *Command, now time.Time) ([]Event, error) {
	if cmd.Ticket == 0 {
		return nil, errf(ErrInvalid, "set priority needs a ticket")
	}
	if cmd.Window != "" {
		if _, err := h.window(cmd.Window); err != nil {
			return nil, err
		}
	}
	t, err := h.lookup(cmd.Ticket)
	if err != nil {
		return nil, err
	}
	reason := cmd.GreenReason
	switch {
	case cmd.Priority > Green:
		return nil, errf(ErrInvalid, "priority %v cannot be set by staff", cmd.Priority)
	case t.state != Waiting:
		return nil, errf(ErrBadState, "ticket %s is %v, not waiting", t.number, t.state)
	case t.prio == PriorityAppointment:
		return nil, errf(ErrBadState, "ticket %s is an appointment", t.number)
	case t.prio == cmd.Priority:
		return nil, errf(ErrBadState, "ticket %s is already %v", t.number, t.prio)
	case cmd.Priority == Normal && reason != "":
		return nil, errf(ErrInvalid, "green-channel reason %q on a normal ticket", reason)
	}
	if cmd.Priority == Green && reason == "" {
		reason = "staff"
	}
	return []Event{{Type: EvPriorityChanged, At: now, Ticket: t.id, Number: t.number, Service: t.service,
		Window: cmd.Window, Priority: cmd.Priority, Reason: reason}}, nil
}

const maxAppointments = 100000

func (h *Hall) decideAppointments(cmd *Command, now time.Time) ([]Event, error) {
	if len(cmd.Appointments) > maxAppointments {
		return nil, errf(ErrInvalid, "%d appointments (max %d)", len(cmd.Appointments), maxAppointments)
	}
	seen := make(map[string]bool, len(cmd.Appointments))
	list := make([]Appointment, len(cmd.Appointments))
	for i, a := range cmd.Appointments {
		switch {
		case a.ID == "":
			return nil, errf(ErrInvalid, "appointment %d has no ID", i)
		case seen[a.ID]:
			return nil, errf(ErrInvalid, "appointment %q listed twice", a.ID)
		case a.Start.IsZero() || !timeOK(a.Start) || !timeOK(a.End) || a.End.Before(a.Start):
			return nil, errf(ErrInvalid, "appointment %q has a bad slot", a.ID)
		}
		if _, ok := h.svcIdx[a.Service]; !ok {
			return nil, errf(ErrUnknownService, "appointment %q is for unknown service %q", a.ID, a.Service)
		}
		seen[a.ID] = true
		a.Start, a.End = a.Start.UTC(), a.End.UTC()
		list[i] = a
	}
	if len(list) == 0 {
		list = nil
	}
	return []Event{{Type: EvAppointmentsLoaded, At: now, Count: len(list), Appointments: list}}, nil
}

func (h *Hall) decideConfig(cmd *Command, now time.Time) ([]Event, error) {
	if cmd.Config == nil {
		return nil, errf(ErrInvalid, "apply_config without a configuration")
	}
	if err := cmd.Config.Validate(); err != nil {
		return nil, &Error{Code: ErrInvalid, Msg: "config rejected: " + trimHall(err.Error()), Err: err}
	}
	enc, err := cmd.Config.MarshalBinary()
	if err != nil {
		return nil, &Error{Code: ErrInvalid, Msg: trimHall(err.Error()), Err: err}
	}
	svc := make(map[string]bool, len(cmd.Config.Services))
	for _, s := range cmd.Config.Services {
		svc[s.ID] = true
	}
	win := make(map[string]bool, len(cmd.Config.Windows))
	for _, w := range cmd.Config.Windows {
		win[w.ID] = true
	}
	for wi, w := range h.cfg.Windows {
		cur := h.wins[wi].current
		if cur == 0 {
			continue
		}
		t := h.ticket(cur)
		if !win[w.ID] {
			return nil, errf(ErrWindowBusy, "window %s would be removed while busy with %s", h.winName(wi), t.number)
		}
		if !svc[t.service] {
			return nil, errf(ErrWindowBusy, "service %s would be removed while window %s serves %s", t.service, h.winName(wi), t.number)
		}
	}
	var evs []Event
	for i := range h.tickets {
		t := &h.tickets[i]
		switch {
		case t.state != Waiting && t.state != Held && t.state != NoShow:
		case !svc[t.service],
			t.state == Waiting && t.toWindow != "" && !win[t.toWindow],
			t.state == Held && !win[t.window]:
			evs = append(evs, h.expireEvent(t, now, "config"))
		}
	}
	evs = append(evs, Event{Type: EvConfigApplied, At: now, Config: enc})
	if h.day == 0 {
		evs = append(evs, Event{Type: EvDayReset, At: now, Count: 1})
	}
	return evs, nil
}
