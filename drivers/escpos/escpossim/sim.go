package escpossim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"hallgw/drivers/simwire"
)

// Paper is the state of the paper roll.
type Paper int

// Paper states.
const (
	PaperOK Paper = iota
	PaperNearEnd
	PaperEnd
)

// String returns "ok", "near" or "end", the words ParsePaper reads.
func (p Paper) String() string {
	switch p {
	case PaperOK:
		return "ok"
	case PaperNearEnd:
		return "near"
	case PaperEnd:
		return "end"
	}
	return fmt.Sprintf("Paper(%d)", int(p))
}

// ParsePaper reads "ok", "near" or "end".
func ParsePaper(s string) (Paper, error) {
	for _, p := range []Paper{PaperOK, PaperNearEnd, PaperEnd} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("escpossim: paper %q: want ok, near or end", s)
}

// Opts configure an emulated printer.
type Opts struct {
	// Baud paces the wire with simwire.Line as a real line would (8N1);
	// 0 moves bytes as fast as the pty does.
	Baud int
	// Width is the paper width in mm, 58 or 80; 0 means 80.
	Width int
	// Keep is how many of the latest tickets are kept; 0 means 256.
	Keep int
	// Paper is the roll's state at start.
	Paper Paper
	// Logger receives a line for every unknown command; nil logs nothing.
	Logger *slog.Logger
	// OnTicket, when set, is called (from Run's goroutine, without locks
	// held) with every ticket as it is cut.
	OnTicket func(RenderedTicket)
}

// Counters are running totals of the emulator.
type Counters struct {
	BytesIn       uint64 `json:"bytes_in"`
	Commands      uint64 `json:"commands"`
	Unknown       uint64 `json:"unknown"` // unknown or malformed commands, skipped
	Garbled       uint64 `json:"garbled"` // bytes that were not valid two-byte GB codes
	StatusReplies uint64 `json:"status_replies"`
	ASBBlocks     uint64 `json:"asb_blocks"`
	Cuts          uint64 `json:"cuts"`
	Dropped       uint64 `json:"dropped"` // lines lost while the printer could not print
}

// ErrNotPTY is returned by Replug on an emulator built with New, which has
// no pty of its own to reopen.
var ErrNotPTY = errors.New("escpossim: not on a pty")

// Printer is an emulated Chinese ESC/POS thermal printer.
type Printer struct {
	opts   Opts
	cols   int
	log    *slog.Logger
	rx, tx *simwire.Line

	mu      sync.Mutex
	link    io.ReadWriter // nil while unplugged
	closer  io.Closer
	path    string
	onPTY   bool
	closed  bool
	linkGen uint64
	changed chan struct{} // closed when the link changes or a ticket is cut

	dev     device
	tickets []RenderedTicket
	seq     int
	fresh   []RenderedTicket // cut but not yet handed to OnTicket
	c       Counters

	wmu sync.Mutex // one write at a time on the link
}

func newPrinter(o Opts) *Printer {
	if o.Width != 58 {
		o.Width = 80
	}
	if o.Keep <= 0 {
		o.Keep = 256
	}
	cols := 48
	if o.Width == 58 {
		cols = 32
	}
	p := &Printer{
		opts:    o,
		cols:    cols,
		log:     o.Logger,
		rx:      simwire.NewLine(o.Baud),
		tx:      simwire.NewLine(o.Baud),
		changed: make(chan struct{}),
	}
	p.dev.reset()
	p.dev.paper = o.Paper
	return p
}

// New returns an emulator that talks on rw (usually a simwire PTY's
// Master). Unplug closes rw when it is an io.Closer.
func New(rw io.ReadWriter, o Opts) *Printer {
	p := newPrinter(o)
	p.link = rw
	if c, ok := rw.(io.Closer); ok {
		p.closer = c
	}
	return p
}

// NewPTY returns an emulator on a fresh pseudo-terminal; Path gives the
// device a driver opens. Unplug and Replug move it to a new pty, as a USB
// printer comes back under a new name.
func NewPTY(o Opts) (*Printer, error) {
	p := newPrinter(o)
	p.onPTY = true
	l, err := openPTYLink()
	if err != nil {
		return nil, err
	}
	p.link, p.closer, p.path = l, l, l.pt.Path
	return p, nil
}

// ptyLink is the master side of a pty, made non-blocking so that Close
// wakes a blocked Read and read deadlines work.
type ptyLink struct {
	f  *os.File
	pt *simwire.PTY
}

func openPTYLink() (*ptyLink, error) {
	pt, err := simwire.OpenPTY()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(pt.Master.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		pt.Close()
		return nil, fmt.Errorf("escpossim: pty master: %w", err)
	}
	f := os.NewFile(uintptr(fd), pt.Path+" master")
	// The duplicate keeps the master open; the original descriptor is in
	// blocking mode, so it goes.
	pt.Master.Close()
	return &ptyLink{f: f, pt: pt}, nil
}

func (l *ptyLink) Read(b []byte) (int, error)        { return l.f.Read(b) }
func (l *ptyLink) Write(b []byte) (int, error)       { return l.f.Write(b) }
func (l *ptyLink) SetReadDeadline(t time.Time) error { return l.f.SetReadDeadline(t) }

// Close hangs the pty up: the driver's side then fails with EIO.
func (l *ptyLink) Close() error {
	err := l.f.Close()
	l.pt.Close() // its master is already closed; this closes the slave copy
	return err
}

// Path returns the pty device the driver opens, or "" when unplugged or
// not on a pty.
func (p *Printer) Path() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.path
}

// signal wakes everything waiting on p.changed; p.mu is held.
func (p *Printer) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Unplug pulls the cable: the link is closed (the driver's reads and
// writes fail) and nothing is received until Replug. A command cut in half
// is forgotten; modes, paper state and tickets stay.
func (p *Printer) Unplug() error {
	p.mu.Lock()
	c := p.closer
	p.link, p.closer, p.path = nil, nil, ""
	p.linkGen++
	p.dev.unplugged()
	p.signal()
	p.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}

// Replug plugs the printer back in on a new pty and returns its path.
func (p *Printer) Replug() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.onPTY:
		return "", ErrNotPTY
	case p.closed:
		return "", errors.New("escpossim: closed")
	case p.link != nil:
		return "", errors.New("escpossim: already plugged in")
	}
	l, err := openPTYLink()
	if err != nil {
		return "", err
	}
	p.link, p.closer, p.path = l, l, l.pt.Path
	p.linkGen++
	p.signal()
	return p.path, nil
}

// Close unplugs the printer for good; Run returns.
func (p *Printer) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return p.Unplug()
}

type deadliner interface{ SetReadDeadline(time.Time) error }

// Run receives and executes commands until ctx is done or Close is called,
// waiting through Unplug until Replug. It returns nil then, or the read
// error of a link that failed on its own. A link without read deadlines
// (not a pty) is only woken from a blocked read by closing it.
func (p *Printer) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		if d, ok := p.link.(deadliner); ok {
			d.SetReadDeadline(time.Now())
		}
		p.signal()
		p.mu.Unlock()
	})
	defer stop()
	buf := make([]byte, 1024)
	for {
		p.mu.Lock()
		link, gen, ch, closed := p.link, p.linkGen, p.changed, p.closed
		p.mu.Unlock()
		switch {
		case ctx.Err() != nil || closed:
			return nil
		case link == nil:
			<-ch
			continue
		}
		n, err := link.Read(buf)
		if n > 0 {
			p.rx.Occupy(n)
			p.receive(link, buf[:n])
		}
		if err != nil {
			p.mu.Lock()
			moved := p.linkGen != gen || p.closed
			p.mu.Unlock()
			if moved || ctx.Err() != nil {
				continue
			}
			return fmt.Errorf("escpossim: read: %w", err)
		}
	}
}

// receive executes bytes that arrived on link and sends the replies.
func (p *Printer) receive(link io.ReadWriter, b []byte) {
	p.mu.Lock()
	out := p.feed(b)
	fresh := p.fresh
	p.fresh = nil
	p.mu.Unlock()
	p.send(link, out)
	if p.opts.OnTicket != nil {
		for _, t := range fresh {
			p.opts.OnTicket(t)
		}
	}
}

// send writes a reply, paced by the wire.
func (p *Printer) send(link io.ReadWriter, b []byte) {
	if len(b) == 0 || link == nil {
		return
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.tx.Occupy(len(b))
	link.Write(b) // a vanished driver is not the printer's problem
}

// setState changes the device state and sends an ASB block when a selected
// status changed.
func (p *Printer) setState(f func(d *device)) {
	p.mu.Lock()
	before := p.dev.asbBlock()
	f(&p.dev)
	out := p.asbIfChanged(nil, before)
	link := p.link
	p.mu.Unlock()
	p.send(link, out)
}

// SetPaper sets the paper roll's state.
func (p *Printer) SetPaper(s Paper) { p.setState(func(d *device) { d.paper = s; d.runOut = 0 }) }

// SetCoverOpen opens or closes the cover.
func (p *Printer) SetCoverOpen(open bool) { p.setState(func(d *device) { d.cover = open }) }

// SetOffline takes the printer offline (or back online) without a cause.
func (p *Printer) SetOffline(off bool) { p.setState(func(d *device) { d.offline = off }) }

// SetCutterError jams the cutter (DLE ENQ 1 or 2 clears it, as does
// SetCutterError(false)).
func (p *Printer) SetCutterError(on bool) { p.setState(func(d *device) { d.cutter = on }) }

// RunOutAfter makes the paper run out after n more printed lines (n ≤ 0
// cancels), to stage a ticket cut short.
func (p *Printer) RunOutAfter(n int) { p.setState(func(d *device) { d.runOut = max(n, 0) }) }

// Garble replaces the next n DLE EOT replies with a byte that fails the
// reply check (0xFF), as line noise would.
func (p *Printer) Garble(n int) { p.setState(func(d *device) { d.garble = max(n, 0) }) }

// SetSilent stops (or resumes) answering DLE EOT, as a printer with a bad
// receive line would.
func (p *Printer) SetSilent(on bool) { p.setState(func(d *device) { d.silent = on }) }

// Tickets returns the tickets cut so far (the latest Opts.Keep).
func (p *Printer) Tickets() []RenderedTicket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RenderedTicket(nil), p.tickets...)
}

// WaitTickets waits until at least n tickets have been cut since start and
// returns the kept ones.
func (p *Printer) WaitTickets(ctx context.Context, n int) ([]RenderedTicket, error) {
	for {
		p.mu.Lock()
		seq, ch := p.seq, p.changed
		p.mu.Unlock()
		if seq >= n {
			return p.Tickets(), nil
		}
		select {
		case <-ctx.Done():
			return p.Tickets(), fmt.Errorf("escpossim: %d of %d tickets: %w", seq, n, ctx.Err())
		case <-ch:
		}
	}
}

// Counters returns a copy of the running totals.
func (p *Printer) Counters() Counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

// String describes the emulator.
func (p *Printer) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.path != "" {
		return fmt.Sprintf("escpossim %d mm on %s", p.opts.Width, p.path)
	}
	return fmt.Sprintf("escpossim %d mm", p.opts.Width)
}

// Render runs data through a fresh, unconnected emulator with paper of the
// given width (mm) and returns the tickets it cut (the latest 256) and its
// counters. Replies to status queries are dropped. Tests and tools use it
// to see what a byte stream prints.
func Render(data []byte, width int) ([]RenderedTicket, Counters) {
	p := newPrinter(Opts{Width: width})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.feed(data)
	return p.tickets, p.c
}
