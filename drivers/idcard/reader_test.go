package idcard

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/serialio"
)

// step is one request the driver must write and the bytes the device then
// sends back.
type step struct {
	w, r []byte
}

// playback is a scripted serial port, after periph's conntest.Playback. A
// read with nothing queued returns (0, nil) after advancing the fake clock
// by one port read timeout, as go.bug.st/serial does.
type playback struct {
	t     *testing.T
	clock *clockwork.FakeClock

	mu      sync.Mutex
	steps   []step
	pending []byte
}

func (p *playback) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.steps) == 0 {
		p.t.Errorf("unexpected write % X", b)
		return 0, errors.New("playback: no step left")
	}
	s := p.steps[0]
	p.steps = p.steps[1:]
	if !bytes.Equal(b, s.w) {
		p.t.Errorf("write % X, want % X", b, s.w)
		return 0, errors.New("playback: wrong request")
	}
	p.pending = append(p.pending, s.r...)
	return len(b), nil
}

func (p *playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		p.clock.Advance(50 * time.Millisecond)
		return 0, nil
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *playback) done() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.steps) != 0 {
		p.t.Errorf("%d steps left over, next writes % X", len(p.steps), p.steps[0].w)
	}
}

func newPlayback(t *testing.T, steps ...step) (*Reader, *playback) {
	t.Helper()
	fc := clockwork.NewFakeClock()
	p := &playback{t: t, clock: fc, steps: steps}
	r, err := New(p, &Opts{Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

func req(t *testing.T, c Command, data ...byte) []byte {
	b, err := EncodeRequest(c, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func resp(t *testing.T, s Status, data ...byte) []byte {
	b, err := EncodeResponse(s, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readOK(t *testing.T, c *Card) []byte {
	text, err := EncodeText(c)
	if err != nil {
		t.Fatal(err)
	}
	photo := c.Photo
	if photo == nil {
		photo = make([]byte, PhotoLen)
	}
	data, err := JoinRead(text, photo)
	if err != nil {
		t.Fatal(err)
	}
	return resp(t, StatusOK, data...)
}

func TestReadScripts(t *testing.T) {
	card := goodCard()
	card.Photo = bytes.Repeat([]byte{1, 2, 3, 4}, PhotoLen/4)
	bad := goodCard()
	bad.Number = "000000198506150021"
	status := func() step { return step{req(t, CmdSAMStatus), resp(t, StatusOK)} }
	find := func() step { return step{req(t, CmdFindCard), resp(t, StatusCardFound, 0, 0, 0, 0)} }
	sel := func() step { return step{req(t, CmdSelectCard), resp(t, StatusOK, make([]byte, 8)...)} }
	corrupt := readOK(t, card)
	corrupt[500] ^= 0xFF
	tests := []struct {
		name    string
		steps   []step
		want    *Card
		wantErr []error
	}{
		{"card", []step{status(), find(), sel(), {req(t, CmdReadText), readOK(t, card)}}, card, nil},
		{"noise before the preamble", []step{
			{req(t, CmdSAMStatus), append([]byte{0x00, 0xAA, 0xAA, 0x55}, resp(t, StatusOK)...)},
			{req(t, CmdFindCard), append([]byte{0xAA}, resp(t, StatusCardFound, 0, 0, 0, 0)...)},
			sel(), {req(t, CmdReadText), readOK(t, card)}}, card, nil},
		{"no card", []step{status(), {req(t, CmdFindCard), resp(t, StatusNoCard)}}, nil, []error{ErrNoCard}},
		{"SAM self-test failed", []step{{req(t, CmdSAMStatus), resp(t, StatusSelfTest)}}, nil, []error{ErrSAM}},
		{"select fails: card lifted", []step{status(), find(), {req(t, CmdSelectCard), resp(t, StatusSelectFailed)}}, nil, []error{ErrCardRemoved}},
		{"read fails: card lifted mid-read", []step{status(), find(), sel(), {req(t, CmdReadText), resp(t, StatusReadFailed)}}, nil, []error{ErrCardRemoved}},
		{"bad checksum", []step{status(), find(), sel(), {req(t, CmdReadText), corrupt}}, nil, []error{ErrChecksum}},
		{"silent reader", []step{{req(t, CmdSAMStatus), nil}}, nil, []error{serialio.ErrTimeout}},
		{"frame cut short", []step{status(), find(), sel(), {req(t, CmdReadText), readOK(t, card)[:700]}}, nil, []error{serialio.ErrTimeout}},
		{"absurd LEN", []step{{req(t, CmdSAMStatus), []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF}}}, nil, []error{ErrFrame}},
		{"wrong text length", []step{status(), find(), sel(), {req(t, CmdReadText), resp(t, StatusOK, 0, 2, 0, 0, 'a', 0)}}, nil, []error{ErrInvalidText}},
		{"bad check digit", []step{status(), find(), sel(), {req(t, CmdReadText), readOK(t, bad)}}, nil, []error{ErrInvalidText, ErrCheckDigit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p := newPlayback(t, tt.steps...)
			got, err := r.Read(context.Background())
			p.done()
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Read error = %v, want %v", err, want)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Read error = %v", err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && !equalCard(got, tt.want)) {
				t.Errorf("Read = %+v, want %+v", got, tt.want)
			}
			if err != nil && bytes.Contains([]byte(err.Error()), []byte(bad.Number)) {
				t.Errorf("error %q quotes the number", err)
			}
		})
	}
}

func TestDrainAfterBrokenReply(t *testing.T) {
	// A reply whose CHK is wrong, followed by stray bytes: the next
	// exchange must discard them and not take them for its answer.
	broken := resp(t, StatusOK)
	broken[len(broken)-1] ^= 1
	r, p := newPlayback(t,
		step{req(t, CmdSAMStatus), append(broken, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84)},
		step{req(t, CmdSAMStatus), resp(t, StatusOK)},
	)
	if err := r.SAMStatus(context.Background()); !errors.Is(err, ErrChecksum) {
		t.Fatalf("SAMStatus = %v, want ErrChecksum", err)
	}
	if err := r.SAMStatus(context.Background()); err != nil {
		t.Fatalf("SAMStatus after a broken reply = %v, want nil", err)
	}
	p.done()
}

func TestResyncAfterStaleReply(t *testing.T) {
	// The reply to an abandoned find arrives late, ahead of the reply to the
	// SAM status: the driver takes it for the answer, fails, and must drain
	// before the next request rather than stay one reply behind.
	stale := resp(t, StatusCardFound, 0, 0, 0, 0)
	r, p := newPlayback(t,
		step{req(t, CmdSAMStatus), append(stale, resp(t, StatusOK)...)},
		step{req(t, CmdSAMStatus), resp(t, StatusOK)},
	)
	var se *StatusError
	if err := r.SAMStatus(context.Background()); !errors.As(err, &se) || se.Status != StatusCardFound {
		t.Fatalf("SAMStatus with a stale reply first = %v, want a StatusError 9F", err)
	}
	if err := r.SAMStatus(context.Background()); err != nil {
		t.Fatalf("SAMStatus after a stale reply = %v, want nil", err)
	}
	p.done()
}

func TestCommands(t *testing.T) {
	id := []byte{0x05, 0x00, 0x01, 0x00, 0x60, 0xB8, 0x32, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xB1, 0x68, 0xDE, 0x3A}
	r, p := newPlayback(t,
		step{hexb(t, "AA AA AA 96 69 00 03 12 FF EE"), resp(t, StatusOK, id...)},
		step{hexb(t, "AA AA AA 96 69 00 04 61 FF 50 CA"), resp(t, StatusOK)},
		step{hexb(t, "AA AA AA 96 69 00 03 10 FF EC"), resp(t, StatusOK)},
		step{hexb(t, "AA AA AA 96 69 00 03 12 FF EE"), resp(t, StatusOK, 1, 2, 3)},
	)
	ctx := context.Background()
	got, err := r.SAMID(ctx)
	if err != nil || got.String() != "05.01-20101216-0012345678-0987654321" {
		t.Errorf("SAMID = %v, %v", got, err)
	}
	if err := r.SetMaxRFFrame(ctx, 80); err != nil {
		t.Errorf("SetMaxRFFrame(80) = %v", err)
	}
	if err := r.ResetSAM(ctx); err != nil {
		t.Errorf("ResetSAM = %v", err)
	}
	if _, err := r.SAMID(ctx); !errors.Is(err, ErrFrame) {
		t.Errorf("SAMID with 3 data bytes = %v, want ErrFrame", err)
	}
	for _, n := range []int{0, 256} {
		if err := r.SetMaxRFFrame(ctx, n); err == nil {
			t.Errorf("SetMaxRFFrame(%d) = nil, want an error", n)
		}
	}
	p.done()
	if got := r.String(); got != "idcard.Reader" {
		t.Errorf("String() = %q", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		o    *Opts
		ok   bool
	}{
		{"nil opts", nil, true},
		{"zero opts take defaults", &Opts{}, true},
		{"negative timeout", &Opts{HeaderTimeout: -time.Second}, false},
		{"negative retries", &Opts{MaxRetries: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(&playback{t: t}, tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%+v) error = %v, want ok %v", tt.o, err, tt.ok)
			}
			if r != nil && r.o.HeaderTimeout != DefaultOpts.HeaderTimeout {
				t.Errorf("HeaderTimeout = %v, want the default", r.o.HeaderTimeout)
			}
		})
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil port) = nil error")
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name  string
		fails int
		want  time.Duration
	}{
		{"first failure", 1, time.Second},
		{"second", 2, 2 * time.Second},
		{"third", 3, 4 * time.Second},
		{"capped", 4, 5 * time.Second},
		{"far beyond", 200, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(time.Second, tt.fails, 5*time.Second); got != tt.want {
				t.Errorf("backoff(1s, %d, 5s) = %v, want %v", tt.fails, got, tt.want)
			}
		})
	}
}

// hangGuard returns a context cancelled after 10 s, so that a broken test
// cannot hang. It has no deadline: the reader would compare one on the real
// clock with the fake clock's time.
func hangGuard(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(10*time.Second, cancel)
	t.Cleanup(func() { stop.Stop(); cancel() })
	return ctx
}

// tick fires every timer Poll sets until ctx ends, and counts them.
func tick(ctx context.Context, fc *clockwork.FakeClock, waits *int) {
	for fc.BlockUntilContext(ctx, 1) == nil {
		*waits++
		fc.Advance(time.Minute)
	}
}

func TestPollOncePerPlacement(t *testing.T) {
	card := goodCard()
	card.Photo = make([]byte, PhotoLen)
	status := step{req(t, CmdSAMStatus), resp(t, StatusOK)}
	found := step{req(t, CmdFindCard), resp(t, StatusCardFound, 0, 0, 0, 0)}
	none := step{req(t, CmdFindCard), resp(t, StatusNoCard)}
	sel := step{req(t, CmdSelectCard), resp(t, StatusOK, make([]byte, 8)...)}
	read := step{req(t, CmdReadText), readOK(t, card)}
	lifted := step{req(t, CmdReadText), resp(t, StatusReadFailed)}
	corrupt := readOK(t, card)
	corrupt[100] ^= 0x40
	r, p := newPlayback(t,
		// First Poll: nothing, then a card.
		status, none, found, sel, read,
		// Second Poll: the card is still there (this reader keeps saying
		// 9F), then lifted, then placed again and lifted during the read,
		// then a reply is garbled, and at last it reads.
		found, found, none, found, sel, lifted,
		status, found, sel, step{req(t, CmdReadText), corrupt},
		status, found, sel, read,
	)
	ctx := hangGuard(t)
	waits := 0
	tickCtx, stopTick := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tick(tickCtx, r.clock.(*clockwork.FakeClock), &waits) }()
	c, err := r.Poll(ctx, time.Second)
	if err != nil || !equalCard(c, card) {
		t.Fatalf("first Poll = %+v, %v", c, err)
	}
	c, err = r.Poll(ctx, time.Second)
	if err != nil || !equalCard(c, card) {
		t.Fatalf("second Poll = %+v, %v", c, err)
	}
	stopTick()
	<-done
	p.done()
	// One wait after the empty find; three while the card lay there or was
	// gone; one after the lifted read, one after the garbled reply.
	if waits != 6 {
		t.Errorf("Poll waited %d times, want 6", waits)
	}
}

func TestPollGivesUp(t *testing.T) {
	status := step{req(t, CmdSAMStatus), resp(t, StatusSelfTest)}
	r, p := newPlayback(t, status, status, status)
	r.o.MaxRetries = 3
	ctx := hangGuard(t)
	waits := 0
	tickCtx, stopTick := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tick(tickCtx, r.clock.(*clockwork.FakeClock), &waits) }()
	_, err := r.Poll(ctx, time.Second)
	stopTick()
	<-done
	p.done()
	if !errors.Is(err, ErrSAM) || waits != 2 {
		t.Errorf("Poll = %v after %d waits; want ErrSAM after 2", err, waits)
	}
}

func TestPollHalt(t *testing.T) {
	status := step{req(t, CmdSAMStatus), resp(t, StatusOK)}
	none := step{req(t, CmdFindCard), resp(t, StatusNoCard)}
	r, _ := newPlayback(t, status, none, none, none, none)
	errc := make(chan error)
	go func() {
		_, err := r.Poll(context.Background(), time.Second)
		errc <- err
	}()
	fc := r.clock.(*clockwork.FakeClock)
	if err := fc.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrHalted) {
		t.Errorf("Poll after Halt = %v, want ErrHalted", err)
	}
	if _, err := r.Poll(context.Background(), 0); err == nil {
		t.Error("Poll(interval 0) = nil error")
	}
}
