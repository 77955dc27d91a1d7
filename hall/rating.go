package hall

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Ratings (好差评) follow 国办发〔2019〕51号 and GB/T 39734-2020 as DB43/T
// 2422 part 7 §8.2 requires: every on-site service is rated once ("一次一评"),
// on five grades, a 差评 (the bottom two) carries its reasons, and a service
// nobody rated is counted as not rated (未评), never as satisfied.
//
// A rating is requested at the window when the citizen leaves it after
// being served there:
//
//   - EvTicketFinished and EvTicketReturned: the service at that window is
//     done (a returned ticket is rated at the window that served it before
//     going back);
//   - EvTicketTransferred of a ticket whose service had started, without
//     Return: the citizen was served for one item and goes on to another.
//     A transfer before the service started, or with Return (the ticket
//     comes back to finish here), requests nothing.
//
// So a transferred ticket is rated once for each service it was served in.
// The request (EvRatingRequested) carries the ticket, its number, the
// service, the window, the staff member signed in there (OpOpenWindow's
// Staff) and the case number (办件编号) set with OpSetCase, and is due
// RatingRules.Timeout later. OpRate closes it with EvRatingGiven; a request
// still open at its deadline, or at the day reset, is closed with
// EvRatingNotRated. Both are decided before any command's own events, like
// the day reset, so a rating that arrives late is refused.

// The rating event types (their values are stored in the journal).
const (
	EvRatingRequested EventType = 23 // a rating is asked for at a window
	EvRatingGiven     EventType = 24 // the citizen rated (OpRate)
	EvRatingNotRated  EventType = 25 // nobody rated before the deadline or the day reset
	EvCaseSet         EventType = 26 // a case number (办件编号) was set (OpSetCase)
)

// Refusals of OpRate.
var (
	// ErrNoRating: the window has no rating request open (none was made,
	// or the last one timed out).
	ErrNoRating = errors.New("hall: no rating pending")
	// ErrRatingClosed: the request was already rated (re-rating).
	ErrRatingClosed = errors.New("hall: rating already given")
)

// Grade is a 好差评 grade, 1 (非常满意) to 5 (非常不满意): the order of the
// window terminal's rating keys (windowbus.Key.Rating). 0 is no grade.
type Grade uint8

// The five grades of GB/T 39734; the bottom two are 差评.
const (
	GradeVerySatisfied      Grade = 1 // 非常满意
	GradeSatisfied          Grade = 2 // 满意
	GradeBasicallySatisfied Grade = 3 // 基本满意
	GradeDissatisfied       Grade = 4 // 不满意
	GradeVeryDissatisfied   Grade = 5 // 非常不满意
)

var gradeNames = [...]struct{ name, label string }{
	{"", ""},
	{"very_satisfied", "非常满意"},
	{"satisfied", "满意"},
	{"basically_satisfied", "基本满意"},
	{"dissatisfied", "不满意"},
	{"very_dissatisfied", "非常不满意"},
}

// Valid reports whether g is one of the five grades.
func (g Grade) Valid() bool { return g >= GradeVerySatisfied && g <= GradeVeryDissatisfied }

// Bad reports whether g is a 差评: 不满意 or 非常不满意.
func (g Grade) Bad() bool { return g == GradeDissatisfied || g == GradeVeryDissatisfied }

// String returns the snake_case name, e.g. "very_satisfied".
func (g Grade) String() string {
	if g.Valid() {
		return gradeNames[g].name
	}
	return "grade(" + strconv.Itoa(int(g)) + ")"
}

// Label returns the Chinese name shown to the citizen, "" for an invalid
// grade.
func (g Grade) Label() string {
	if g.Valid() {
		return gradeNames[g].label
	}
	return ""
}

// RatingID identifies a rating request for the life of the hall; IDs are
// never reused.
type RatingID uint64

// The pad kinds, given as the Source of OpRate.
const (
	PadKeys   = "pad_keys"   // the five rating keys of the window terminal (window bus)
	PadTablet = "pad_tablet" // the tablet page the gateway serves at the window
)

// ReasonUnstated is the reason recorded for a 差评 given on the window
// terminal's keys without a reason number: a five-key pad cannot ask for
// one, and losing the 差评 would be worse than recording it without. Only
// OpRate from PadKeys may use it; the platform's return visit (回访) asks
// the citizen.
const ReasonUnstated = "unstated"

// Reason is one 差评 reason the pads offer: a stable code (journaled) and
// the label shown to the citizen.
type Reason struct {
	Code, Label string
}

// RatingRules configure ratings.
type RatingRules struct {
	// Timeout is how long a request waits for the citizen; then it is not
	// rated. 0 turns ratings off: no request is made.
	Timeout time.Duration
	// Reasons are the 差评 reasons, in the order the pads show them; a key
	// pad names one by its 1-based position (Command.ReasonNumber).
	Reasons []Reason
}

// DefaultRatingRules returns a three-minute timeout and the reasons of
// GB/T 39734 Annex A as the provincial platforms group them.
func DefaultRatingRules() RatingRules {
	return RatingRules{
		Timeout: 3 * time.Minute,
		Reasons: []Reason{
			{"attitude", "服务态度不好"},
			{"efficiency", "办事效率低"},
			{"not_informed", "未一次性告知"},
			{"process", "流程繁琐、材料多"},
			{"waiting", "等候时间长"},
			{"environment", "环境设施差"},
			{"integrity", "存在吃拿卡要"},
			{"other", "其他"},
		},
	}
}

// Limits of the rating configuration and commands.
const (
	MaxReasons     = 32 // reasons in RatingRules
	MaxReasonLabel = 32 // characters of a reason's label
	MaxCaseLen     = 64 // bytes of a case number
	minTimeout     = 10 * time.Second
	maxTimeout     = 24 * time.Hour
	maxRatingID    = 1 << 62
	ratingsVersion = 2 // configVersion / stateVersion with ratings
)

var reasonCode = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (r RatingRules) isZero() bool { return r.Timeout == 0 && len(r.Reasons) == 0 }

func (r RatingRules) validate() error {
	switch {
	case r.Timeout < 0 || r.Timeout > maxTimeout || (r.Timeout > 0 && r.Timeout < minTimeout):
		return cfgErr("ratings.timeout", "%v is not 0 (off) or in [%v, %v]", r.Timeout, minTimeout, maxTimeout)
	case len(r.Reasons) > MaxReasons:
		return cfgErr("ratings.reasons", "%d reasons (max %d)", len(r.Reasons), MaxReasons)
	case r.Timeout > 0 && len(r.Reasons) == 0:
		return cfgErr("ratings.reasons", "empty: a 差评 needs reasons to choose from")
	}
	seen := make(map[string]bool, len(r.Reasons))
	for i, x := range r.Reasons {
		f := "ratings.reasons[" + strconv.Itoa(i) + "]"
		switch {
		case !reasonCode.MatchString(x.Code):
			return cfgErr(f+".code", "%q is not 1–32 of a–z, 0–9 and _", x.Code)
		case x.Code == ReasonUnstated:
			return cfgErr(f+".code", "%q is reserved for key pads", x.Code)
		case seen[x.Code]:
			return cfgErr(f+".code", "duplicate reason %q", x.Code)
		case x.Label == "" || !utf8.ValidString(x.Label) || utf8.RuneCountInString(x.Label) > MaxReasonLabel:
			return cfgErr(f+".label", "want 1–%d characters of text", MaxReasonLabel)
		}
		seen[x.Code] = true
	}
	return nil
}

func (r RatingRules) clone() RatingRules {
	r.Reasons = slices.Clone(r.Reasons)
	return r
}

func (r RatingRules) encode(w *wbuf) {
	w.dur(r.Timeout)
	w.uvarint(uint64(len(r.Reasons)))
	for _, x := range r.Reasons {
		w.str(x.Code)
		w.str(x.Label)
	}
}

func decodeRatingRules(r *rbuf) RatingRules {
	var out RatingRules
	out.Timeout = r.dur()
	if n := r.count(2); n > 0 {
		out.Reasons = make([]Reason, n)
		for i := range out.Reasons {
			out.Reasons[i] = Reason{Code: r.str(), Label: r.str()}
		}
	}
	return out
}

// hasReason reports whether code is one of the configured reasons.
func (r RatingRules) hasReason(code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

// RatingCounts are the day's ratings of a window, a service or a staff
// member (Counters.Ratings).
type RatingCounts struct {
	Requested int    // requests made (EvRatingRequested)
	Grades    [5]int // ratings given, by grade: [0] 非常满意 … [4] 非常不满意
	NotRated  int    // requests closed without a rating (timeout, day reset)
}

// Given returns the number of ratings given.
func (c RatingCounts) Given() int {
	n := 0
	for _, v := range c.Grades {
		n += v
	}
	return n
}

// Satisfied returns the ratings 非常满意, 满意 and 基本满意.
func (c RatingCounts) Satisfied() int { return c.Grades[0] + c.Grades[1] + c.Grades[2] }

// Bad returns the 差评: 不满意 and 非常不满意.
func (c RatingCounts) Bad() int { return c.Grades[3] + c.Grades[4] }

// Pending returns the requests still open.
func (c RatingCounts) Pending() int { return c.Requested - c.Given() - c.NotRated }

// SatisfactionRate returns (非常满意 + 满意 + 基本满意) ÷ ratings given, the
// satisfaction (满意度) DB43/T 2422 part 6 §5 sets at 95 % or more. Requests
// not rated are not in it (they are in NotRatedRate). ok is false when
// nothing was rated.
func (c RatingCounts) SatisfactionRate() (rate float64, ok bool) {
	if g := c.Given(); g > 0 {
		return float64(c.Satisfied()) / float64(g), true
	}
	return 0, false
}

// NotRatedRate returns the 未评率: requests not rated ÷ requests made.
// Requests still open count in the divisor only, so the rate is final once
// none is open (at the latest at the day reset). ok is false without
// requests.
func (c RatingCounts) NotRatedRate() (rate float64, ok bool) {
	if c.Requested > 0 {
		return float64(c.NotRated) / float64(c.Requested), true
	}
	return 0, false
}

// RatingView is an open rating request.
type RatingView struct {
	ID                     RatingID
	Ticket                 TicketID
	Number                 string
	Service, Window, Staff string
	Case                   string // 办件编号, "" when none was set
	RequestedAt, Due       time.Time
}

// ratingRun is the rating state of the hall.
type ratingRun struct {
	last    RatingID        // last request ID used
	pending []pendingRating // open requests, by ID
	cases   []caseEntry     // case numbers set on tickets at a window, by ticket then window
	closed  []closedRating  // the last closed request of each window, by window
}

type pendingRating struct {
	id                             RatingID
	ticket                         TicketID
	number, service, window, staff string
	caseNo                         string
	at, due                        time.Time
}

type caseEntry struct {
	ticket TicketID
	window string
	caseNo string
}

type closedRating struct {
	window string
	id     RatingID
	given  bool
}

func (r *ratingRun) clone() ratingRun {
	return ratingRun{last: r.last, pending: slices.Clone(r.pending), cases: slices.Clone(r.cases),
		closed: slices.Clone(r.closed)}
}

// inUse reports whether ratings ever changed the state: then snapshots
// carry the rating section.
func (r *ratingRun) inUse() bool {
	return r.last != 0 || len(r.pending) > 0 || len(r.cases) > 0 || len(r.closed) > 0
}

func (r *ratingRun) findPending(id RatingID) int {
	i := sort.Search(len(r.pending), func(i int) bool { return r.pending[i].id >= id })
	if i < len(r.pending) && r.pending[i].id == id {
		return i
	}
	return -1
}

// newestPending returns the index of the newest open request at window, or
// -1.
func (r *ratingRun) newestPending(window string) int {
	for i := len(r.pending) - 1; i >= 0; i-- {
		if r.pending[i].window == window {
			return i
		}
	}
	return -1
}

func (r *ratingRun) findCase(ticket TicketID, window string) (int, bool) {
	i := sort.Search(len(r.cases), func(i int) bool {
		c := r.cases[i]
		return c.ticket > ticket || (c.ticket == ticket && c.window >= window)
	})
	return i, i < len(r.cases) && r.cases[i].ticket == ticket && r.cases[i].window == window
}

func (r *ratingRun) caseOf(ticket TicketID, window string) string {
	if i, ok := r.findCase(ticket, window); ok {
		return r.cases[i].caseNo
	}
	return ""
}

func (r *ratingRun) lastClosed(window string) (closedRating, bool) {
	i := sort.Search(len(r.closed), func(i int) bool { return r.closed[i].window >= window })
	if i < len(r.closed) && r.closed[i].window == window {
		return r.closed[i], true
	}
	return closedRating{}, false
}

func (r *ratingRun) setClosed(c closedRating) {
	i := sort.Search(len(r.closed), func(i int) bool { return r.closed[i].window >= c.window })
	if i < len(r.closed) && r.closed[i].window == c.window {
		r.closed[i] = c
		return
	}
	r.closed = slices.Insert(r.closed, i, c)
}

// pruneCases drops the case numbers of tickets the hall no longer holds
// (after the day reset).
func (h *Hall) pruneCases() {
	h.rating.cases = slices.DeleteFunc(h.rating.cases, func(c caseEntry) bool { return h.find(c.ticket) < 0 })
	if len(h.rating.cases) == 0 {
		h.rating.cases = nil
	}
}

func (p *pendingRating) view() RatingView {
	return RatingView{ID: p.id, Ticket: p.ticket, Number: p.number, Service: p.service, Window: p.window,
		Staff: p.staff, Case: p.caseNo, RequestedAt: p.at, Due: p.due}
}

// PendingRatings returns the open rating requests, oldest first.
func (h *Hall) PendingRatings() []RatingView {
	out := make([]RatingView, len(h.rating.pending))
	for i := range h.rating.pending {
		out[i] = h.rating.pending[i].view()
	}
	return out
}

// PendingRating returns the newest open request at window: the one OpRate
// without a Rating closes.
func (h *Hall) PendingRating(window string) (RatingView, bool) {
	if i := h.rating.newestPending(window); i >= 0 {
		return h.rating.pending[i].view(), true
	}
	return RatingView{}, false
}

// ---- Decide ----

// resetDue reports whether the day reset is due at now.
func (h *Hall) resetDue(now time.Time) bool {
	return h.configured && (h.day == 0 || !now.Before(h.nextReset))
}

// ratingExpiry returns EvRatingNotRated for every open request whose
// deadline has passed at now (reason "timeout") and, when the day reset is
// due, for every other open request too (reason "day_reset"), by ID. They
// come before the day reset and the command's own events.
func (h *Hall) ratingExpiry(now time.Time) []Event {
	if len(h.rating.pending) == 0 {
		return nil
	}
	reset := h.resetDue(now)
	var evs []Event
	for i := range h.rating.pending {
		p := &h.rating.pending[i]
		reason := "timeout"
		if now.Before(p.due) {
			if !reset {
				continue
			}
			reason = "day_reset"
		}
		evs = append(evs, Event{Type: EvRatingNotRated, At: now, Rating: p.id, Ticket: p.ticket, Number: p.number,
			Service: p.service, Window: p.window, Staff: p.staff, Case: p.caseNo, Reason: reason})
	}
	return evs
}

// ratingRequest returns the rating request caused by ev, the event ending
// the service of t at window wi, or nothing (see the rules above).
func (h *Hall) ratingRequest(t *ticket, wi int, ev *Event, now time.Time) []Event {
	timeout := h.cfg.Ratings.Timeout
	if timeout <= 0 {
		return nil
	}
	switch ev.Type {
	case EvTicketFinished, EvTicketReturned:
	case EvTicketTransferred:
		if t.state != Serving || ev.Return {
			return nil
		}
	default:
		return nil
	}
	window := h.cfg.Windows[wi].ID
	return []Event{{Type: EvRatingRequested, At: now, Rating: h.rating.last + 1, Ticket: t.id, Number: t.number,
		Service: t.service, Window: window, Staff: h.wins[wi].staff, Case: h.rating.caseOf(t.id, window),
		Due: now.Add(timeout)}}
}

func (h *Hall) decideRate(cmd *Command, now time.Time) ([]Event, error) {
	wi, err := h.window(cmd.Window)
	if err != nil {
		return nil, err
	}
	r := &h.rating
	i := -1
	if cmd.Rating != 0 {
		i = r.findPending(cmd.Rating)
		if i >= 0 && r.pending[i].window != cmd.Window {
			return nil, errf(ErrBadState, "rating %d was requested at window %s, not %s", cmd.Rating,
				h.winName(h.winIdx[r.pending[i].window]), h.winName(wi))
		}
		if i < 0 {
			if c, ok := r.lastClosed(cmd.Window); ok && c.id == cmd.Rating && !c.given {
				return nil, errf(ErrNoRating, "rating %d at window %s timed out", cmd.Rating, h.winName(wi))
			}
			if cmd.Rating <= r.last {
				return nil, errf(ErrRatingClosed, "rating %d is already closed", cmd.Rating)
			}
			return nil, errf(ErrNoRating, "no rating %d", cmd.Rating)
		}
	} else if i = r.newestPending(cmd.Window); i < 0 {
		if c, ok := r.lastClosed(cmd.Window); ok {
			if c.given {
				return nil, errf(ErrRatingClosed, "window %s: the last service was already rated", h.winName(wi))
			}
			return nil, errf(ErrNoRating, "window %s: the rating request timed out", h.winName(wi))
		}
		return nil, errf(ErrNoRating, "window %s has no rating request", h.winName(wi))
	}
	if !cmd.Grade.Valid() {
		return nil, errf(ErrInvalid, "grade %d is not 1 (非常满意) … 5 (非常不满意)", cmd.Grade)
	}
	if cmd.Source == "" {
		return nil, errf(ErrInvalid, "a rating needs its source (the pad kind)")
	}
	reasons, err := h.rateReasons(cmd)
	if err != nil {
		return nil, err
	}
	p := &r.pending[i]
	return []Event{{Type: EvRatingGiven, At: now, Rating: p.id, Ticket: p.ticket, Number: p.number,
		Service: p.service, Window: p.window, Staff: p.staff, Case: p.caseNo, Grade: cmd.Grade, Reasons: reasons}}, nil
}

// rateReasons checks and completes the reasons of OpRate.
func (h *Hall) rateReasons(cmd *Command) ([]string, error) {
	rules := h.cfg.Ratings
	reasons := slices.Clone(cmd.Reasons)
	if !cmd.Grade.Bad() {
		if len(reasons) > 0 {
			return nil, errf(ErrInvalid, "reasons are given with a 差评 only, not with %s", cmd.Grade.Label())
		}
		return nil, nil // a reason number typed before a good grade is ignored
	}
	if n := cmd.ReasonNumber; n != 0 {
		if n < 0 || n > len(rules.Reasons) {
			return nil, errf(ErrInvalid, "reason number %d is not 1–%d", n, len(rules.Reasons))
		}
		if code := rules.Reasons[n-1].Code; !slices.Contains(reasons, code) {
			reasons = append(reasons, code)
		}
	}
	if len(reasons) == 0 {
		if cmd.Source != PadKeys {
			return nil, errf(ErrInvalid, "a 差评 (%s) needs at least one reason", cmd.Grade.Label())
		}
		return []string{ReasonUnstated}, nil
	}
	if len(reasons) > max(len(rules.Reasons), 1) {
		return nil, errf(ErrInvalid, "%d reasons, at most %d", len(reasons), len(rules.Reasons))
	}
	for i, code := range reasons {
		switch {
		case code == ReasonUnstated && cmd.Source == PadKeys && len(reasons) == 1:
		case !rules.hasReason(code):
			return nil, errf(ErrInvalid, "unknown reason %q", code)
		case slices.Contains(reasons[:i], code):
			return nil, errf(ErrInvalid, "reason %q given twice", code)
		}
	}
	return reasons, nil
}

func (h *Hall) decideSetCase(cmd *Command, now time.Time) ([]Event, error) {
	wi, err := h.window(cmd.Window)
	if err != nil {
		return nil, err
	}
	if err := checkCase(cmd.Case); err != nil {
		return nil, err
	}
	w := &h.wins[wi]
	if t := h.ticket(w.current); t != nil {
		return []Event{{Type: EvCaseSet, At: now, Ticket: t.id, Number: t.number, Service: t.service,
			Window: cmd.Window, Staff: w.staff, Case: cmd.Case}}, nil
	}
	if i := h.rating.newestPending(cmd.Window); i >= 0 {
		p := &h.rating.pending[i]
		return []Event{{Type: EvCaseSet, At: now, Rating: p.id, Ticket: p.ticket, Number: p.number,
			Service: p.service, Window: p.window, Staff: p.staff, Case: cmd.Case}}, nil
	}
	return nil, errf(ErrNoCurrent, "window %s has no current ticket and no rating request for a case number", h.winName(wi))
}

// checkCase checks a case number: printable text of at most MaxCaseLen
// bytes.
func checkCase(c string) error {
	if c == "" || len(c) > MaxCaseLen || !utf8.ValidString(c) {
		return errf(ErrInvalid, "case number must be 1–%d bytes of text", MaxCaseLen)
	}
	for _, r := range c {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return errf(ErrInvalid, "case number %q has a space or control character", c)
		}
	}
	return nil
}

// ---- Apply ----

func (h *Hall) applyRating(e *Event) error {
	r := &h.rating
	switch e.Type {
	case EvRatingRequested:
		switch {
		case h.day == 0:
			return applyErr(e, "no business day started")
		case e.Rating <= r.last || e.Rating >= maxRatingID:
			return applyErr(e, "rating %d not after %d", e.Rating, r.last)
		case e.Ticket == 0 || e.Number == "" || e.Service == "" || e.Window == "":
			return applyErr(e, "request without ticket, service or window")
		case !e.Due.After(e.At):
			return applyErr(e, "due %v not after %v", e.Due, e.At)
		}
		p := pendingRating{id: e.Rating, ticket: e.Ticket, number: e.Number, service: e.Service,
			window: e.Window, staff: e.Staff, caseNo: e.Case, at: e.At, due: e.Due.UTC()}
		r.last = e.Rating
		r.pending = append(r.pending, p)
		if i, ok := r.findCase(e.Ticket, e.Window); ok {
			r.cases = slices.Delete(r.cases, i, i+1)
		}
		for _, c := range h.countersFor(p.window, p.staff, p.service) {
			c.Ratings.Requested++
		}
		return nil
	case EvRatingGiven, EvRatingNotRated:
		i := r.findPending(e.Rating)
		if i < 0 || r.pending[i].window != e.Window {
			return applyErr(e, "no open rating %d at window %q", e.Rating, e.Window)
		}
		if e.Type == EvRatingGiven && !e.Grade.Valid() {
			return applyErr(e, "grade %d", e.Grade)
		}
		p := r.pending[i]
		r.pending = slices.Delete(r.pending, i, i+1)
		if len(r.pending) == 0 {
			r.pending = nil
		}
		r.setClosed(closedRating{window: p.window, id: p.id, given: e.Type == EvRatingGiven})
		for _, c := range h.countersFor(p.window, p.staff, p.service) {
			if e.Type == EvRatingGiven {
				c.Ratings.Grades[e.Grade-1]++
			} else {
				c.Ratings.NotRated++
			}
		}
		return nil
	case EvCaseSet:
		if e.Case == "" {
			return applyErr(e, "empty case number")
		}
		if e.Rating != 0 {
			i := r.findPending(e.Rating)
			if i < 0 || r.pending[i].window != e.Window {
				return applyErr(e, "no open rating %d at window %q", e.Rating, e.Window)
			}
			r.pending[i].caseNo = e.Case
			return nil
		}
		wi, ok := h.winIdx[e.Window]
		if !ok || e.Ticket == 0 || h.wins[wi].current != e.Ticket {
			return applyErr(e, "ticket %d is not current at window %q", e.Ticket, e.Window)
		}
		if i, ok := r.findCase(e.Ticket, e.Window); ok {
			r.cases[i].caseNo = e.Case
		} else {
			r.cases = slices.Insert(r.cases, i, caseEntry{ticket: e.Ticket, window: e.Window, caseNo: e.Case})
		}
		return nil
	}
	return applyErr(e, "not a rating event")
}

// checkRatings verifies the rating state: ordered lists, IDs issued, and
// the open requests equal to the requests counted but not closed.
func (h *Hall) checkRatings() error {
	r := &h.rating
	for i, p := range r.pending {
		switch {
		case p.id == 0 || p.id > r.last || (i > 0 && p.id <= r.pending[i-1].id):
			return fmt.Errorf("rating %d out of order (last %d)", p.id, r.last)
		case p.window == "" || p.service == "" || p.ticket == 0:
			return fmt.Errorf("rating %d without window, service or ticket", p.id)
		case !p.due.After(p.at):
			return fmt.Errorf("rating %d due before it was requested", p.id)
		}
	}
	for i, c := range r.cases {
		if i > 0 {
			prev := r.cases[i-1]
			if c.ticket < prev.ticket || (c.ticket == prev.ticket && c.window <= prev.window) {
				return errors.New("case numbers out of order")
			}
		}
		if c.caseNo == "" || h.find(c.ticket) < 0 {
			return fmt.Errorf("case number of ticket %d: empty or for an unknown ticket", c.ticket)
		}
	}
	for i, c := range r.closed {
		if (i > 0 && c.window <= r.closed[i-1].window) || c.id == 0 || c.id > r.last {
			return errors.New("closed ratings out of order")
		}
	}
	open := 0
	for _, c := range h.stats.windows {
		if c.Ratings.Pending() < 0 {
			return errors.New("more ratings closed than requested")
		}
		open += c.Ratings.Pending()
	}
	if open != len(r.pending) {
		return fmt.Errorf("%d rating requests open, counters say %d", len(r.pending), open)
	}
	return nil
}

// ---- Snapshot ----

func (h *Hall) encodeRatings(w *wbuf) {
	r := &h.rating
	w.uvarint(uint64(r.last))
	w.uvarint(uint64(len(r.pending)))
	for _, p := range r.pending {
		w.uvarint(uint64(p.id))
		w.uvarint(uint64(p.ticket))
		w.str(p.number)
		w.str(p.service)
		w.str(p.window)
		w.str(p.staff)
		w.str(p.caseNo)
		w.time(p.at)
		w.time(p.due)
	}
	w.uvarint(uint64(len(r.cases)))
	for _, c := range r.cases {
		w.uvarint(uint64(c.ticket))
		w.str(c.window)
		w.str(c.caseNo)
	}
	w.uvarint(uint64(len(r.closed)))
	for _, c := range r.closed {
		w.str(c.window)
		w.uvarint(uint64(c.id))
		w.bool(c.given)
	}
	for _, m := range []map[string]*Counters{h.stats.windows, h.stats.services, h.stats.staff} {
		keys := make([]string, 0, len(m))
		for k, c := range m {
			if c.Ratings != (RatingCounts{}) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		w.uvarint(uint64(len(keys)))
		for _, k := range keys {
			c := m[k].Ratings
			w.str(k)
			w.int(c.Requested)
			for _, v := range c.Grades {
				w.int(v)
			}
			w.int(c.NotRated)
		}
	}
}

func (h *Hall) decodeRatings(r *rbuf) error {
	x := &h.rating
	x.last = RatingID(r.uvarint())
	if n := r.count(12); n > 0 {
		x.pending = make([]pendingRating, n)
		for i := range x.pending {
			p := &x.pending[i]
			p.id, p.ticket = RatingID(r.uvarint()), TicketID(r.uvarint())
			p.number, p.service, p.window, p.staff, p.caseNo = r.str(), r.str(), r.str(), r.str(), r.str()
			p.at, p.due = r.time(), r.time()
		}
	}
	if n := r.count(3); n > 0 {
		x.cases = make([]caseEntry, n)
		for i := range x.cases {
			x.cases[i] = caseEntry{ticket: TicketID(r.uvarint()), window: r.str(), caseNo: r.str()}
		}
	}
	if n := r.count(3); n > 0 {
		x.closed = make([]closedRating, n)
		for i := range x.closed {
			x.closed[i] = closedRating{window: r.str(), id: RatingID(r.uvarint()), given: r.bool()}
		}
	}
	for _, m := range []map[string]*Counters{h.stats.windows, h.stats.services, h.stats.staff} {
		n := r.count(8)
		prev := ""
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			c, ok := m[k]
			switch {
			case i > 0 && k <= prev:
				return errors.New("rating statistics not in canonical order")
			case !ok && r.err == nil:
				return fmt.Errorf("rating statistics for %q without its counters", k)
			}
			prev = k
			if c == nil {
				break
			}
			c.Ratings.Requested = r.int()
			for j := range c.Ratings.Grades {
				c.Ratings.Grades[j] = r.int()
			}
			c.Ratings.NotRated = r.int()
			if c.Ratings == (RatingCounts{}) && r.err == nil {
				return errors.New("empty rating statistics stored")
			}
		}
	}
	if r.err == nil && !x.inUse() {
		return errors.New("rating section without ratings")
	}
	return nil
}
