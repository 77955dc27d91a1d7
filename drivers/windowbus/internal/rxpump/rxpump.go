// Package rxpump reads a serial port in the background so that the bus
// links can wait for reply bytes with a deadline and throw away stale input
// instantly before each request.
//
// A go.bug.st/serial port returns (0, nil) when its read timeout expires and
// blocks up to that timeout when nothing waits, so flushing it by reading
// would cost a read timeout per request; a pump that always reads makes the
// received bytes available the moment they arrive.
package rxpump

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// Pump owns the reading side of a port.
type Pump struct {
	mu     sync.Mutex
	buf    []byte
	err    error
	signal chan struct{} // ticked when bytes or an error arrive
	stop   chan struct{}
	once   sync.Once
}

// maxBuffered bounds the bytes kept when nobody takes them (a device
// babbling on the line); older bytes are dropped and counted as taken.
const maxBuffered = 64 << 10

// Start begins reading r. The reading goroutine ends when r returns an
// error other than a timeout, or after Stop once the current Read returns.
func Start(r io.Reader) *Pump {
	p := &Pump{signal: make(chan struct{}, 1), stop: make(chan struct{})}
	go p.run(r)
	return p
}

func (p *Pump) run(r io.Reader) {
	buf := make([]byte, 512)
	idle := 0
	for {
		n, err := r.Read(buf)
		select {
		case <-p.stop:
			return
		default:
		}
		if n > 0 {
			idle = 0
			p.mu.Lock()
			p.buf = append(p.buf, buf[:n]...)
			if over := len(p.buf) - maxBuffered; over > 0 {
				p.buf = append(p.buf[:0], p.buf[over:]...)
			}
			p.mu.Unlock()
			p.tick()
		}
		if err != nil && !isTimeout(err) {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			p.tick()
			return
		}
		if n == 0 {
			// A port with a read timeout returns (0, nil) when idle;
			// guard against a reader that does so without blocking.
			idle++
			if idle > 100 {
				time.Sleep(time.Millisecond)
			}
		}
	}
}

func (p *Pump) tick() {
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// Take returns and forgets every byte received so far.
func (p *Pump) Take() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buf
	p.buf = nil
	return b
}

// Err returns the read error that ended the pump, if any.
func (p *Pump) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Wait blocks until bytes are buffered, the pump has failed, or deadline
// passes. It returns true when bytes or an error are available.
func (p *Pump) Wait(deadline time.Time) bool {
	for {
		p.mu.Lock()
		ready := len(p.buf) > 0 || p.err != nil
		p.mu.Unlock()
		if ready {
			return true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		select {
		case <-p.signal:
		case <-t.C:
		case <-p.stop:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// Signal returns a channel ticked whenever bytes or an error arrive. One
// consumer may use it instead of Wait.
func (p *Pump) Signal() <-chan struct{} { return p.signal }

// Stop makes the pump drop everything it reads from now on; its goroutine
// ends when the port's current Read returns.
func (p *Pump) Stop() {
	p.once.Do(func() { close(p.stop) })
}

// Stopped is closed by Stop.
func (p *Pump) Stopped() <-chan struct{} { return p.stop }

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
