package hall

import (
	"slices"
	"time"
)

// TicketView is a copy of a ticket's state.
type TicketView struct {
	ID          TicketID
	Number      string
	Service     string
	Priority    Priority
	GreenReason string
	State       TicketState
	// Window is the window the ticket is current at, held at, was skipped
	// or finished at; for a waiting ticket, the window it is addressed to
	// ("" in a service queue).
	Window                        string
	IssuedAt, CalledAt, StartedAt time.Time
	Recalls                       int
	// Ahead is the number of people ahead of a waiting ticket now (0 when
	// not waiting). Estimate is the estimate printed at issue; Remaining is
	// the estimate now for a waiting ticket.
	Ahead       int
	Estimate    Estimate
	Remaining   Estimate
	Appointment string
	Source      string
	Personal    []byte
	// Day is the business day the ticket was issued on; ReturnTo the window
	// it goes back to when the target of a transfer finishes it.
	Day      int
	ReturnTo string
	// Notified is set once EvTurnNear was sent for the current queue entry.
	Notified bool
}

// WindowView is a copy of a window's configuration and state.
type WindowView struct {
	ID            string
	Number        int
	Name          string
	Kind          WindowKind
	Services      []string
	State         WindowState
	PauseReason   string
	Staff         string
	Current       TicketID // 0 = idle
	CurrentNumber string
	Held          []TicketID // by time held
	Served        int        // today
	// Addressed are the waiting tickets transferred or returned to this
	// window, in call order (returns first).
	Addressed []TicketID
}

// ServiceView is a copy of a service's configuration and state.
type ServiceView struct {
	ID, Name, Prefix string
	Waiting          int // in the service queue
	Issued           int // today, walk-ins and appointments
	DailyCap         int
	OpenWindows      int // open, unpaused windows serving it
	MeanServiceTime  time.Duration
	Estimate         Estimate // for a normal ticket issued now
}

// Counters are the day's statistics of a window, a service or a staff
// member. Issued is counted per service only.
type Counters struct {
	Issued, Called, Served, NoShows, Transferred, Recalls int
	WaitSum, WaitMax, ServiceSum, ServiceMax              time.Duration
	WaitBuckets                                           [6]int // 0–3, 3–6, 6–9, 9–12, 12–15, 15+ minutes
	Ratings                                               RatingCounts
}

// Accuracy compares the wait estimated at issue with the actual wait at the
// first call, for tickets whose estimate was known.
type Accuracy struct {
	Samples   int
	AbsErrSum time.Duration
	Under     int // actual wait > Hi: under-predicted
	Within    int // Lo ≤ actual ≤ Hi
}

// MAE returns the mean absolute error of the point estimate, 0 without
// samples.
func (a Accuracy) MAE() time.Duration {
	if a.Samples == 0 {
		return 0
	}
	return a.AbsErrSum / time.Duration(a.Samples)
}

// Stats are the day's statistics, keyed by window ID, service ID and staff
// ID. Every configured window and service has an entry.
type Stats struct {
	Windows, Services, Staff map[string]*Counters
	Accuracy                 Accuracy
}

func (h *Hall) view(t *ticket) TicketView {
	v := TicketView{ID: t.id, Number: t.number, Service: t.service, Priority: t.prio,
		GreenReason: t.greenReason, State: t.state, Window: t.window, IssuedAt: t.issuedAt,
		CalledAt: t.calledAt, StartedAt: t.startedAt, Recalls: t.recalls, Estimate: t.est,
		Appointment: t.appointment, Source: t.source, Personal: clonePersonal(t.personal),
		Day: t.day, ReturnTo: t.returnTo, Notified: t.nearSent}
	if t.state == Waiting {
		v.Window = t.toWindow
		n, si, wi := h.ahead(t)
		v.Ahead = n
		switch {
		case si >= 0:
			v.Remaining = h.estimate(si, n)
		case wi >= 0:
			v.Remaining = h.estimateAddressed(wi, t.service, n)
		}
	}
	return v
}

// Ticket returns the ticket with the given ID. Finished and expired tickets
// of earlier days are gone after the day reset.
func (h *Hall) Ticket(id TicketID) (TicketView, bool) {
	if t := h.ticket(id); t != nil {
		return h.view(t), true
	}
	return TicketView{}, false
}

// TicketByNumber returns today's ticket with that number (or one carried
// over from an earlier day).
func (h *Hall) TicketByNumber(number string) (TicketView, bool) {
	if id, ok := h.numbers[number]; ok {
		return h.Ticket(id)
	}
	return TicketView{}, false
}

// Tickets returns every ticket the hall holds (today's and carried ones),
// by ID.
func (h *Hall) Tickets() []TicketView {
	out := make([]TicketView, len(h.tickets))
	for i := range h.tickets {
		out[i] = h.view(&h.tickets[i])
	}
	return out
}

// Queue returns the waiting tickets of a service in call order:
// appointments by slot, then green by issue time, then normal by issue
// time. Tickets addressed to a window are in WindowView.Addressed instead.
func (h *Hall) Queue(service string) []TicketView {
	si, ok := h.svcIdx[service]
	if !ok {
		return nil
	}
	q := h.svcs[si].queue
	out := make([]TicketView, len(q))
	for i, e := range q {
		out[i] = h.view(h.ticket(e.id))
	}
	return out
}

func (h *Hall) windowView(wi int) WindowView {
	c, w := h.cfg.Windows[wi], &h.wins[wi]
	v := WindowView{ID: c.ID, Number: c.Number, Name: c.Name, Kind: c.Kind,
		Services: slices.Clone(c.Services), State: w.state, PauseReason: w.pauseReason,
		Staff: w.staff, Current: w.current}
	if t := h.ticket(w.current); t != nil {
		v.CurrentNumber = t.number
	}
	for _, e := range w.held {
		v.Held = append(v.Held, e.id)
	}
	for _, e := range w.addressed {
		v.Addressed = append(v.Addressed, e.id)
	}
	if s := h.stats.windows[c.ID]; s != nil {
		v.Served = s.Served
	}
	return v
}

// Window returns the window with the given ID.
func (h *Hall) Window(id string) (WindowView, bool) {
	wi, ok := h.winIdx[id]
	if !ok {
		return WindowView{}, false
	}
	return h.windowView(wi), true
}

// Windows returns every window, in configuration order.
func (h *Hall) Windows() []WindowView {
	out := make([]WindowView, len(h.wins))
	for i := range h.wins {
		out[i] = h.windowView(i)
	}
	return out
}

// Services returns every service, in configuration order.
func (h *Hall) Services() []ServiceView {
	out := make([]ServiceView, len(h.svcs))
	for si, c := range h.cfg.Services {
		r := &h.svcs[si]
		v := ServiceView{ID: c.ID, Name: c.Name, Prefix: c.Prefix, Waiting: len(r.queue),
			DailyCap: c.DailyCap, OpenWindows: h.openWindows(si), MeanServiceTime: r.mean,
			Estimate: h.estimate(si, len(r.queue))}
		if s := h.stats.services[c.ID]; s != nil {
			v.Issued = s.Issued
		}
		out[si] = v
	}
	return out
}

// Stats returns a copy of today's statistics.
func (h *Hall) Stats() Stats {
	c := h.stats.clone()
	for _, w := range h.cfg.Windows {
		counter(c.windows, w.ID)
	}
	for _, s := range h.cfg.Services {
		counter(c.services, s.ID)
	}
	return Stats{Windows: c.windows, Services: c.services, Staff: c.staff, Accuracy: c.acc}
}

// Appointments returns the loaded appointment list and, for each, the
// ticket it checked in as (0 = not yet).
func (h *Hall) Appointments() ([]Appointment, []TicketID) {
	list := make([]Appointment, len(h.appts))
	tickets := make([]TicketID, len(h.appts))
	for i, a := range h.appts {
		list[i], tickets[i] = a.Appointment, a.ticket
	}
	return list, tickets
}
