package hall

import (
	"bytes"
	"maps"
	"slices"
	"sort"
	"time"
)

// Hall is the state of one service hall. Make one with New or Restore. It
// is not safe for concurrent use: the daemon owns it from one goroutine
// (Decide, journal, Apply) and hands out views, which are copies.
type Hall struct {
	cfg        Config
	configured bool
	svcIdx     map[string]int // service ID → index in cfg.Services and svcs; replaced, never mutated
	winIdx     map[string]int // window ID → index in cfg.Windows and wins; replaced, never mutated
	svcs       []svcRun
	wins       []winRun

	tickets []ticket // sorted by ID; finished and expired ones are dropped at the day reset
	nextID  TicketID
	numbers map[string]TicketID // number → ticket, for every ticket in tickets

	day       int
	dayStart  time.Time // when the current business day began (the reset event)
	nextReset time.Time // next reset boundary

	appts   []apptRun
	apptIdx map[string]int // replaced, never mutated

	stats dayStats

	notice noticeRun // the notice every display shows (notice.go)

	rating ratingRun // rating requests and case numbers (rating.go)

	suspend suspendRun // issuing suspended (suspend.go)
}

// svcRun is the runtime state of a service.
type svcRun struct {
	seq     int           // last sequence number used today
	walkIns int           // walk-in tickets issued today (the daily cap counts these)
	mean    time.Duration // EWMA of the service time
	queue   []qent        // waiting tickets not addressed to a window, in call order
}

// winRun is the runtime state of a window.
type winRun struct {
	state       WindowState
	staff       string
	pauseReason string
	current     TicketID
	streak      int    // priority calls in a row
	held        []qent // held tickets, by time held
	addressed   []qent // waiting tickets transferred or returned to this window
}

type apptRun struct {
	Appointment
	ticket TicketID // != 0 once checked in
}

type dayStats struct {
	windows, services, staff map[string]*Counters
	acc                      Accuracy
}

// ticket is the state of one ticket.
type ticket struct {
	id          TicketID
	number      string
	service     string
	prio        Priority
	greenReason string
	state       TicketState
	window      string // current, holding, skipping or last serving window
	toWindow    string // waiting: addressed to this window
	front       bool   // addressed: returned, goes before transfers
	returnTo    string // on finish at another window, come back to this one
	returnSvc   string // … in this service
	appointment string
	slotStart   time.Time
	issuedAt    time.Time
	since       time.Time // entered the current queue / held / no-show state
	calledAt    time.Time
	lastCallAt  time.Time
	startedAt   time.Time
	day         int
	recalls     int
	est         Estimate // at issue
	ahead0      int      // people ahead at issue
	nearSent    bool     // EvTurnNear emitted for the current queue entry
	sampled     bool     // first call fed Stats.Accuracy
	source      string
	personal    []byte
}

// qent is an entry of an ordered ticket list.
type qent struct {
	tier uint8
	key  int64
	id   TicketID
}

func (a qent) less(b qent) bool {
	if a.tier != b.tier {
		return a.tier < b.tier
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.id < b.id
}

// Tiers of a service queue.
const (
	tierAppointment = 0
	tierGreen       = 1
	tierNormal      = 2
)

// New returns a hall with configuration cfg and no tickets; every window is
// closed and no business day has started (the first Decide starts day 1).
// The empty Config{} is accepted without validation: that is the hall a
// journal is replayed into, whose first event is EvConfigApplied.
func New(cfg Config) (*Hall, error) {
	h := &Hall{nextID: 1}
	h.stats.init()
	if cfg.isZero() {
		h.reindexConfig()
		return h, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, &Error{Code: ErrInvalid, Msg: "config rejected: " + trimHall(err.Error()), Err: err}
	}
	// Normalise through the codec so the state equals that of a replay.
	enc, err := cfg.MarshalBinary()
	if err != nil {
		return nil, &Error{Code: ErrInvalid, Msg: trimHall(err.Error()), Err: err}
	}
	norm, err := decodeConfig(&rbuf{b: enc})
	if err != nil {
		return nil, &Error{Code: ErrInvalid, Msg: trimHall(err.Error()), Err: err}
	}
	h.setConfig(norm)
	return h, nil
}

func trimHall(s string) string {
	const p = "hall: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func (s *dayStats) init() {
	s.windows = map[string]*Counters{}
	s.services = map[string]*Counters{}
	s.staff = map[string]*Counters{}
	s.acc = Accuracy{}
}

func (s *dayStats) clone() dayStats {
	c := dayStats{acc: s.acc}
	cp := func(m map[string]*Counters) map[string]*Counters {
		out := make(map[string]*Counters, len(m))
		for k, v := range m {
			x := *v
			out[k] = &x
		}
		return out
	}
	c.windows, c.services, c.staff = cp(s.windows), cp(s.services), cp(s.staff)
	return c
}

func counter(m map[string]*Counters, key string) *Counters {
	c := m[key]
	if c == nil {
		c = &Counters{}
		m[key] = c
	}
	return c
}

// clone returns a deep copy of everything Apply mutates. Maps and slices
// that are only ever replaced (config, indexes) are shared.
func (h *Hall) clone() *Hall {
	c := *h
	c.svcs = slices.Clone(h.svcs)
	for i := range c.svcs {
		c.svcs[i].queue = slices.Clone(h.svcs[i].queue)
	}
	c.wins = slices.Clone(h.wins)
	for i := range c.wins {
		c.wins[i].held = slices.Clone(h.wins[i].held)
		c.wins[i].addressed = slices.Clone(h.wins[i].addressed)
	}
	c.tickets = slices.Clone(h.tickets)
	c.numbers = maps.Clone(h.numbers)
	c.appts = slices.Clone(h.appts)
	c.stats = h.stats.clone()
	c.rating = h.rating.clone()
	return &c
}

// setConfig installs a validated configuration, keeping the runtime state
// of services and windows whose IDs remain, and rebuilds the indexes.
func (h *Hall) setConfig(cfg Config) {
	oldSvc, oldWin := h.svcs, h.wins
	oldSvcIdx, oldWinIdx := h.svcIdx, h.winIdx
	oldCfg := h.cfg
	h.cfg = cfg
	h.configured = true
	if h.nextID == 0 { // a zero Hall rather than one from New
		h.nextID = 1
	}
	if h.stats.windows == nil {
		h.stats.init()
	}
	h.svcs = make([]svcRun, len(cfg.Services))
	for i, s := range cfg.Services {
		r := svcRun{mean: s.ServiceTime}
		if j, ok := oldSvcIdx[s.ID]; ok {
			r.seq, r.walkIns, r.mean = oldSvc[j].seq, oldSvc[j].walkIns, oldSvc[j].mean
			if oldCfg.Services[j].ServiceTime != s.ServiceTime {
				r.mean = s.ServiceTime // the operator changed it: start again from it
			}
		}
		h.svcs[i] = r
	}
	h.wins = make([]winRun, len(cfg.Windows))
	for i, w := range cfg.Windows {
		if j, ok := oldWinIdx[w.ID]; ok {
			o := oldWin[j]
			h.wins[i] = winRun{state: o.state, staff: o.staff, pauseReason: o.pauseReason, streak: o.streak}
		}
	}
	h.reindexConfig()
	h.reindexTickets()
	if h.day > 0 {
		h.nextReset = nextBoundary(h.dayStart, h.loc(), cfg.Rules.ResetAt)
	}
}

func (h *Hall) reindexConfig() {
	h.svcIdx = make(map[string]int, len(h.cfg.Services))
	for i, s := range h.cfg.Services {
		h.svcIdx[s.ID] = i
	}
	h.winIdx = make(map[string]int, len(h.cfg.Windows))
	for i, w := range h.cfg.Windows {
		h.winIdx[w.ID] = i
	}
}

// reindexTickets rebuilds queues, held lists, current tickets and the
// number index from the tickets.
func (h *Hall) reindexTickets() {
	for i := range h.svcs {
		h.svcs[i].queue = nil
	}
	for i := range h.wins {
		h.wins[i].held, h.wins[i].addressed, h.wins[i].current = nil, nil, 0
	}
	h.numbers = make(map[string]TicketID, len(h.tickets))
	for i := range h.tickets {
		t := &h.tickets[i]
		h.numbers[t.number] = t.id
		switch t.state {
		case Waiting:
			if t.toWindow != "" {
				if wi, ok := h.winIdx[t.toWindow]; ok {
					h.wins[wi].addressed = append(h.wins[wi].addressed, t.addrEntry())
				}
			} else if si, ok := h.svcIdx[t.service]; ok {
				h.svcs[si].queue = append(h.svcs[si].queue, t.queueEntry())
			}
		case Held:
			if wi, ok := h.winIdx[t.window]; ok {
				h.wins[wi].held = append(h.wins[wi].held, t.heldEntry())
			}
		case Called, Serving:
			if wi, ok := h.winIdx[t.window]; ok {
				h.wins[wi].current = t.id
			}
		}
	}
	sortQ := func(q []qent) { sort.Slice(q, func(i, j int) bool { return q[i].less(q[j]) }) }
	for i := range h.svcs {
		sortQ(h.svcs[i].queue)
	}
	for i := range h.wins {
		sortQ(h.wins[i].held)
		sortQ(h.wins[i].addressed)
	}
}

func (h *Hall) loc() *time.Location {
	if h.cfg.Location == nil {
		return time.UTC
	}
	return h.cfg.Location
}

// find returns the index of ticket id in h.tickets, or -1.
func (h *Hall) find(id TicketID) int {
	i := sort.Search(len(h.tickets), func(i int) bool { return h.tickets[i].id >= id })
	if i < len(h.tickets) && h.tickets[i].id == id {
		return i
	}
	return -1
}

func (h *Hall) ticket(id TicketID) *ticket {
	if i := h.find(id); i >= 0 {
		return &h.tickets[i]
	}
	return nil
}

func (t *ticket) queueEntry() qent {
	switch t.prio {
	case PriorityAppointment:
		return qent{tierAppointment, t.slotStart.UnixNano(), t.id}
	case Green:
		return qent{tierGreen, t.issuedAt.UnixNano(), t.id}
	}
	return qent{tierNormal, t.issuedAt.UnixNano(), t.id}
}

func (t *ticket) addrEntry() qent {
	tier := uint8(1)
	if t.front {
		tier = 0
	}
	return qent{tier, t.since.UnixNano(), t.id}
}

func (t *ticket) heldEntry() qent { return qent{0, t.since.UnixNano(), t.id} }

// position returns where e is or would be inserted in q.
func position(q []qent, e qent) int {
	return sort.Search(len(q), func(i int) bool { return !q[i].less(e) })
}

func insert(q []qent, e qent) []qent {
	return slices.Insert(q, position(q, e), e)
}

func remove(q []qent, e qent) []qent {
	i := position(q, e)
	if i < len(q) && q[i] == e {
		return slices.Delete(q, i, i+1)
	}
	return q
}

// enqueue puts a waiting ticket in its list (the window's addressed list or
// the service queue).
func (h *Hall) enqueue(t *ticket) {
	if t.toWindow != "" {
		if wi, ok := h.winIdx[t.toWindow]; ok {
			h.wins[wi].addressed = insert(h.wins[wi].addressed, t.addrEntry())
		}
		return
	}
	if si, ok := h.svcIdx[t.service]; ok {
		h.svcs[si].queue = insert(h.svcs[si].queue, t.queueEntry())
	}
}

// dequeue takes a waiting ticket out of its list.
func (h *Hall) dequeue(t *ticket) {
	if t.toWindow != "" {
		if wi, ok := h.winIdx[t.toWindow]; ok {
			h.wins[wi].addressed = remove(h.wins[wi].addressed, t.addrEntry())
		}
		return
	}
	if si, ok := h.svcIdx[t.service]; ok {
		h.svcs[si].queue = remove(h.svcs[si].queue, t.queueEntry())
	}
}

// ahead returns the people ahead of a waiting ticket and the list it is in
// (service index or -1, window index or -1).
func (h *Hall) ahead(t *ticket) (n, si, wi int) {
	si, wi = -1, -1
	if t.state != Waiting {
		return 0, si, wi
	}
	if t.toWindow != "" {
		if i, ok := h.winIdx[t.toWindow]; ok {
			return position(h.wins[i].addressed, t.addrEntry()), -1, i
		}
		return 0, si, wi
	}
	if i, ok := h.svcIdx[t.service]; ok {
		return position(h.svcs[i].queue, t.queueEntry()), i, -1
	}
	return 0, si, wi
}

// serves reports whether window wi serves service id.
func (h *Hall) serves(wi int, id string) bool {
	return slices.Contains(h.cfg.Windows[wi].Services, id)
}

// openWindows counts the open, unpaused windows serving service si.
func (h *Hall) openWindows(si int) int {
	id := h.cfg.Services[si].ID
	n := 0
	for wi := range h.wins {
		if h.wins[wi].state == Open && h.serves(wi, id) {
			n++
		}
	}
	return n
}

// Config returns a copy of the current configuration.
func (h *Hall) Config() Config { return h.cfg.clone() }

// Day returns the business-day counter (0 before the first day starts) and
// when the current day started.
func (h *Hall) Day() (day int, started time.Time) { return h.day, h.dayStart }

// Do decides cmd and applies the resulting events, for tests and
// simulations. The daemon instead journals the events between the two.
func (h *Hall) Do(cmd Command, now time.Time) ([]Event, error) {
	evs, err := h.Decide(cmd, now)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		if err := h.Apply(e); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

func clonePersonal(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return bytes.Clone(p)
}
