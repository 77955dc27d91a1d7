package idcard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"

	"hallgw/drivers/serialio"
)

// Opts configures a Reader. A zero field takes its value from DefaultOpts.
type Opts struct {
	// HeaderTimeout bounds the wait for the first 7 bytes of a reply.
	HeaderTimeout time.Duration
	// FrameTimeout bounds the wait for the rest of a reply; reading a card
	// takes the SAM about a second.
	FrameTimeout time.Duration
	// MaxRetries is how many failed attempts in a row Poll makes before it
	// returns the error.
	MaxRetries int
	// MaxBackoff caps the wait between failed attempts in Poll; the wait
	// starts at the poll interval and doubles.
	MaxBackoff time.Duration
	// Clock tells the time and times the waits; nil means the real clock.
	Clock clockwork.Clock
}

// DefaultOpts are the vendor SDK's timeouts (2 s header, 5 s frame).
var DefaultOpts = Opts{
	HeaderTimeout: 2 * time.Second,
	FrameTimeout:  5 * time.Second,
	MaxRetries:    5,
	MaxBackoff:    8 * time.Second,
}

// ErrHalted is returned by a Read or Poll that Halt interrupted.
var ErrHalted = errors.New("idcard: halted")

const (
	maxReply  = 4096                   // longest reply accepted (text+photo+fingerprint is 2314)
	maxSkip   = 4096                   // bytes skipped looking for a preamble
	drainTime = 200 * time.Millisecond // bound on discarding a broken reply
)

// Reader is an ID-card reader on a serial line.
//
// Exchange and the single commands may be called from any goroutine; Read
// and Poll are serialised with each other, as they track whether the card
// on the reader has already been reported.
type Reader struct {
	rw    io.ReadWriter
	o     Opts
	clock clockwork.Clock

	mu    sync.Mutex // one exchange on the wire at a time
	dirty bool       // the last reply broke: drain before the next request

	samOK atomic.Bool // the last SAM status was 90 and nothing failed since

	opMu    sync.Mutex // Read and Poll
	present bool       // the card in the field has been reported

	haltMu sync.Mutex
	halt   chan struct{}
}

var _ conn.Resource = (*Reader)(nil)

// New returns a Reader talking over rw, normally a serial port at 115200 8N1
// with a short read timeout. o may be nil for DefaultOpts. New does no I/O.
func New(rw io.ReadWriter, o *Opts) (*Reader, error) {
	if rw == nil {
		return nil, errors.New("idcard: nil port")
	}
	opts := DefaultOpts
	if o != nil {
		opts = *o
		def := DefaultOpts
		for _, f := range []struct {
			v   *time.Duration
			def time.Duration
		}{{&opts.HeaderTimeout, def.HeaderTimeout}, {&opts.FrameTimeout, def.FrameTimeout}, {&opts.MaxBackoff, def.MaxBackoff}} {
			if *f.v == 0 {
				*f.v = f.def
			}
			if *f.v < 0 {
				return nil, fmt.Errorf("idcard: negative timeout %v", *f.v)
			}
		}
		if opts.MaxRetries == 0 {
			opts.MaxRetries = def.MaxRetries
		}
		if opts.MaxRetries < 0 {
			return nil, fmt.Errorf("idcard: MaxRetries %d: want > 0", opts.MaxRetries)
		}
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Reader{rw: rw, o: opts, clock: clock, halt: make(chan struct{})}, nil
}

// String names the reader and, when the port has a name, the port.
func (r *Reader) String() string {
	if n, ok := r.rw.(interface{ Name() string }); ok {
		return "idcard.Reader(" + n.Name() + ")"
	}
	return "idcard.Reader"
}

// Halt makes a Read or Poll in progress return ErrHalted within one port
// read timeout. Later calls work as before.
func (r *Reader) Halt() error {
	r.haltMu.Lock()
	close(r.halt)
	r.halt = make(chan struct{})
	r.haltMu.Unlock()
	return nil
}

// haltable returns ctx cancelled with ErrHalted by the next Halt.
func (r *Reader) haltable(ctx context.Context) (context.Context, func()) {
	r.haltMu.Lock()
	h := r.halt
	r.haltMu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-h:
			cancel(ErrHalted)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// ctxReader stops a frame read as soon as its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// Exchange sends one command and returns the reply, whatever its status.
// Errors are I/O errors, timeouts (serialio.ErrTimeout) and broken frames
// (ErrChecksum, ErrShortFrame, ErrFrame).
func (r *Reader) Exchange(ctx context.Context, c Command, data []byte) (Response, error) {
	req, err := EncodeRequest(c, data)
	if err != nil {
		return Response{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Response{}, context.Cause(ctx)
	}
	if r.dirty {
		serialio.Drain(r.rw, drainTime, r.clock.Now)
		r.dirty = false
	}
	resp, err := r.exchange(ctx, req)
	if err != nil {
		r.dirty = true
		return Response{}, fmt.Errorf("idcard: %v: %w", c, err)
	}
	return resp, nil
}

func (r *Reader) exchange(ctx context.Context, req []byte) (Response, error) {
	if n, err := r.rw.Write(req); err != nil || n != len(req) {
		if err == nil {
			err = io.ErrShortWrite
		}
		return Response{}, fmt.Errorf("write: %w", err)
	}
	rd := ctxReader{ctx, r.rw}
	hdr := make([]byte, HeaderLen)
	deadline := r.deadline(ctx, r.o.HeaderTimeout)
	if _, err := serialio.ReadFull(rd, hdr, deadline, r.clock.Now); err != nil {
		return Response{}, err
	}
	for skipped := 0; !bytes.Equal(hdr[:len(Preamble)], Preamble[:]); skipped++ {
		if skipped == maxSkip {
			return Response{}, fmt.Errorf("%w: no preamble in %d bytes", ErrFrame, maxSkip)
		}
		copy(hdr, hdr[1:])
		if _, err := serialio.ReadFull(rd, hdr[HeaderLen-1:], deadline, r.clock.Now); err != nil {
			return Response{}, err
		}
	}
	n := int(hdr[5])<<8 | int(hdr[6])
	if n < 4 || n > maxReply {
		return Response{}, fmt.Errorf("%w: LEN %d", ErrFrame, n)
	}
	frame := make([]byte, HeaderLen+n)
	copy(frame, hdr)
	if _, err := serialio.ReadFull(rd, frame[HeaderLen:], r.deadline(ctx, r.o.FrameTimeout), r.clock.Now); err != nil {
		return Response{}, err
	}
	return DecodeResponse(frame)
}

func (r *Reader) deadline(ctx context.Context, d time.Duration) time.Time {
	t := r.clock.Now().Add(d)
	if cd, ok := ctx.Deadline(); ok && cd.Before(t) {
		return cd
	}
	return t
}

// do exchanges c and fails with a *StatusError unless the status is want.
//
// An unexpected status may be the late reply to an earlier, abandoned
// request rather than the answer to this one, so the line is drained before
// the next request; only "no card" to a find, which polling meets all the
// time, is taken at its word.
func (r *Reader) do(ctx context.Context, c Command, data []byte, want Status) (Response, error) {
	resp, err := r.Exchange(ctx, c, data)
	if err == nil && resp.Status != want {
		err = &StatusError{Cmd: c, Status: resp.Status}
		if !errors.Is(err, ErrNoCard) {
			r.mu.Lock()
			r.dirty = true
			r.mu.Unlock()
		}
	}
	return resp, err
}

// ResetSAM resets the security module.
func (r *Reader) ResetSAM(ctx context.Context) error {
	_, err := r.do(ctx, CmdSAMReset, nil, StatusOK)
	return err
}

// SAMStatus asks the security module for its self-test result: nil when it
// answers 90, an error matching ErrSAM when it answers anything else.
func (r *Reader) SAMStatus(ctx context.Context) error {
	_, err := r.do(ctx, CmdSAMStatus, nil, StatusOK)
	r.samOK.Store(err == nil)
	return err
}

// SAMID reads the security module's identity.
func (r *Reader) SAMID(ctx context.Context) (SAMID, error) {
	var id SAMID
	resp, err := r.do(ctx, CmdSAMID, nil, StatusOK)
	if err != nil {
		return id, err
	}
	if len(resp.Data) != len(id) {
		return id, fmt.Errorf("%w: SAM ID of %d bytes, want %d", ErrFrame, len(resp.Data), len(id))
	}
	copy(id[:], resp.Data)
	return id, nil
}

// SetMaxRFFrame sets the largest RF frame the reader exchanges with a card,
// 1–255 bytes (80 is what most hosts send at start-up).
func (r *Reader) SetMaxRFFrame(ctx context.Context, n int) error {
	if n < 1 || n > 255 {
		return fmt.Errorf("idcard: RF frame of %d bytes: want 1–255", n)
	}
	_, err := r.do(ctx, CmdSetMaxRF, []byte{byte(n)}, StatusOK)
	return err
}

// find returns nil when a card is in the field and an error matching
// ErrNoCard when there is none.
func (r *Reader) find(ctx context.Context) error {
	_, err := r.do(ctx, CmdFindCard, nil, StatusCardFound)
	return err
}

// readFound selects the card found and reads it.
func (r *Reader) readFound(ctx context.Context) (*Card, error) {
	if _, err := r.do(ctx, CmdSelectCard, nil, StatusOK); err != nil {
		return nil, err
	}
	resp, err := r.do(ctx, CmdReadText, nil, StatusOK)
	if err != nil {
		return nil, err
	}
	text, photo, err := SplitRead(resp.Data)
	if err != nil {
		return nil, fmt.Errorf("idcard: %v: %w", CmdReadText, err)
	}
	c, err := DecodeText(text)
	if err != nil {
		return nil, err
	}
	c.Photo = bytes.Clone(photo)
	return c, nil
}

// Read runs the polling sequence once: SAM status, find, select, read. It
// returns an error matching ErrNoCard when no card is on the reader,
// ErrCardRemoved when the card went during the read, ErrSAM, ErrInvalidText
// (and ErrCheckDigit) for a card whose data does not validate, or the
// transport's error. It never returns part of a card.
func (r *Reader) Read(ctx context.Context) (*Card, error) {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	ctx, cancel := r.haltable(ctx)
	defer cancel()
	c, err := r.read(ctx)
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return c, err
}

func (r *Reader) read(ctx context.Context) (*Card, error) {
	if err := r.SAMStatus(ctx); err != nil {
		return nil, err
	}
	if err := r.find(ctx); err != nil {
		return nil, err
	}
	c, err := r.readFound(ctx)
	if err != nil {
		r.samOK.Store(false)
		return nil, err
	}
	r.present = true
	return c, nil
}

// Poll waits for the next card placed on the reader and returns it. It
// finds every interval; a card is reported once per placement, so a card
// left on the reader is not read again until a find says it is gone. A
// failed attempt (broken frame, timeout, SAM error, card lifted mid-read) is
// retried after a backoff that doubles from interval up to Opts.MaxBackoff;
// after Opts.MaxRetries failures in a row Poll returns the last error. A
// card whose data does not validate is returned at once as an error
// matching ErrInvalidText, and counts as reported. Port errors, the end of
// ctx and Halt end Poll at once.
func (r *Reader) Poll(ctx context.Context, interval time.Duration) (*Card, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("idcard: poll interval %v: want > 0", interval)
	}
	r.opMu.Lock()
	defer r.opMu.Unlock()
	ctx, cancel := r.haltable(ctx)
	defer cancel()
	fails := 0
	var wait time.Duration
	for {
		if wait > 0 {
			t := r.clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, context.Cause(ctx)
			case <-t.Chan():
			}
		}
		c, err := r.pollOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case err == nil && c != nil:
			return c, nil
		case err == nil:
			fails, wait = 0, interval
		case errors.Is(err, ErrInvalidText) || !retryable(err):
			return nil, err
		default:
			fails++
			if fails >= r.o.MaxRetries {
				return nil, err
			}
			wait = backoff(interval, fails, r.o.MaxBackoff)
		}
	}
}

// pollOnce finds, and reads the card if it is newly placed. It returns nil,
// nil when there is nothing to report.
func (r *Reader) pollOnce(ctx context.Context) (*Card, error) {
	if !r.samOK.Load() {
		if err := r.SAMStatus(ctx); err != nil {
			return nil, err
		}
	}
	err := r.find(ctx)
	switch {
	case errors.Is(err, ErrNoCard):
		r.present = false
		return nil, nil
	case err != nil:
		r.samOK.Store(false)
		return nil, err
	case r.present:
		return nil, nil
	}
	c, err := r.readFound(ctx)
	if err != nil {
		r.samOK.Store(false)
		if errors.Is(err, ErrInvalidText) {
			r.present = true
		}
		return nil, err
	}
	r.present = true
	return c, nil
}

// backoff is the wait after the given number of failures in a row: interval,
// then doubling, never above max.
func backoff(interval time.Duration, fails int, max time.Duration) time.Duration {
	wait := interval
	for i := 1; i < fails && wait < max; i++ {
		wait *= 2
	}
	return min(wait, max)
}

// retryable tells the errors a new attempt may cure from those of the port.
func retryable(err error) bool {
	var se *StatusError
	return errors.As(err, &se) || errors.Is(err, serialio.ErrTimeout) ||
		errors.Is(err, ErrChecksum) || errors.Is(err, ErrShortFrame) || errors.Is(err, ErrFrame)
}
