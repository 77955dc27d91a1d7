// Package drycontact reads a UPS's dry-contact (relay) outputs: "on battery"
// (utility fail) and "low battery", the two signals almost every UPS's
// AS/400-style interface card or relay board gives, wired to two GPIO inputs
// of the gateway.
//
// Each input is a periph gpio.PinIn set to interrupt on both edges. A
// goroutine per pin blocks in WaitForEdge: it wakes on the edge itself, not
// on a polling tick, then waits until the pin has been quiet for the
// debounce time (20 ms by default; relay contacts bounce for a few ms) and
// reports the settled level as an Event stamped with the time of the first
// edge. A bounce that settles back where it started reports nothing. The
// daemon therefore sees "on battery" about Debounce after the relay moves,
// well inside the 100 ms it is allowed; the serial Q1 poll, at most once a
// second, confirms it and adds the details.
//
// The contact's active level is configurable per input (a relay closing to
// ground with a pull-up reads Low when active, the default). Clock is
// injected for the timestamps; tests drive periph's gpiotest.Pin.
package drycontact
