package hall

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

const (
	stateMagic   = "HALLST"
	stateVersion = 1
)

// MarshalState encodes the full state for a journal snapshot. The encoding
// is canonical: two halls with equal state encode to equal bytes.
func (h *Hall) MarshalState() ([]byte, error) {
	w := &wbuf{b: make([]byte, 0, 256+len(h.tickets)*96)}
	w.b = append(w.b, stateMagic...)
	version := h.stateVersionFor() // optional sections follow the notice (suspend.go)
	w.byte(version)
	w.bool(h.configured)
	if h.configured {
		h.cfg.encode(w)
	}
	w.int(h.day)
	w.time(h.dayStart)
	w.time(h.nextReset)
	w.uvarint(uint64(h.nextID))
	w.uvarint(uint64(len(h.svcs)))
	for _, s := range h.svcs {
		w.int(s.seq)
		w.int(s.walkIns)
		w.dur(s.mean)
	}
	w.uvarint(uint64(len(h.wins)))
	for _, x := range h.wins {
		w.byte(byte(x.state))
		w.str(x.staff)
		w.str(x.pauseReason)
		w.int(x.streak)
	}
	w.uvarint(uint64(len(h.tickets)))
	for i := range h.tickets {
		encodeTicket(w, &h.tickets[i])
	}
	w.uvarint(uint64(len(h.appts)))
	for _, a := range h.appts {
		w.str(a.ID)
		w.str(a.Service)
		w.time(a.Start)
		w.time(a.End)
		w.str(a.HolderHash)
		w.uvarint(uint64(a.ticket))
	}
	for _, m := range []map[string]*Counters{h.stats.windows, h.stats.services, h.stats.staff} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.uvarint(uint64(len(keys)))
		for _, k := range keys {
			w.str(k)
			encodeCounters(w, m[k])
		}
	}
	a := h.stats.acc
	w.int(a.Samples)
	w.dur(a.AbsErrSum)
	w.int(a.Under)
	w.int(a.Within)
	h.notice.encode(w)
	h.encodeSections(w, version)
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

func encodeTicket(w *wbuf, t *ticket) {
	w.uvarint(uint64(t.id))
	w.str(t.number)
	w.str(t.service)
	w.byte(byte(t.prio))
	w.str(t.greenReason)
	w.byte(byte(t.state))
	w.str(t.window)
	w.str(t.toWindow)
	w.bool(t.front)
	w.str(t.returnTo)
	w.str(t.returnSvc)
	w.str(t.appointment)
	w.time(t.slotStart)
	w.time(t.issuedAt)
	w.time(t.since)
	w.time(t.calledAt)
	w.time(t.lastCallAt)
	w.time(t.startedAt)
	w.int(t.day)
	w.int(t.recalls)
	w.dur(t.est.Point)
	w.dur(t.est.Lo)
	w.dur(t.est.Hi)
	w.bool(t.est.Known)
	w.int(t.ahead0)
	w.bool(t.nearSent)
	w.bool(t.sampled)
	w.str(t.source)
	w.bytes(t.personal)
}

func decodeTicket(r *rbuf) ticket {
	var t ticket
	t.id = TicketID(r.uvarint())
	t.number = r.str()
	t.service = r.str()
	t.prio = Priority(r.byte())
	t.greenReason = r.str()
	t.state = TicketState(r.byte())
	t.window = r.str()
	t.toWindow = r.str()
	t.front = r.bool()
	t.returnTo = r.str()
	t.returnSvc = r.str()
	t.appointment = r.str()
	t.slotStart = r.time()
	t.issuedAt = r.time()
	t.since = r.time()
	t.calledAt = r.time()
	t.lastCallAt = r.time()
	t.startedAt = r.time()
	t.day = r.int()
	t.recalls = r.int()
	t.est.Point = r.dur()
	t.est.Lo = r.dur()
	t.est.Hi = r.dur()
	t.est.Known = r.bool()
	t.ahead0 = r.int()
	t.nearSent = r.bool()
	t.sampled = r.bool()
	t.source = r.str()
	t.personal = r.bytes()
	return t
}

func encodeCounters(w *wbuf, c *Counters) {
	for _, v := range []int{c.Issued, c.Called, c.Served, c.NoShows, c.Transferred, c.Recalls} {
		w.int(v)
	}
	for _, d := range []int64{int64(c.WaitSum), int64(c.WaitMax), int64(c.ServiceSum), int64(c.ServiceMax)} {
		w.varint(d)
	}
	for _, v := range c.WaitBuckets {
		w.int(v)
	}
}

func decodeCounters(r *rbuf) *Counters {
	c := &Counters{}
	for _, p := range []*int{&c.Issued, &c.Called, &c.Served, &c.NoShows, &c.Transferred, &c.Recalls} {
		*p = r.int()
	}
	c.WaitSum, c.WaitMax, c.ServiceSum, c.ServiceMax = r.dur(), r.dur(), r.dur(), r.dur()
	for i := range c.WaitBuckets {
		c.WaitBuckets[i] = r.int()
	}
	return c
}

// Restore rebuilds a hall from MarshalState. Restore(h.MarshalState()) has
// the same Digest as h. Malformed or inconsistent data is an error.
func Restore(data []byte) (*Hall, error) {
	if !strings.HasPrefix(string(data[:min(len(data), len(stateMagic))]), stateMagic) {
		return nil, errors.New("hall: not a state snapshot")
	}
	r := &rbuf{b: data[len(stateMagic):]}
	version := r.byte()
	if r.err == nil && !knownStateVersion(version) {
		return nil, fmt.Errorf("hall: state version %d not supported", version)
	}
	h := &Hall{}
	h.configured = r.bool()
	if h.configured && r.err == nil {
		cfg, err := decodeConfig(r)
		if err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("hall: snapshot config: %w", err)
		}
		h.cfg = cfg
	}
	h.reindexConfig()
	h.day = r.int()
	h.dayStart = r.time()
	h.nextReset = r.time()
	h.nextID = TicketID(r.uvarint())
	if n := r.count(3); r.err == nil && n != len(h.cfg.Services) {
		return nil, fmt.Errorf("hall: snapshot has %d service states for %d services", n, len(h.cfg.Services))
	}
	h.svcs = make([]svcRun, len(h.cfg.Services))
	for i := range h.svcs {
		h.svcs[i].seq, h.svcs[i].walkIns, h.svcs[i].mean = r.int(), r.int(), r.dur()
	}
	if n := r.count(4); r.err == nil && n != len(h.cfg.Windows) {
		return nil, fmt.Errorf("hall: snapshot has %d window states for %d windows", n, len(h.cfg.Windows))
	}
	h.wins = make([]winRun, len(h.cfg.Windows))
	for i := range h.wins {
		x := &h.wins[i]
		x.state = WindowState(r.byte())
		x.staff, x.pauseReason, x.streak = r.str(), r.str(), r.int()
	}
	if n := r.count(30); n > 0 {
		h.tickets = make([]ticket, n)
		for i := range h.tickets {
			h.tickets[i] = decodeTicket(r)
		}
	}
	if n := r.count(6); n > 0 {
		h.appts = make([]apptRun, n)
		h.apptIdx = make(map[string]int, n)
		for i := range h.appts {
			a := &h.appts[i]
			a.ID, a.Service, a.Start, a.End, a.HolderHash = r.str(), r.str(), r.time(), r.time(), r.str()
			a.ticket = TicketID(r.uvarint())
			if _, dup := h.apptIdx[a.ID]; dup && r.err == nil {
				return nil, fmt.Errorf("hall: snapshot lists appointment %q twice", a.ID)
			}
			h.apptIdx[a.ID] = i
		}
	}
	h.stats.init()
	for _, m := range []map[string]*Counters{h.stats.windows, h.stats.services, h.stats.staff} {
		n := r.count(17)
		prev := ""
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			if i > 0 && k <= prev {
				return nil, errors.New("hall: snapshot statistics not in canonical order")
			}
			prev = k
			m[k] = decodeCounters(r)
		}
	}
	h.stats.acc.Samples = r.int()
	h.stats.acc.AbsErrSum = r.dur()
	h.stats.acc.Under = r.int()
	h.stats.acc.Within = r.int()
	h.notice = decodeNotice(r)
	if r.err == nil {
		if err := h.decodeSections(r, version); err != nil {
			return nil, fmt.Errorf("hall: bad state snapshot: %w", err)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("hall: bad state snapshot: %w", r.err)
	}
	for i := range h.tickets {
		if i > 0 && h.tickets[i].id <= h.tickets[i-1].id {
			return nil, errors.New("hall: snapshot tickets out of order")
		}
	}
	h.reindexTickets()
	if err := h.Check(); err != nil {
		return nil, fmt.Errorf("hall: inconsistent snapshot: %w", err)
	}
	return h, nil
}

// Digest returns the SHA-256 of the canonical state (MarshalState). Two
// halls with equal state have equal digests; a replay is checked against
// the live hall with it.
func (h *Hall) Digest() [32]byte {
	b, err := h.MarshalState()
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(b)
}

// Check verifies the internal consistency of the state: every ticket in
// exactly one place matching its state, each window's current ticket
// pointing back at it, unique numbers, counts that add up. It returns the
// first violation. Use it after a replay or a restore.
func (h *Hall) Check() error {
	if !h.configured && (len(h.cfg.Services) > 0 || len(h.cfg.Windows) > 0) {
		return errors.New("unconfigured hall with a configuration")
	}
	if len(h.svcs) != len(h.cfg.Services) || len(h.wins) != len(h.cfg.Windows) {
		return errors.New("runtime state does not match the configuration")
	}
	if h.nextID == 0 {
		return errors.New("next ticket ID is 0")
	}
	numbers := make(map[string]TicketID, len(h.tickets))
	issuedToday := make(map[string]int)
	for i := range h.tickets {
		t := &h.tickets[i]
		if t.id == 0 || t.id >= h.nextID || (i > 0 && t.id <= h.tickets[i-1].id) {
			return fmt.Errorf("ticket ID %d out of order (next %d)", t.id, h.nextID)
		}
		if t.number == "" {
			return fmt.Errorf("ticket %d has no number", t.id)
		}
		if o, dup := numbers[t.number]; dup {
			return fmt.Errorf("number %s used by tickets %d and %d", t.number, o, t.id)
		}
		numbers[t.number] = t.id
		if !t.prio.Valid() || t.state > Expired {
			return fmt.Errorf("ticket %s: priority %d state %d", t.number, t.prio, t.state)
		}
		if t.prio == PriorityAppointment && t.appointment == "" {
			return fmt.Errorf("ticket %s: appointment priority without appointment", t.number)
		}
		if t.day > h.day {
			return fmt.Errorf("ticket %s issued on day %d after today %d", t.number, t.day, h.day)
		}
		if t.day == h.day {
			issuedToday[t.service]++
		}
		if t.state != Waiting && t.toWindow != "" {
			return fmt.Errorf("ticket %s is %v but addressed to %s", t.number, t.state, t.toWindow)
		}
		switch t.state {
		case Waiting:
			if t.toWindow != "" {
				if _, ok := h.winIdx[t.toWindow]; !ok {
					return fmt.Errorf("ticket %s addressed to unknown window %q", t.number, t.toWindow)
				}
			} else if _, ok := h.svcIdx[t.service]; !ok {
				return fmt.Errorf("ticket %s waits in unknown service %q", t.number, t.service)
			}
		case Called, Serving:
			wi, ok := h.winIdx[t.window]
			if !ok || h.wins[wi].current != t.id {
				return fmt.Errorf("ticket %s is %v at window %q which does not have it", t.number, t.state, t.window)
			}
		case Held:
			if _, ok := h.winIdx[t.window]; !ok {
				return fmt.Errorf("ticket %s held at unknown window %q", t.number, t.window)
			}
		}
	}
	if len(numbers) != len(h.numbers) {
		return fmt.Errorf("number index has %d entries for %d tickets", len(h.numbers), len(numbers))
	}
	for n, id := range numbers {
		if h.numbers[n] != id {
			return fmt.Errorf("number index: %s → %d, want %d", n, h.numbers[n], id)
		}
	}
	// The ordered lists must equal those rebuilt from the tickets.
	c := &Hall{cfg: h.cfg, svcIdx: h.svcIdx, winIdx: h.winIdx, tickets: h.tickets,
		svcs: make([]svcRun, len(h.svcs)), wins: make([]winRun, len(h.wins))}
	c.reindexTickets()
	for si := range h.svcs {
		if !slices.Equal(c.svcs[si].queue, h.svcs[si].queue) {
			return fmt.Errorf("queue of service %s out of sync", h.cfg.Services[si].ID)
		}
	}
	for wi := range h.wins {
		w, want := &h.wins[wi], &c.wins[wi]
		id := h.cfg.Windows[wi].ID
		switch {
		case w.current != want.current:
			return fmt.Errorf("window %s current %d, tickets say %d", id, w.current, want.current)
		case !slices.Equal(w.held, want.held):
			return fmt.Errorf("held list of window %s out of sync", id)
		case !slices.Equal(w.addressed, want.addressed):
			return fmt.Errorf("addressed list of window %s out of sync", id)
		case w.state > Paused:
			return fmt.Errorf("window %s state %d", id, w.state)
		case w.current != 0 && w.state != Open:
			return fmt.Errorf("window %s is %v with a current ticket", id, w.state)
		case (w.state == Closed) != (w.staff == ""):
			return fmt.Errorf("window %s is %v with staff %q", id, w.state, w.staff)
		}
	}
	// Tickets move between services (transfers), so the day's count adds
	// up over all services; a service's walk-ins never exceed its issued.
	today, counted := 0, 0
	for _, n := range issuedToday {
		today += n
	}
	for _, c := range h.stats.services {
		counted += c.Issued
	}
	if today != counted {
		return fmt.Errorf("%d tickets of today, %d counted as issued", today, counted)
	}
	for si, s := range h.cfg.Services {
		issued := 0
		if c := h.stats.services[s.ID]; c != nil {
			issued = c.Issued
		}
		if h.svcs[si].walkIns > issued {
			return fmt.Errorf("service %s: %d walk-ins but %d issued", s.ID, h.svcs[si].walkIns, issued)
		}
	}
	for i := range h.appts {
		a := &h.appts[i]
		if j, ok := h.apptIdx[a.ID]; !ok || j != i {
			return fmt.Errorf("appointment index out of sync at %q", a.ID)
		}
	}
	if len(h.apptIdx) != len(h.appts) {
		return errors.New("appointment index size")
	}
	return h.checkRatings()
}
