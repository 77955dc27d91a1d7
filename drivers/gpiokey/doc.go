// Package gpiokey reads call buttons wired straight to the gateway board's
// GPIO pins (a window without a bus keypad, a "call next" foot switch) and
// reports them as windowbus.Press values, like the window bus.
//
// Each button is a periph gpio.PinIn, by default with the internal pull-up
// and the switch to ground (pressed = low). Contacts bounce for a few
// milliseconds; a change counts only once the line has been quiet for
// Opts.Debounce, so a bouncing press is one press and a bounce on release
// is none. With Button.LongKey set, a press held for Opts.LongPress reports
// LongKey instead of Key (for example recall on a long press of call).
//
// Presses are never dropped: the watcher blocks until the consumer takes
// each one. The clock is injected (clockwork), which makes the debounce
// testable with periph's gpiotest.Pin without real sleeps. On the board the
// pins come from Open, which initialises periph's host drivers.
package gpiokey
