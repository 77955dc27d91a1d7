// Package serialio reads whole frames from a serial line under an explicit
// deadline.
//
// A serial port opened with a read timeout (go.bug.st/serial on Unix) returns
// (0, nil) when the timeout expires, so io.ReadFull would loop forever on a
// silent device. The functions here loop on short reads until the frame is
// complete or the deadline, measured on an injected clock, has passed. They
// work on any io.Reader: a real port, a pseudo-terminal or a test pipe.
package serialio
