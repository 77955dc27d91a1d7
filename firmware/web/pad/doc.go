// Package pad serves the tablet evaluation pad (评价器) at each window:
// GET /pad/{window}/ shows the staff member signed in there — name, number
// and photo, as the staff notice of DB43/T 2422 part 1 §5.5.5 — and the
// window's state (paused with its reason, closed). When a service ends and
// the hall requests a rating (hall.EvRatingRequested) the page asks for one
// of the five grades of GB/T 39734 with big buttons, then for the reasons
// of a 差评 (the configured list), sends the rating over its WebSocket
// (hall.OpRate from hall.PadTablet), thanks the citizen and returns to the
// staff card. A request not rated in time is closed by the hall and the
// page returns to the staff card too.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary, with
// no outside resources. The WebSocket (github.com/coder/websocket) follows
// the gateway's feed, so the page only sees what is durable; its messages
// are in docs/ratings.md.
package pad
