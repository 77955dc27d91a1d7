// Package hall holds the rules of a government service hall: services and
// their ticket numbering, windows, calling, transfers, holds, no-shows,
// priorities (the green channel and appointments), wait estimates and the
// day's statistics.
//
// The package is pure and deterministic. It does no I/O, starts no
// goroutines and never reads the clock: every operation is given `now`. The
// state holds no floating point and never depends on map iteration order,
// so replaying the same events on any architecture gives bit-identical
// state (compare with Digest).
//
// # Event sourcing
//
// A Hall changes only through events:
//
//   - Decide validates a Command against the current state and returns the
//     events it causes, without changing anything. Every decided value (the
//     ticket number, the ticket chosen by "call next", the estimate, the
//     priority and its reason) is carried in the events.
//   - Apply changes the state from one event. It is the only mutator and is
//     used both live and when replaying the journal; it never re-decides.
//
// The daemon calls Decide, journals the events (Event.MarshalBinary), applies
// them and only then tells the devices. After a restart it replays the
// journal into New(Config{}), whose first event is EvConfigApplied, or
// restores a snapshot taken with MarshalState.
//
// # Rules followed
//
// The hall follows the provincial standard DB43/T 2422 (政务服务中心管理规范):
// window kinds of part 1 §5.4.3 (综合受理, 综合出件, 分领域, 帮（代）办,
// 跨域通办, "办不成事", 投诉, 政务公开), appointments of part 3 §6.3 and the
// calling service of part 3 §6.4: calls balance the load of the windows
// (§6.4.1), tickets carry the people ahead (等待序数, §6.4.3) and EvTurnNear
// lets the platform remind the citizen by SMS (§6.4.4).
//
// Call next takes, across the services of the window: tickets transferred or
// returned to that window (oldest first), then checked-in appointments (by
// slot start), then the green channel (by issue time), then normal tickets.
// Among services, normal tickets go to the service whose head ticket has the
// largest score = wait of the head × waiting count ÷ open windows serving
// it. A window that made Rules.PriorityRatio priority calls in a row calls a
// normal ticket next if one is waiting, so normal tickets never starve.
//
// Wait estimates use the queue-length estimator, (people ahead + 1) × mean
// service time ÷ the windows serving the service, with a per-service integer
// EWMA of the service time. Only open, unpaused windows count, and a window
// shared with other services counts for the share of its waiting work that
// is this service's (a window whose other queues are empty counts whole):
// plain "÷ open windows" under-predicted most waits where windows serve two
// or three services. Estimates are shown as a range of whole minutes
// (±20 %, at least one minute). The estimate made at issue is compared with the actual wait
// when the ticket is first called (Stats.Accuracy).
//
// The business day starts at Rules.ResetAt local time (Config.Location).
// Decide emits the day reset itself when `now` has passed the boundary:
// tickets still waiting, called or held expire (unless Rules.CarryOver),
// no-shows always expire, numbering restarts and today's statistics are
// cleared. Finished and expired tickets of earlier days are dropped from the
// state at the reset, so the state stays the size of one day.
//
// # Ratings
//
// When Config.Ratings is set, every service that ends at a window asks for
// a rating (好差评, "一次一评", DB43/T 2422 part 7 §8.2 after GB/T 39734):
// EvRatingRequested carries the ticket, service, window, staff member and
// case number (OpSetCase). OpRate closes it with one of five grades (a 差评,
// the bottom two, with reasons from the configured list); a request left
// open past RatingRules.Timeout, or at the day reset, is closed as not
// rated, never as satisfied. Counters.Ratings holds the day's counts per
// window, service and staff member; rating.go has the details.
package hall
