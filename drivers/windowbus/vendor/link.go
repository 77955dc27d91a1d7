package vendor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"periph.io/x/conn/v3"

	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/internal/rxpump"
)

// Protocol is the vendor framed protocol. The zero value is ready to use.
type Protocol struct{}

var _ windowbus.Protocol = Protocol{}

// Name returns "vendor".
func (Protocol) Name() string { return "vendor" }

// Open returns a Link over rw.
func (Protocol) Open(rw io.ReadWriter, o windowbus.LinkOpts) (windowbus.Link, error) {
	return Open(rw, o)
}

// Airtime returns the wire time of op at baud with 8N1 characters and a
// Turnaround after each frame.
func (Protocol) Airtime(op windowbus.Op, n, baud int) time.Duration {
	req, reply := sizes(op, n)
	return simwire.FrameTime(req+reply, baud, simwire.F8N1) + 2*Turnaround(baud)
}

// sizes returns the request and reply frame sizes of op.
func sizes(op windowbus.Op, n int) (int, int) {
	switch op {
	case windowbus.OpPoll:
		return Overhead, Overhead + 1
	case windowbus.OpReadKeys:
		if n > MaxEntries {
			n = MaxEntries
		}
		return Overhead, Overhead + KeyHeaderLen + EntryLen*n
	case windowbus.OpAck, windowbus.OpBeep:
		return Overhead + 2, Overhead
	case windowbus.OpShow:
		return Overhead + n, Overhead
	case windowbus.OpConfigure:
		return Overhead + SettingsLen, Overhead
	case windowbus.OpIdentify:
		return Overhead, Overhead + IdentityLen
	case windowbus.OpCounters:
		return Overhead, Overhead + CountersLen
	}
	return 0, 0
}

// Turnaround is the gap between a request and its reply, and between a
// reply and the next request: two character times, at least 100 µs.
func Turnaround(baud int) time.Duration {
	d := simwire.FrameTime(2, baud, simwire.F8N1)
	if d < 100*time.Microsecond {
		d = 100 * time.Microsecond
	}
	return d
}

// Link is the master side of the window bus in the vendor protocol.
type Link struct {
	o    windowbus.LinkOpts
	rw   io.ReadWriter
	pump *rxpump.Pump

	mu     sync.Mutex
	stray  uint64
	idle   time.Time // when the line is free for the next request
	halted bool
}

var (
	_ windowbus.Link = (*Link)(nil)
	_ conn.Resource  = (*Link)(nil)
)

// Open starts a Link over rw.
func Open(rw io.ReadWriter, o windowbus.LinkOpts) (*Link, error) {
	if rw == nil {
		return nil, errors.New("vendor: nil port")
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Link{o: o, rw: rw, pump: rxpump.Start(rw)}, nil
}

// String describes the link.
func (l *Link) String() string { return fmt.Sprintf("vendor(%d baud)", l.o.Baud) }

// Halt stops the reading goroutine once the port's current Read returns.
func (l *Link) Halt() error {
	l.mu.Lock()
	l.halted = true
	l.mu.Unlock()
	l.pump.Stop()
	return nil
}

// StrayBytes counts received bytes that were not part of a reply.
func (l *Link) StrayBytes() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stray
}

func (l *Link) addStray(n int) {
	l.mu.Lock()
	l.stray += uint64(n)
	l.mu.Unlock()
}

// transact sends one request and reads its reply. maxReply sizes the
// timeout.
func (l *Link) transact(what string, a windowbus.Addr, cmd byte, data []byte, maxReply int) (Frame, error) {
	l.mu.Lock()
	halted, idle := l.halted, l.idle
	l.mu.Unlock()
	if halted {
		return Frame{}, fmt.Errorf("vendor: %s %d: link halted: %w", what, a, windowbus.ErrDisconnected)
	}
	if err := l.pump.Err(); err != nil {
		return Frame{}, fmt.Errorf("vendor: %s %d: %w: %w", what, a, windowbus.ErrDisconnected, err)
	}
	req, err := Frame{Addr: byte(a), Cmd: cmd, Data: data}.Encode()
	if err != nil {
		return Frame{}, fmt.Errorf("vendor: %s %d: %w", what, a, err)
	}
	simwire.SleepUntil(idle)
	l.addStray(len(l.pump.Take()))
	if _, err := l.rw.Write(req); err != nil {
		return Frame{}, fmt.Errorf("vendor: %s %d: write: %w: %w", what, a, windowbus.ErrDisconnected, err)
	}
	deadline := time.Now().Add(simwire.FrameTime(len(req)+maxReply, l.o.Baud, simwire.F8N1) + 2*Turnaround(l.o.Baud) + l.o.ReplyTimeout)
	f, err := l.read(deadline, byte(a), cmd)
	l.mu.Lock()
	l.idle = time.Now().Add(Turnaround(l.o.Baud))
	l.mu.Unlock()
	if err != nil {
		return Frame{}, fmt.Errorf("vendor: %s %d: %w", what, a, err)
	}
	switch {
	case f.Addr != byte(a):
		return f, fmt.Errorf("vendor: %s %d: %w: reply from address %d", what, a, windowbus.ErrGarbled, f.Addr)
	case f.Cmd == cmd|ErrorBits:
		code := byte(0)
		if len(f.Data) > 0 {
			code = f.Data[0]
		}
		return f, fmt.Errorf("vendor: %s %d: %w", what, a, &windowbus.ExceptionError{Code: code})
	case f.Cmd != cmd|ReplyBit:
		return f, fmt.Errorf("vendor: %s %d: %w: reply command %#02x", what, a, windowbus.ErrGarbled, f.Cmd)
	}
	return f, nil
}

// read collects bytes until the reply from addr to cmd is in or deadline
// passes. Other frames (a late reply to an earlier request, another
// device's) are counted as stray and skipped: taking one for the answer
// would put every later exchange one reply behind.
func (l *Link) read(deadline time.Time, addr, cmd byte) (Frame, error) {
	var buf []byte
	for {
		if !l.pump.Wait(deadline) {
			l.addStray(len(buf))
			return Frame{}, windowbus.ErrTimeout
		}
		if err := l.pump.Err(); err != nil {
			return Frame{}, fmt.Errorf("%w: %w", windowbus.ErrDisconnected, err)
		}
		buf = append(buf, l.pump.Take()...)
		for {
			f, n, err := Decode(buf)
			switch {
			case err == nil:
				// Anything before the frame (but its preamble) and after it.
				lead := n - (Overhead - 1 + len(f.Data))
				if lead > 0 && buf[lead-1] == Preamble {
					lead--
				}
				if f.Addr != addr || (f.Cmd != cmd|ReplyBit && f.Cmd != cmd|ErrorBits) {
					l.addStray(n)
					buf = buf[n:]
					continue
				}
				l.addStray(lead + len(buf) - n)
				return f, nil
			case errors.Is(err, ErrIncomplete):
				l.addStray(n)
				buf = buf[n:]
			case errors.Is(err, ErrSum):
				l.addStray(len(buf))
				return Frame{}, fmt.Errorf("%w: %w", windowbus.ErrChecksum, err)
			default: // a false start: skip it and look again
				l.addStray(n)
				buf = buf[n:]
				continue
			}
			break
		}
	}
}

// Identify sends CmdIdentify.
func (l *Link) Identify(a windowbus.Addr) (windowbus.Identity, error) {
	f, err := l.transact("identify", a, CmdIdentify, nil, Overhead+IdentityLen)
	if err != nil {
		return windowbus.Identity{}, err
	}
	id, err := DecodeIdentity(f.Data)
	if err != nil {
		return id, fmt.Errorf("vendor: identify %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	return id, nil
}

// PollKeys sends CmdPoll; the reply carries the FIFO state and entries.
func (l *Link) PollKeys(a windowbus.Addr) (windowbus.KeyState, error) {
	f, err := l.transact("poll", a, CmdPoll, nil, Overhead+KeyHeaderLen+EntryLen*MaxEntries)
	if err != nil {
		return windowbus.KeyState{}, err
	}
	ks, err := DecodeKeys(f.Data)
	if err != nil {
		return ks, fmt.Errorf("vendor: poll %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	return ks, nil
}

// Ack sends CmdAck with seq.
func (l *Link) Ack(a windowbus.Addr, seq uint16) error {
	_, err := l.transact("ack", a, CmdAck, binary.BigEndian.AppendUint16(nil, seq), Overhead+1)
	return err
}

// Show sends CmdText.
func (l *Link) Show(a windowbus.Addr, text []byte) error {
	if len(text) > windowbus.MaxText {
		return fmt.Errorf("vendor: show %d: text of %d bytes over %d", a, len(text), windowbus.MaxText)
	}
	_, err := l.transact("show", a, CmdText, text, Overhead+1)
	return err
}

// Beep sends CmdBeep.
func (l *Link) Beep(a windowbus.Addr, b windowbus.Beep) error {
	_, err := l.transact("beep", a, CmdBeep, EncodeBeep(b), Overhead+1)
	return err
}

// Configure sends CmdConfigure.
func (l *Link) Configure(a windowbus.Addr, s windowbus.Settings) error {
	_, err := l.transact("configure", a, CmdConfigure, EncodeSettings(s), Overhead+1)
	return err
}

// Counters sends CmdCounters.
func (l *Link) Counters(a windowbus.Addr) (windowbus.Counters, error) {
	f, err := l.transact("counters", a, CmdCounters, nil, Overhead+CountersLen)
	if err != nil {
		return windowbus.Counters{}, err
	}
	c, err := DecodeCounters(f.Data)
	if err != nil {
		return c, fmt.Errorf("vendor: counters %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	return c, nil
}
