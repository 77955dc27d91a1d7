package barcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
)

// ErrHalted is returned by a Next or Run that Halt interrupted.
var ErrHalted = errors.New("barcode: halted")

// Stats counts what a Scanner has read.
type Stats struct {
	Scans        uint64 // good scans
	TooLong      uint64 // lines over MaxLen
	NonPrintable uint64 // lines with control bytes or invalid UTF-8
	Truncated    uint64 // partial lines dropped after a pause
}

// Scanner reads scans from a serial scanner. Next and Run must not be
// called from more than one goroutine at a time; Stats and Halt may be
// called from any.
type Scanner struct {
	r     io.Reader
	p     *Parser
	clock clockwork.Clock
	buf   []byte
	queue []result

	scans, tooLong, nonPrintable, truncated atomic.Uint64

	haltMu sync.Mutex
	halt   chan struct{}
}

type result struct {
	s   Scan
	err error
}

var _ conn.Resource = (*Scanner)(nil)

// New returns a Scanner reading r, normally a serial port with a short
// read timeout (a port that blocks forever in Read cannot be stopped by
// ctx or Halt). o may be nil for DefaultOpts. New does no I/O.
func New(r io.Reader, o *Opts) (*Scanner, error) {
	if r == nil {
		return nil, errors.New("barcode: nil port")
	}
	p, err := NewParser(o)
	if err != nil {
		return nil, err
	}
	clock := p.o.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Scanner{r: r, p: p, clock: clock, buf: make([]byte, 256), halt: make(chan struct{})}, nil
}

// String names the scanner and, when the port has a name, the port.
func (s *Scanner) String() string {
	if n, ok := s.r.(interface{ Name() string }); ok {
		return "barcode.Scanner(" + n.Name() + ")"
	}
	return "barcode.Scanner"
}

// Halt makes a Next or Run in progress return ErrHalted within one port
// read timeout.
func (s *Scanner) Halt() error {
	s.haltMu.Lock()
	close(s.halt)
	s.halt = make(chan struct{})
	s.haltMu.Unlock()
	return nil
}

// Stats returns the counters so far.
func (s *Scanner) Stats() Stats {
	return Stats{Scans: s.scans.Load(), TooLong: s.tooLong.Load(), NonPrintable: s.nonPrintable.Load(), Truncated: s.truncated.Load()}
}

func (s *Scanner) push(sc Scan, err error) {
	switch {
	case err == nil:
		s.scans.Add(1)
	case errors.Is(err, ErrTooLong):
		s.tooLong.Add(1)
	case errors.Is(err, ErrNonPrintable):
		s.nonPrintable.Add(1)
	case errors.Is(err, ErrTruncated):
		s.truncated.Add(1)
	}
	s.queue = append(s.queue, result{sc, err})
}

// Next returns the next scan, or a *LineError for a rejected line (the
// Scanner carries on after one), or the port's error, or the cause of ctx
// ending, or ErrHalted.
func (s *Scanner) Next(ctx context.Context) (Scan, error) {
	s.haltMu.Lock()
	halt := s.halt
	s.haltMu.Unlock()
	for len(s.queue) == 0 {
		select {
		case <-ctx.Done():
			return Scan{}, context.Cause(ctx)
		case <-halt:
			return Scan{}, ErrHalted
		default:
		}
		n, err := s.r.Read(s.buf)
		now := s.clock.Now()
		if n > 0 {
			s.p.Feed(s.buf[:n], now, s.push)
		} else {
			s.p.Expire(now, s.push)
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			if len(s.queue) > 0 {
				break
			}
			return Scan{}, fmt.Errorf("barcode: read: %w", err)
		}
	}
	r := s.queue[0]
	s.queue = s.queue[1:]
	return r.s, r.err
}

// Run calls fn for every good scan until ctx ends, Halt is called or the
// port fails, and returns why it stopped. Rejected lines are counted in
// Stats and skipped.
func (s *Scanner) Run(ctx context.Context, fn func(Scan)) error {
	for {
		sc, err := s.Next(ctx)
		var le *LineError
		switch {
		case errors.As(err, &le):
		case err != nil:
			return err
		default:
			fn(sc)
		}
	}
}
