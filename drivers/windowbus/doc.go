// Package windowbus drives the RS-485 window bus of a service hall: the
// keypads and LED bars at each counter window and the hall displays (综合屏)
// that show the latest calls, all on one half-duplex line with the gateway as
// the only master.
//
// The register map, the key FIFO with its acknowledge rule, the vendor frame
// and worked frames for every operation are in docs/window-bus.md; this
// package follows that document.
//
// # Layers
//
//   - Protocol and Link: one wire protocol to the terminals. The Modbus RTU
//     implementation is in windowbus/modbusrtu, a vendor framed protocol
//     (FF 68 L L 68 … SUM 16) in windowbus/vendor. Other vendors' terminals
//     plug in by implementing Link.
//   - Master: the scheduler. It polls every terminal's key FIFO in turn,
//     hands presses to the consumer exactly once (Presses), acknowledges them
//     only after the consumer took them, and interleaves display writes with
//     polls: writes caused by a press (ShowNow) go first, other writes (Show)
//     are coalesced per address and take at most Opts.WritesPerPoll turns
//     between two polls, so a broadcast to every bar never starves polling.
//   - Health: per device up/down, last seen, timeouts, checksum errors,
//     garbled bytes; a device that stops answering is polled with an
//     exponential back-off so it does not eat the cycle.
//
// The Master never opens a port: it is given an io.ReadWriter (a serial port
// opened by the supervisor, or a pseudo-terminal in tests). When the port
// fails, Run returns an error matching ErrDisconnected so the supervisor can
// reopen it and start a new Master.
//
// The emulator in windowbus/bussim speaks both protocols on a
// pseudo-terminal with true wire timing.
package windowbus
