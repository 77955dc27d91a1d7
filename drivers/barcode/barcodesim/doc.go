// Package barcodesim emulates a serial barcode / QR scanner on a
// pseudo-terminal: every scan goes out as one line, with the configured
// prefix, AIM identifier and suffix, at the pace of a real line.
//
// `hallgw sim barcode` runs it and sends each line of its standard input as a
// scan.
package barcodesim
