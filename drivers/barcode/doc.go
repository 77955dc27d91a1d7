// Package barcode reads a serial barcode / QR scanner and classifies what it
// scans.
//
// Serial scanners (RS-232, or USB in CDC/virtual-COM mode) send each code as
// one line of text: an optional programmed prefix, an optional AIM
// symbology identifier (ISO/IEC 15424: "]" + code character + modifier, e.g.
// "]Q1" for a QR code), the data, and a suffix, CR by factory default and
// LF, CRLF or Tab on many. A Scanner takes the port as an io.Reader (it never
// opens one), splits the stream into scans with Parser, strips the framing
// and rejects lines that are too long, hold non-printable bytes or invalid
// UTF-8, or were cut off by a pause; a bad line never holds up the next one,
// as parsing starts afresh after every terminator.
//
// ParseCode sorts a scan into an appointment QR code (HALLGW-APPT:<id>), a
// case number (办件编号) or unknown; docs/idcard.md documents both formats for
// the platform that prints them.
//
// The emulator in barcode/barcodesim sends scans on a pseudo-terminal.
package barcode
