package hall

import "strconv"

// Priority is the queueing class of a ticket.
type Priority uint8

// The priorities, in increasing precedence. PriorityAppointment is given
// only by an appointment check-in (OpCheckIn), never by OpIssue.
const (
	Normal              Priority = iota // walk-in
	Green                               // green channel (绿色通道): elderly, disabled, staff decision …
	PriorityAppointment                 // checked-in appointment within its slot
)

// Aliases with the type name in front, for call sites that prefer them.
const (
	PriorityNormal = Normal
	PriorityGreen  = Green
)

var priorityNames = [...]string{"normal", "green", "appointment"}

// String returns "normal", "green" or "appointment".
func (p Priority) String() string {
	if int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "priority(" + strconv.Itoa(int(p)) + ")"
}

// Valid reports whether p is one of the defined priorities.
func (p Priority) Valid() bool { return p <= PriorityAppointment }

// WindowKind is the kind of a window in the window service area (窗口服务区)
// of DB43/T 2422 part 1 §5.4.3.
type WindowKind string

// The window kinds. The value is the snake_case name used in the
// configuration file.
const (
	KindIntake      WindowKind = "intake"       // 综合受理
	KindDelivery    WindowKind = "delivery"     // 综合出件
	KindDomain      WindowKind = "domain"       // 分领域
	KindAssisted    WindowKind = "assisted"     // 帮（代）办
	KindCrossRegion WindowKind = "cross_region" // 跨省通办 / 省内通办
	KindUnresolved  WindowKind = "unresolved"   // "办不成事"反映
	KindComplaint   WindowKind = "complaint"    // 投诉
	KindDisclosure  WindowKind = "disclosure"   // 政务公开
)

var windowKinds = []struct {
	kind  WindowKind
	label string
}{
	{KindIntake, "综合受理"},
	{KindDelivery, "综合出件"},
	{KindDomain, "分领域综合"},
	{KindAssisted, "帮（代）办"},
	{KindCrossRegion, "跨域通办"},
	{KindUnresolved, "“办不成事”反映"},
	{KindComplaint, "投诉受理"},
	{KindDisclosure, "政务公开"},
}

// WindowKinds returns every defined window kind, in the order of the
// standard.
func WindowKinds() []WindowKind {
	out := make([]WindowKind, len(windowKinds))
	for i, k := range windowKinds {
		out[i] = k.kind
	}
	return out
}

// Label returns the Chinese label of the kind shown on displays, or "" for
// an unknown kind.
func (k WindowKind) Label() string {
	for _, w := range windowKinds {
		if w.kind == k {
			return w.label
		}
	}
	return ""
}

// Valid reports whether k is one of the defined kinds.
func (k WindowKind) Valid() bool { return k.Label() != "" }

// TicketID identifies a ticket for the life of the hall; IDs are never
// reused, across days either.
type TicketID uint64

// TicketState is where a ticket is in its life.
type TicketState uint8

// The ticket states.
const (
	Waiting  TicketState = iota // in a service queue or addressed to a window
	Called                      // current at a window, citizen called
	Serving                     // current at a window, service started
	Held                        // parked at a window (citizen fetches a document)
	NoShow                      // skipped (过号); may be reactivated
	Finished                    // served
	Expired                     // dropped at the day reset or by a configuration change
)

var ticketStateNames = [...]string{"waiting", "called", "serving", "held", "no_show", "finished", "expired"}

// String returns the snake_case name of the state.
func (s TicketState) String() string {
	if int(s) < len(ticketStateNames) {
		return ticketStateNames[s]
	}
	return "ticket_state(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether a ticket in state s can no longer change.
func (s TicketState) Terminal() bool { return s == Finished || s == Expired }

// WindowState is whether a window is staffed and calling.
type WindowState uint8

// The window states.
const (
	Closed WindowState = iota // nobody signed in
	Open                      // staffed, can call
	Paused                    // staffed, on a break with a reason; cannot call
)

var windowStateNames = [...]string{"closed", "open", "paused"}

// String returns "closed", "open" or "paused".
func (s WindowState) String() string {
	if int(s) < len(windowStateNames) {
		return windowStateNames[s]
	}
	return "window_state(" + strconv.Itoa(int(s)) + ")"
}

// Op is the operation of a Command.
type Op uint8

// The operations.
const (
	OpIssue            Op = iota + 1 // walk-in ticket for a service
	OpCheckIn                        // appointment check-in (by ID or holder hash)
	OpCallNext                       // window calls the next ticket by the rules
	OpCall                           // window calls a specific waiting ticket (out of order)
	OpRecall                         // call the current ticket again
	OpStart                          // service of the current ticket starts
	OpSkip                           // current ticket did not come: no-show
	OpReactivate                     // a no-show is back: waiting again
	OpTransfer                       // current ticket to another service or window
	OpHold                           // park the current ticket at the window
	OpResume                         // make a held ticket current again
	OpPause                          // window takes a break (with a reason)
	OpUnpause                        // break over
	OpFinish                         // current ticket served
	OpOpenWindow                     // staff signs in
	OpCloseWindow                    // staff signs out
	OpSetPriority                    // staff marks a waiting ticket green (or normal)
	OpLoadAppointments               // replace the day's appointment list
	OpApplyConfig                    // replace services, windows and rules
	OpTick                           // periodic: day reset when due
	OpNotice                         // show (or clear) a notice on every display
	OpRate                           // a citizen rates the service at a window (rating.go)
	OpSetCase                        // set the case number (办件编号) of a window's service
)

var opNames = [...]string{"", "issue", "check_in", "call_next", "call", "recall", "start", "skip",
	"reactivate", "transfer", "hold", "resume", "pause", "unpause", "finish", "open_window",
	"close_window", "set_priority", "load_appointments", "apply_config", "tick", "notice", "rate", "set_case",
	"suspend_issuing", "resume_issuing"}

// String returns the snake_case name of the operation.
func (o Op) String() string {
	if o > 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// EventType is the type of an Event. The numeric values are stored in the
// journal and never change.
type EventType uint8

// The event types. Their values are fixed forever; rating events follow in
// their own file.
const (
	EvConfigApplied      EventType = iota + 1 // 1
	EvDayReset                                // 2
	EvTicketIssued                            // 3
	EvTicketCalled                            // 4
	EvTicketRecalled                          // 5
	EvServiceStarted                          // 6
	EvTicketSkipped                           // 7
	EvTicketReactivated                       // 8
	EvTicketTransferred                       // 9
	EvTicketHeld                              // 10
	EvTicketResumed                           // 11
	EvTicketFinished                          // 12
	EvTicketReturned                          // 13
	EvTicketExpired                           // 14
	EvPriorityChanged                         // 15
	EvWindowOpened                            // 16
	EvWindowClosed                            // 17
	EvWindowPaused                            // 18
	EvWindowUnpaused                          // 19
	EvTurnNear                                // 20
	EvAppointmentsLoaded                      // 21
	EvNotice                                  // 22: notice shown or cleared (notice.go)
)

var eventNames = [...]string{"", "config_applied", "day_reset", "ticket_issued", "ticket_called",
	"ticket_recalled", "service_started", "ticket_skipped", "ticket_reactivated",
	"ticket_transferred", "ticket_held", "ticket_resumed", "ticket_finished", "ticket_returned",
	"ticket_expired", "priority_changed", "window_opened", "window_closed", "window_paused",
	"window_unpaused", "turn_near", "appointments_loaded", "notice",
	"rating_requested", "rating_given", "rating_not_rated", "case_set",
	"issuing_suspended", "issuing_resumed"}

// String returns the snake_case name, e.g. "ticket_issued".
func (t EventType) String() string {
	if t > 0 && int(t) < len(eventNames) {
		return eventNames[t]
	}
	return "event_type(" + strconv.Itoa(int(t)) + ")"
}
