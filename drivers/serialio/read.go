package serialio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrTimeout is returned when a frame is not complete by its deadline.
var ErrTimeout = errors.New("serialio: timeout")

// Clock returns the current time; tests inject a fake one.
type Clock func() time.Time

// maxIdleSpins bounds how many (0, nil) reads in a row are tolerated when the
// clock does not advance (a fake clock in a test), so a silent reader cannot
// spin forever.
const maxIdleSpins = 1 << 16

// TimeoutError reports how much of a frame had arrived when time ran out.
type TimeoutError struct {
	Want, Got int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("serialio: timeout after %d of %d bytes", e.Got, e.Want)
}

// Is lets errors.Is(err, ErrTimeout) match.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// ReadFull reads exactly len(p) bytes before deadline. On timeout it returns
// the number of bytes read and an error matching ErrTimeout.
func ReadFull(r io.Reader, p []byte, deadline time.Time, now Clock) (int, error) {
	if now == nil {
		now = time.Now
	}
	n, idle := 0, 0
	for n < len(p) {
		if !now().Before(deadline) || idle > maxIdleSpins {
			return n, &TimeoutError{Want: len(p), Got: n}
		}
		m, err := r.Read(p[n:])
		n += m
		if m > 0 {
			idle = 0
		} else {
			idle++
		}
		if err != nil {
			if isTimeout(err) {
				continue
			}
			if err == io.EOF && n < len(p) {
				return n, io.ErrUnexpectedEOF
			}
			if n == len(p) {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}

// ReadUntil reads until delim (included in the result) or until max bytes,
// whichever comes first, before deadline. It reads one byte at a time so that
// nothing after delim is consumed.
func ReadUntil(r io.Reader, delim byte, max int, deadline time.Time, now Clock) ([]byte, error) {
	if now == nil {
		now = time.Now
	}
	out := make([]byte, 0, 64)
	var b [1]byte
	idle := 0
	for len(out) < max {
		if !now().Before(deadline) || idle > maxIdleSpins {
			return out, &TimeoutError{Want: max, Got: len(out)}
		}
		m, err := r.Read(b[:])
		if m == 1 {
			idle = 0
			out = append(out, b[0])
			if b[0] == delim {
				return out, nil
			}
		} else {
			idle++
		}
		if err != nil {
			if isTimeout(err) {
				continue
			}
			if err == io.EOF {
				return out, io.ErrUnexpectedEOF
			}
			return out, err
		}
	}
	return out, fmt.Errorf("serialio: no %#02x within %d bytes", delim, max)
}

// Drain discards whatever is waiting to be read, for at most d: drivers call it
// before a request so that a late reply to an earlier one is not mistaken for
// the answer (NUT's ser_flush_io does the same).
func Drain(r io.Reader, d time.Duration, now Clock) int {
	if now == nil {
		now = time.Now
	}
	deadline := now().Add(d)
	var buf [256]byte
	total := 0
	for now().Before(deadline) {
		m, err := r.Read(buf[:])
		total += m
		if m == 0 || err != nil {
			return total
		}
	}
	return total
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
