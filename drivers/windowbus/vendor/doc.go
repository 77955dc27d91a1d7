// Package vendor is the window bus in a vendor framed protocol of the kind
// queue-system terminals use on RS-485 (a DL/T 645-like layout, as in
// 21-key callers' sheets): every frame, in both directions, is
//
//	FF 68 L L 68 ADDR CMD DATA… SUM 16
//
// with L the number of bytes from ADDR to the end of DATA (2–255), the
// length repeated for safety, and SUM the low byte of the arithmetic sum of
// ADDR, CMD and DATA. The FF preamble wakes sleeping receivers and is
// optional on input. A reply carries CMD|0x80, an error reply CMD|0xC0 with
// one error code byte. Numbers are big-endian. Commands, payloads and worked
// frames are in docs/window-bus.md; the key FIFO and acknowledge rule are
// the same as in the Modbus register map.
//
// Unlike Modbus RTU the frame delimits itself, so there is no t3.5 silence:
// a terminal answers no sooner than Turnaround after a request, and the
// master leaves the same gap after a reply before its next request, for the
// RS-485 transceivers to turn around.
package vendor
