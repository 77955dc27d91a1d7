// Package kiosk serves the page of the ticket machines (取号机), a touch
// screen in a kiosk browser, at GET /kiosk/{id}/.
//
// The page shows a button for each service with the people waiting and
// the estimated wait; a tap takes a ticket and shows it on screen (number,
// people ahead, wait range, windows) while the printer prints it, or shows
// a clear refusal (the day's tickets are gone, the printer is out of
// paper). "刷身份证" reads the citizen's ID card for the green channel and
// the appointment check-in. After a few seconds every result returns to
// the start screen. While the printer cannot print, the page shows the
// printer's message and disables the buttons.
//
// The page talks only to the kiosk's JSON endpoints under /kiosk/{id}/api/,
// which the kiosk service (firmware/frontdesk) implements; docs/kiosk.md
// is the contract between the two. This package serves the page alone.
package kiosk
