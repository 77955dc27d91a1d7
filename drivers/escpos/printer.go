package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3"

	"hallgw/drivers/serialio"
)

// Opts configure a Printer. Fields left zero take their DefaultOpts value,
// except Retries, which is used as given.
type Opts struct {
	Width    Width
	Encoding Encoding
	// Baud is the line speed, or a lower bound of it. It only lengthens
	// the wait for a reply by the time the bytes written before the query
	// take on the wire (a ticket at 9600 baud: about half a second); it
	// never delays anything.
	Baud int
	// StatusTimeout bounds the wait for each DLE EOT reply once the query
	// is on the wire.
	StatusTimeout time.Duration
	// Retries is how many times a query is repeated after a garbled or
	// missing reply (0–5).
	Retries int
	// DrainTime bounds how long stale input is discarded before a query
	// that follows a garbled or missing reply.
	DrainTime time.Duration
	// WriteChunk is the largest single write; context and Halt are checked
	// between chunks.
	WriteChunk int
	// Now is the clock for read deadlines; nil means time.Now.
	Now func() time.Time
	// FreshStatus lets PrintTicket trust a status read less than this long
	// ago (by Status, or after the previous ticket) instead of asking the
	// printer again before sending, so the ticket's first byte leaves at
	// once. Paper is only used while printing and every print ends with a
	// status read, so a fresh "can print" only misses a cover opened in
	// that moment, which the read after printing catches (ErrIncomplete).
	// Zero always asks.
	FreshStatus time.Duration
}

// DefaultOpts suit a Chinese 80 mm thermal printer on a serial or
// USB-serial line.
var DefaultOpts = Opts{
	Width:         Width80,
	Encoding:      GB18030,
	Baud:          9600,
	StatusTimeout: 500 * time.Millisecond,
	Retries:       1,
	DrainTime:     200 * time.Millisecond,
	WriteChunk:    256,
}

// Counters are running totals of a Printer, for health reports.
type Counters struct {
	BytesWritten  uint64 `json:"bytes_written"`
	Tickets       uint64 `json:"tickets"` // printed with a clean status afterwards
	StatusQueries uint64 `json:"status_queries"`
	Garbled       uint64 `json:"garbled"`  // bytes that were neither a reply nor an ASB block
	Timeouts      uint64 `json:"timeouts"` // queries that got no valid reply in time
	ASBBlocks     uint64 `json:"asb_blocks"`
	Substituted   uint64 `json:"substituted"` // characters printed as Substitute
	Disconnects   uint64 `json:"disconnects"`
}

// Printer drives one ESC/POS printer over a byte stream it does not own:
// the caller opens the port, hands it over and closes it. Methods may be
// called from several goroutines; they take turns on the wire.
type Printer struct {
	rw   io.ReadWriter
	opts Opts
	now  func() time.Time

	mu       sync.Mutex // held for a whole exchange
	dirty    bool       // stale input may be waiting
	gone     bool       // the port failed; every call now fails
	wireFree time.Time  // when the bytes written so far are off the wire

	halt atomic.Uint64 // bumped by Halt

	cmu    sync.Mutex
	c      Counters
	last   Status
	lastAt time.Time
}

var _ conn.Resource = (*Printer)(nil)

// New returns a Printer on rw. o nil means DefaultOpts. Nothing is sent
// until the first call.
func New(rw io.ReadWriter, o *Opts) (*Printer, error) {
	if rw == nil {
		return nil, fmt.Errorf("%w: nil port", ErrInvalid)
	}
	opts := DefaultOpts
	if o != nil {
		opts = *o
		d := DefaultOpts
		if opts.Width == 0 {
			opts.Width = d.Width
		}
		if opts.Encoding == 0 {
			opts.Encoding = d.Encoding
		}
		if opts.Baud == 0 {
			opts.Baud = d.Baud
		}
		if opts.StatusTimeout == 0 {
			opts.StatusTimeout = d.StatusTimeout
		}
		if opts.DrainTime == 0 {
			opts.DrainTime = d.DrainTime
		}
		if opts.WriteChunk == 0 {
			opts.WriteChunk = d.WriteChunk
		}
	}
	switch {
	case opts.Width.Columns() == 0:
		return nil, fmt.Errorf("%w: paper width %d, want 58 or 80", ErrInvalid, int(opts.Width))
	case opts.Encoding != GB18030 && opts.Encoding != GB2312:
		return nil, fmt.Errorf("%w: encoding %v", ErrInvalid, opts.Encoding)
	case opts.Baud < 300 || opts.Baud > 4_000_000:
		return nil, fmt.Errorf("%w: %d baud, want 300–4000000", ErrInvalid, opts.Baud)
	case opts.StatusTimeout < 0 || opts.StatusTimeout > time.Minute:
		return nil, fmt.Errorf("%w: status timeout %v, want up to 1m", ErrInvalid, opts.StatusTimeout)
	case opts.Retries < 0 || opts.Retries > 5:
		return nil, fmt.Errorf("%w: %d retries, want 0–5", ErrInvalid, opts.Retries)
	case opts.DrainTime < 0 || opts.DrainTime > 10*time.Second:
		return nil, fmt.Errorf("%w: drain time %v, want up to 10s", ErrInvalid, opts.DrainTime)
	case opts.WriteChunk < 0 || opts.WriteChunk > 1<<16:
		return nil, fmt.Errorf("%w: write chunk %d, want 1–65536", ErrInvalid, opts.WriteChunk)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Printer{rw: rw, opts: opts, now: now}, nil
}

// String names the printer and its port when the port has a name.
func (p *Printer) String() string {
	name := ""
	switch v := p.rw.(type) {
	case interface{ Name() string }:
		name = v.Name()
	case fmt.Stringer:
		name = v.String()
	}
	if name == "" {
		return fmt.Sprintf("escpos printer (%v)", p.opts.Width)
	}
	return fmt.Sprintf("escpos printer on %s (%v)", name, p.opts.Width)
}

// Halt stops the operation in progress, if any, at its next step (between
// written chunks or status queries); it returns an error matching
// ErrHalted. Later calls work normally. A write blocked by flow control is
// not interrupted.
func (p *Printer) Halt() error {
	p.halt.Add(1)
	return nil
}

// Counters returns a copy of the running totals.
func (p *Printer) Counters() Counters {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	return p.c
}

// LastStatus returns the most recent status read (from DLE EOT or an ASB
// block) and when it was read; the time is zero when none has been.
func (p *Printer) LastStatus() (Status, time.Time) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	return p.last, p.lastAt
}

func (p *Printer) count(f func(c *Counters)) {
	p.cmu.Lock()
	f(&p.c)
	p.cmu.Unlock()
}

func (p *Printer) noteStatus(s Status) {
	p.cmu.Lock()
	p.last, p.lastAt = s, p.now()
	p.cmu.Unlock()
}

// begin starts an exchange; the caller holds p.mu until it ends.
func (p *Printer) begin(ctx context.Context) (uint64, error) {
	if p.gone {
		return 0, fmt.Errorf("%w: port failed earlier", ErrDisconnected)
	}
	gen := p.halt.Load()
	return gen, p.check(ctx, gen)
}

func (p *Printer) check(ctx context.Context, gen uint64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("escpos: %w", err)
	}
	if p.halt.Load() != gen {
		return ErrHalted
	}
	return nil
}

// lost marks the port as failed.
func (p *Printer) lost(err error) error {
	p.gone = true
	p.count(func(c *Counters) { c.Disconnects++ })
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// maxStalls bounds writes in a row that make no progress without an error.
const maxStalls = 64

// write sends data in chunks and returns how many bytes went out.
func (p *Printer) write(ctx context.Context, gen uint64, data []byte) (int, error) {
	sent, stalls := 0, 0
	for sent < len(data) {
		if err := p.check(ctx, gen); err != nil {
			return sent, err
		}
		end := min(sent+p.opts.WriteChunk, len(data))
		n, err := p.rw.Write(data[sent:end])
		if n < 0 || n > end-sent {
			n = 0
		}
		sent += n
		p.onWire(n)
		p.count(func(c *Counters) { c.BytesWritten += uint64(n) })
		if err != nil {
			return sent, p.lost(err)
		}
		if n == 0 {
			if stalls++; stalls > maxStalls {
				return sent, fmt.Errorf("%w: write makes no progress", ErrTimeout)
			}
		} else {
			stalls = 0
		}
	}
	return sent, nil
}

// onWire notes that n more bytes are queued for the line (10 bits each).
func (p *Printer) onWire(n int) {
	now := p.now()
	if p.wireFree.Before(now) {
		p.wireFree = now
	}
	p.wireFree = p.wireFree.Add(time.Duration(int64(n) * 10 * int64(time.Second) / int64(p.opts.Baud)))
}

// replyDeadline is when a reply to a query just written is overdue: the
// status timeout after the query has left the wire.
func (p *Printer) replyDeadline() time.Time {
	start := p.now()
	if p.wireFree.After(start) {
		start = p.wireFree
	}
	return start.Add(p.opts.StatusTimeout)
}

// Print sends data as it is. It does not look at the status first; see
// PrintTicket.
func (p *Printer) Print(ctx context.Context, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	gen, err := p.begin(ctx)
	if err != nil {
		return err
	}
	_, err = p.write(ctx, gen, data)
	return err
}

// Status sends DLE EOT 1, 2, 3 and 4 and decodes the replies. A reply that
// fails the fixed-bit check is counted and skipped (never decoded); an ASB
// block met on the way is decoded and noted; a query with no valid reply is
// repeated Opts.Retries times after draining stale input. The error then
// matches ErrGarbled or ErrTimeout, or ErrDisconnected when the port has
// failed.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	gen, err := p.begin(ctx)
	if err != nil {
		return Status{}, err
	}
	return p.status(ctx, gen)
}

func (p *Printer) status(ctx context.Context, gen uint64) (Status, error) {
	var r [4]byte
	for i := range r {
		b, err := p.query(ctx, gen, byte(i+1))
		if err != nil {
			return Status{}, err
		}
		r[i] = b
	}
	s, err := DecodeStatus(r)
	if err != nil {
		return Status{}, err
	}
	p.noteStatus(s)
	return s, nil
}

func (p *Printer) query(ctx context.Context, gen uint64, n byte) (byte, error) {
	var err error
	for range 1 + p.opts.Retries {
		if e := p.check(ctx, gen); e != nil {
			return 0, e
		}
		if p.dirty {
			serialio.Drain(p.rw, p.opts.DrainTime, p.now)
			p.dirty = false
		}
		if _, e := p.write(ctx, gen, []byte{dle, eot, n}); e != nil {
			return 0, e
		}
		p.count(func(c *Counters) { c.StatusQueries++ })
		var b byte
		b, err = p.reply(n)
		if err == nil {
			return b, nil
		}
		if errors.Is(err, ErrDisconnected) {
			return 0, err
		}
		p.dirty = true
	}
	return 0, err
}

// reply reads until a valid DLE EOT reply, skipping (and noting) ASB blocks
// and counting garbled bytes, until the status timeout.
func (p *Printer) reply(n byte) (byte, error) {
	deadline := p.replyDeadline()
	bad := 0
	garbled := func(k int) {
		bad += k
		p.count(func(c *Counters) { c.Garbled += uint64(k) })
	}
	var b [4]byte
	for {
		if _, err := serialio.ReadFull(p.rw, b[:1], deadline, p.now); err != nil {
			if !errors.Is(err, serialio.ErrTimeout) {
				return 0, p.lost(err)
			}
			p.count(func(c *Counters) { c.Timeouts++ })
			if bad > 0 {
				return 0, fmt.Errorf("%w: DLE EOT %d: %d bad bytes and no valid reply", ErrGarbled, n, bad)
			}
			return 0, fmt.Errorf("%w: DLE EOT %d: %w", ErrTimeout, n, err)
		}
		switch {
		case ValidReply(b[0]):
			return b[0], nil
		case IsASBStart(b[0]):
			k, err := serialio.ReadFull(p.rw, b[1:], deadline, p.now)
			if err != nil && !errors.Is(err, serialio.ErrTimeout) {
				return 0, p.lost(err)
			}
			if err != nil {
				garbled(1 + k)
				continue
			}
			s, err := DecodeASB(b)
			if err != nil {
				garbled(4)
				continue
			}
			p.count(func(c *Counters) { c.ASBBlocks++ })
			p.noteStatus(s)
		default:
			garbled(1)
		}
	}
}

// PrintTicket prints t after checking that the printer can print, then
// checks again:
//
//   - Before sending, a status that forbids printing gives a *StatusError
//     matching ErrPaperEnd, ErrCoverOpen, ErrOffline, ErrCutter… and nothing
//     is sent: the ticket has not been printed.
//   - After sending, a status that shows a fault (the paper ran out or the
//     cover was opened mid-print) gives a *StatusError with AfterPrint set,
//     matching ErrIncomplete and the fault; so does a port that fails
//     part-way (ErrIncomplete and ErrDisconnected). The ticket may be partly
//     printed: keep it and let staff reprint it.
//   - Paper near end prints normally; LastStatus reports it.
func (p *Printer) PrintTicket(ctx context.Context, t Ticket) error {
	b := NewBuilder(p.opts.Encoding).Ticket(t, p.opts.Width)
	data, err := b.Bytes()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	gen, err := p.begin(ctx)
	if err != nil {
		return err
	}
	before, at := p.LastStatus()
	if p.opts.FreshStatus <= 0 || at.IsZero() || p.now().Sub(at) > p.opts.FreshStatus || !before.CanPrint() {
		if before, err = p.status(ctx, gen); err != nil {
			return err
		}
	}
	if !before.CanPrint() {
		return &StatusError{Status: before}
	}
	p.count(func(c *Counters) { c.Substituted += uint64(b.Substituted()) })
	if n, err := p.write(ctx, gen, data); err != nil {
		if n > 0 {
			return fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		return err
	}
	after, err := p.status(ctx, gen)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	if !after.CanPrint() {
		return &StatusError{Status: after, AfterPrint: true}
	}
	p.count(func(c *Counters) { c.Tickets++ })
	return nil
}

// EnableASB sends GS a n with the given groups (ASBOnline|ASBError|…, or
// ASBDisable). The printer answers with a first block at once and then a
// block on every change; Status skips and notes blocks it meets, ReadASB
// waits for one.
func (p *Printer) EnableASB(ctx context.Context, groups byte) error {
	if groups&^ASBAll != 0 {
		return fmt.Errorf("%w: ASB groups %#02x", ErrInvalid, groups)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	gen, err := p.begin(ctx)
	if err != nil {
		return err
	}
	_, err = p.write(ctx, gen, []byte{gs, 'a', groups})
	return err
}

// ReadASB waits up to wait for one Automatic Status Back block and decodes
// it. Other bytes met on the way (garbled, or a stray DLE EOT reply) are
// counted as garbled and skipped.
func (p *Printer) ReadASB(ctx context.Context, wait time.Duration) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.begin(ctx); err != nil {
		return Status{}, err
	}
	deadline := p.now().Add(wait)
	var b [4]byte
	for {
		if _, err := serialio.ReadFull(p.rw, b[:1], deadline, p.now); err != nil {
			if !errors.Is(err, serialio.ErrTimeout) {
				return Status{}, p.lost(err)
			}
			p.count(func(c *Counters) { c.Timeouts++ })
			return Status{}, fmt.Errorf("%w: ASB block: %w", ErrTimeout, err)
		}
		if !IsASBStart(b[0]) {
			p.count(func(c *Counters) { c.Garbled++ })
			continue
		}
		if _, err := serialio.ReadFull(p.rw, b[1:], deadline, p.now); err != nil {
			if !errors.Is(err, serialio.ErrTimeout) {
				return Status{}, p.lost(err)
			}
			continue
		}
		s, err := DecodeASB(b)
		if err != nil {
			p.count(func(c *Counters) { c.Garbled += 4 })
			continue
		}
		p.count(func(c *Counters) { c.ASBBlocks++ })
		p.noteStatus(s)
		return s, nil
	}
}
