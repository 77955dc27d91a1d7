// Package bussim emulates the devices on a window bus — keypad/bar
// terminals and hall displays — for tests, benchmarks and `hallgw sim bus`.
//
// A Sim serves one port (normally the master side of a simwire.PTY, so the
// driver under test opens the slave path like a real /dev/ttyUSB0) in
// either protocol of docs/window-bus.md: Modbus RTU with the window-bus
// register map, or the vendor frame FF 68 L L 68 … SUM 16.
//
// Timing is that of a real line: a request occupies the wire for its length
// at the configured baud (simwire.Line), the device answers after the
// protocol's silence (t3.5 for Modbus RTU, the vendor turnaround) and its
// reply occupies the wire likewise before it is written in one piece. A
// write takes effect, and Opts.OnShow fires, at the moment its last byte
// has crossed the wire. Press records the press time, so a benchmark can
// measure press-to-display latency honestly.
//
// Requests are framed by length from the function code (Modbus) or by the
// frame's own length field (vendor); input that cannot be framed is dropped
// after a silence, as a real receiver resynchronises on the t3.5 gap.
// Faults for tests: a device can be muted, drop its next replies, answer
// garbled, append noise, or reboot.
package bussim
