// Package simwire gives device emulators what a real serial line has and a
// pseudo-terminal lacks.
//
// Every emulator under drivers/<protocol>/<protocol>sim opens a PTY, keeps the
// master side and hands the slave path to the driver under test, so the driver
// goes through the same termios and go.bug.st/serial code as on a real
// /dev/ttyUSB0. A pty moves bytes instantly and ignores the baud rate, so an
// emulator that wants honest timing paces what it sends and what it receives
// with a Line.
//
// The pty helpers only build on Linux-like systems that have /dev/ptmx.
package simwire
