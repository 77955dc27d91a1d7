package upssim

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"hallgw/drivers/simwire"
)

// maxRequest bounds a request line; longer garbage is dropped.
const maxRequest = 64

// Serve answers requests read from rw until ctx is done or rw fails. Each
// request is paced on the wire at the configured baud rate before it is
// handled, and each reply byte after it, as on a real 2400-baud line.
// Baud -1 turns pacing off.
func (s *Sim) Serve(ctx context.Context, rw io.ReadWriter) error {
	line := simwire.NewLine(s.cfg.Baud)
	if s.cfg.Baud < 0 {
		line = nil
	}
	buf := make([]byte, 256)
	var req []byte
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := rw.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				if len(req) < maxRequest {
					req = append(req, c)
				}
				continue
			}
			if len(req) == 0 {
				continue
			}
			line.Occupy(len(req) + 1)
			reply, ok := s.Handle(string(req))
			req = req[:0]
			if !ok {
				continue
			}
			if err := s.send(rw, line, reply+"\r"); err != nil {
				return err
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("upssim: read: %w", err)
		}
	}
}

// send writes msg at wire speed: byte i is written once i+1 character times
// have passed since the first, so a late wake-up (a loaded machine) sends
// the bytes that are due together instead of stretching the whole reply.
func (s *Sim) send(w io.Writer, line *simwire.Line, msg string) error {
	if line == nil || line.Baud <= 0 {
		if _, err := io.WriteString(w, msg); err != nil {
			return fmt.Errorf("upssim: write: %w", err)
		}
		return nil
	}
	ct := simwire.CharTime(line.Baud, line.Framing)
	start := time.Now()
	for i := 0; i < len(msg); {
		n := int(time.Since(start) / ct)
		if n <= i {
			simwire.SleepUntil(start.Add(time.Duration(i+1) * ct))
			continue
		}
		n = min(n, len(msg))
		if _, err := io.WriteString(w, msg[i:n]); err != nil {
			return fmt.Errorf("upssim: write: %w", err)
		}
		i = n
	}
	return nil
}

// Listener serves a Sim on a pseudo-terminal.
type Listener struct {
	pty    *simwire.PTY
	master *os.File // a pollable duplicate of the master, so Close ends a pending Read
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Listen opens a pseudo-terminal and serves s on it in the background. The
// driver opens Listener.Path like any serial port.
func (s *Sim) Listen() (*Listener, error) {
	p, err := simwire.OpenPTY()
	if err != nil {
		return nil, err
	}
	m, err := pollable(p.Master)
	if err != nil {
		p.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{pty: p, master: m, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		// Serve ends with a read error once Close shuts the master: the
		// normal way out, so its error is not kept.
		_ = s.Serve(ctx, m)
	}()
	return l, nil
}

// pollable duplicates f's descriptor in non-blocking mode and hands it to
// Go's poller: a blocking pty master (the pty package leaves it blocking)
// cannot be woken from a Read by Close while a driver holds the slave open.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("upssim: dup pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("upssim: pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// Path is the slave side of the pseudo-terminal, e.g. /dev/pts/3.
func (l *Listener) Path() string { return l.pty.Path }

// Close stops serving and closes the pseudo-terminal.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		l.cancel()
		l.master.Close()
		<-l.done
		err = l.pty.Close()
	})
	return err
}
