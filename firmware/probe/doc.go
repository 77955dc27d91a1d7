// Package probe finds out which device answers on which serial port, for
// `hallgw probe`: the installer plugs the printers, the UPS, the card readers
// and the window bus adapters in and learns where each one is and at which
// speed, with a configuration snippet to paste.
//
// Ports come from the go.bug.st/serial enumerator (with their USB vendor id,
// product id and serial number) or are named by the caller. On each port the
// known protocols are tried in a fixed order, each at the speeds its devices
// use, and the first device that answers names the port:
//
//  1. ESC/POS ticket printers: DLE EOT status (`10 04 n`) at 9600, 19200,
//     38400 and 115200 baud; a reply that passes the fixed-bit check
//     ((b & 0x93) == 0x12) is a printer (protocol notes §2.5).
//  2. Megatec Q1 UPS: "Q1" at 2400 baud, a 47-byte status line (§1).
//  3. Second-generation ID-card readers: SAM status (`AA AA AA 96 69 00 03
//     11 FF ED`) at 115200, 57600, 38400, 19200 and 9600 baud, the order of
//     the vendor SDKs' auto-detection (§3).
//  4. The window bus in Modbus RTU: the identity block (FC04 at 0x0000, 8
//     registers, docs/window-bus.md §3.3) of addresses 1…N at 9600, 19200,
//     38400 and 115200 baud, stopping at the first device that answers.
//  5. The window bus in the vendor frame: identify (`FF 68 02 02 68 ADDR 01
//     SUM 16`) of addresses 1…N at the same speeds.
//
// The printer comes first because a printer prints what it does not
// understand; the other queries are binary frames that the other devices
// ignore. Every attempt has a short deadline (a few hundred milliseconds,
// the reply's airtime included), so a silent port costs seconds, not
// minutes; ports are probed in parallel. A port that cannot be opened (busy:
// the daemon holds it) is reported, not waited for.
package probe
