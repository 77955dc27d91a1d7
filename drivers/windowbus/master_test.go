package windowbus_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/windowbus"
)

// sched runs a Master over a fakeLink in lock step: every bus transaction
// waits until the test has read it with next.
type sched struct {
	l      *fakeLink
	m      *windowbus.Master
	clock  *clockwork.FakeClock
	cancel context.CancelFunc
	done   chan error
}

func newSched(t *testing.T, terms []windowbus.Addr, displays []windowbus.Addr, mod func(*windowbus.Opts)) *sched {
	t.Helper()
	s := &sched{l: newFakeLink(), clock: clockwork.NewFakeClock(), done: make(chan error, 1)}
	s.l.step = make(chan string)
	o := windowbus.Opts{Clock: s.clock, Displays: displays}
	for _, a := range terms {
		s.l.addTerminal(a, 100+uint16(a))
		o.Terminals = append(o.Terminals, windowbus.Terminal{Addr: a, Window: int(a) + 10})
	}
	for _, a := range displays {
		s.l.addHall(a, 100+uint16(a))
	}
	if mod != nil {
		mod(&o)
	}
	m, err := windowbus.New(&bytes.Buffer{}, fakeProto{s.l}, &o)
	if err != nil {
		t.Fatal(err)
	}
	s.m = m
	return s
}

func (s *sched) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- s.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		// Let a transaction waiting in step finish.
		for {
			select {
			case <-s.l.step:
				continue
			case <-s.done:
				return
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return")
				return
			}
		}
	})
}

// next returns the next bus transaction.
func (s *sched) next(t *testing.T) string {
	t.Helper()
	select {
	case op := <-s.l.step:
		return op
	case err := <-s.done:
		t.Fatalf("Run returned %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("no bus transaction within 10 s")
	}
	return ""
}

// expect checks the next transactions.
func (s *sched) expect(t *testing.T, ops ...string) {
	t.Helper()
	for i, want := range ops {
		if got := s.next(t); got != want {
			t.Fatalf("transaction %d = %q, want %q", i, got, want)
		}
	}
}

// until runs transactions until op, at most max of them, and returns those
// before it.
func (s *sched) until(t *testing.T, op string, max int) []string {
	t.Helper()
	var seen []string
	for i := 0; i < max; i++ {
		got := s.next(t)
		if got == op {
			return seen
		}
		seen = append(seen, got)
	}
	t.Fatalf("no %q within %d transactions: %q", op, max, seen)
	return nil
}

// take returns the next press, running the bus meanwhile.
func (s *sched) take(t *testing.T) windowbus.Press {
	t.Helper()
	for i := 0; i < 1000; i++ {
		select {
		case p := <-s.m.Presses():
			return p
		case <-s.l.step:
		case <-time.After(10 * time.Second):
			t.Fatalf("no press and no transaction within 10 s")
		}
	}
	t.Fatalf("no press within 1000 transactions")
	return windowbus.Press{}
}

func (s *sched) health(a windowbus.Addr) windowbus.Health {
	for _, h := range s.m.Health() {
		if h.Addr == a {
			return h
		}
	}
	return windowbus.Health{}
}

func TestMasterFirstContact(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1, 2}, []windowbus.Addr{201}, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1", "identify 2", "poll 2", "identify 201", "poll 1", "poll 2", "poll 1")
	// The display is checked again after CheckEvery.
	s.clock.Advance(windowbus.DefaultOpts.CheckEvery)
	s.until(t, "identify 201", 4)
	s.next(t) // the check's result is in once the next transaction starts
	if h := s.health(201); !h.Up || h.Identity.Kind != windowbus.KindHall || h.Polls != 2 {
		t.Errorf("display health = %+v, want up, hall, 2 checks", h)
	}
}

func TestMasterPressDeliveredOnceAndAckedAfterTaken(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1, 2}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1", "identify 2", "poll 2")
	seq := s.l.press(1, windowbus.KeyCall, 0)
	s.expect(t, "poll 1")
	// Not taken yet: the bus goes on, no acknowledgement.
	for i := 0; i < 10; i++ {
		if op := s.next(t); strings.HasPrefix(op, "ack") {
			t.Fatalf("acknowledged before the consumer took the press: %q", op)
		}
	}
	p := <-s.m.Presses()
	want := windowbus.Press{Addr: 1, Window: 11, Key: windowbus.KeyCall, Seq: seq, Boot: 101}
	if p.Addr != want.Addr || p.Window != want.Window || p.Key != want.Key || p.Seq != want.Seq || p.Boot != want.Boot {
		t.Fatalf("press = %+v, want %+v", p, want)
	}
	// The ack goes out once the delivery is recorded, before the next poll
	// of terminal 1.
	s.until(t, fmt.Sprintf("ack 1 %d", seq), 200)
	for i := 0; i < 10; i++ {
		s.next(t)
	}
	select {
	case p := <-s.m.Presses():
		t.Fatalf("press delivered twice: %+v", p)
	default:
	}
	if n := s.l.pending(1); n != 0 {
		t.Errorf("FIFO holds %d presses after the ack, want 0", n)
	}
	// While the consumer kept it waiting, polls read it again and dropped it.
	if h := s.health(1); h.Presses != 1 || h.Duplicates == 0 {
		t.Errorf("health presses %d duplicates %d, want 1, >0", h.Presses, h.Duplicates)
	}
}

func TestMasterBacklogKeepsPressesInFIFO(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, func(o *windowbus.Opts) { o.Backlog = 1 })
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	var seqs []uint16
	for i := 0; i < 5; i++ {
		seqs = append(seqs, s.l.press(1, windowbus.KeyRate1+windowbus.Key(i%5), uint16(i)))
	}
	// The consumer is slow: polls run, presses stay in the FIFO.
	for i := 0; i < 20; i++ {
		if op := s.next(t); strings.HasPrefix(op, "ack") {
			t.Fatalf("acknowledged before the consumer took anything: %q", op)
		}
	}
	if n := s.l.pending(1); n != 5 {
		t.Fatalf("FIFO holds %d, want all 5 presses", n)
	}
	for i, want := range seqs {
		p := s.take(t)
		if p.Seq != want || p.Arg != uint16(i) {
			t.Fatalf("press %d = seq %d arg %d, want seq %d arg %d", i, p.Seq, p.Arg, want, i)
		}
	}
	for i := 0; i < 20; i++ {
		s.next(t)
	}
	if n := s.l.pending(1); n != 0 {
		t.Errorf("FIFO holds %d after all were taken, want 0", n)
	}
	h := s.health(1)
	if h.Presses != 5 || h.Duplicates == 0 || h.BacklogFull == 0 {
		t.Errorf("health presses %d duplicates %d backlog-full %d, want 5, >0, >0", h.Presses, h.Duplicates, h.BacklogFull)
	}
	select {
	case p := <-s.m.Presses():
		t.Fatalf("extra press %+v", p)
	default:
	}
}

func TestMasterLostAckIsRetried(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	seq := s.l.press(1, windowbus.KeyFinish, 0)
	s.l.mu.Lock()
	s.l.loseAck = true
	s.l.mu.Unlock()
	p := s.take(t)
	ack := fmt.Sprintf("ack 1 %d", seq)
	s.until(t, ack, 200)
	// The reply was lost: the Master sends it again; the terminal had
	// applied the first, so its FIFO is empty and nothing is re-delivered.
	s.until(t, ack, 3)
	for i := 0; i < 10; i++ {
		s.next(t)
	}
	select {
	case q := <-s.m.Presses():
		t.Fatalf("press %+v delivered again after %+v", q, p)
	default:
	}
	if h := s.health(1); h.Timeouts != 1 || !h.Up {
		t.Errorf("health = %+v, want 1 timeout, up", h)
	}
}

func TestMasterRefusedAckIsRetriedAfterPoll(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	seq := s.l.press(1, windowbus.KeyHold, 0)
	s.l.mu.Lock()
	s.l.refuseAck = true
	s.l.mu.Unlock()
	s.take(t)
	ack := fmt.Sprintf("ack 1 %d", seq)
	s.until(t, ack, 200)
	// Refused: a poll first, which still shows the press, then the ack again.
	s.expect(t, "poll 1", ack)
	for i := 0; i < 10; i++ {
		s.next(t)
	}
	select {
	case p := <-s.m.Presses():
		t.Fatalf("press delivered again: %+v", p)
	default:
	}
	if h := s.health(1); h.Exceptions != 1 || s.l.pending(1) != 0 {
		t.Errorf("exceptions %d, FIFO %d, want 1, 0", h.Exceptions, s.l.pending(1))
	}
}

func TestMasterCoalescesShow(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1, 2}, nil, nil)
	for _, c := range []struct {
		a    windowbus.Addr
		text string
	}{{1, "A001"}, {1, "A002"}, {2, "B001"}, {1, "A003"}} {
		if err := s.m.Show(c.a, c.text); err != nil {
			t.Fatal(err)
		}
	}
	s.start(t)
	var ops []string
	for i := 0; i < 12; i++ {
		ops = append(ops, s.next(t))
	}
	var shows []string
	for _, op := range ops {
		if strings.HasPrefix(op, "show") {
			shows = append(shows, op)
		}
	}
	if want := []string{"show 1 A003", "show 2 B001"}; strings.Join(shows, ",") != strings.Join(want, ",") {
		t.Errorf("writes = %q, want %q (in %q)", shows, want, ops)
	}
}

func TestMasterShowNowJumpsQueue(t *testing.T) {
	var terms []windowbus.Addr
	for a := windowbus.Addr(1); a <= 10; a++ {
		terms = append(terms, a)
	}
	s := newSched(t, terms, []windowbus.Addr{201}, nil)
	s.start(t)
	s.until(t, "identify 201", 30)
	for _, a := range terms {
		if err := s.m.Show(a, fmt.Sprintf("暂停 %d", a)); err != nil {
			t.Fatal(err)
		}
	}
	s.until(t, "show 1 暂停 1", 3)
	if err := s.m.ShowNow(201, "A012 请到5号窗口"); err != nil {
		t.Fatal(err)
	}
	// At most the transaction already chosen goes first.
	before := s.until(t, "show 201 A012 请到5号窗口", 2)
	for _, op := range before {
		if strings.HasPrefix(op, "show") {
			t.Errorf("queued write %q went before the urgent one", op)
		}
	}
}

func TestMasterPollsNotStarvedByBroadcast(t *testing.T) {
	var terms []windowbus.Addr
	for a := windowbus.Addr(1); a <= 40; a++ {
		terms = append(terms, a)
	}
	s := newSched(t, terms, nil, nil)
	s.start(t)
	s.until(t, "poll 40", 100)
	for _, a := range terms {
		if err := s.m.Show(a, "暂停服务"); err != nil {
			t.Fatal(err)
		}
	}
	var ops []string
	for i := 0; i < 80; i++ {
		ops = append(ops, s.next(t))
	}
	shows, polls := 0, 0
	for i, op := range ops {
		switch {
		case strings.HasPrefix(op, "show"):
			shows++
			if i > 0 && strings.HasPrefix(ops[i-1], "show") {
				t.Fatalf("two writes in a row at %d: %q", i, ops[i-1:i+1])
			}
		case strings.HasPrefix(op, "poll"):
			polls++
		}
	}
	if shows != 40 || polls != 40 {
		t.Errorf("80 transactions = %d writes and %d polls, want 40 and 40", shows, polls)
	}
}

func TestMasterDeadTerminalBacksOff(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1, 2}, nil, nil)
	s.l.setFail(2, fmt.Errorf("fake: %w", windowbus.ErrTimeout), 0)
	s.start(t)
	// Three misses in a row mark it down…
	s.expect(t, "identify 1", "poll 1", "identify 2", "poll 1", "identify 2", "poll 1", "identify 2")
	// …then only terminal 1 is polled until the back-off expires.
	for i := 0; i < 10; i++ {
		if op := s.next(t); op != "poll 1" {
			t.Fatalf("transaction %q while terminal 2 is backed off", op)
		}
	}
	h := s.health(2)
	if h.Up || h.Timeouts != 3 || h.Misses != 3 {
		t.Fatalf("health = %+v, want down after 3 timeouts", h)
	}
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if i > 0 {
			s.expect(t, "poll 1") // the failed probe has been recorded
		}
		s.clock.Advance(wait - time.Millisecond)
		for j := 0; j < 3; j++ {
			if op := s.next(t); op != "poll 1" {
				t.Fatalf("probe %d: %q before the back-off of %v expired", i, op, wait)
			}
		}
		s.clock.Advance(time.Millisecond)
		s.until(t, "identify 2", 4)
	}
	// It comes back: identified and polled again every cycle.
	s.expect(t, "poll 1")
	s.l.setFail(2, nil, 0)
	s.clock.Advance(8 * time.Second)
	s.until(t, "identify 2", 3)
	s.until(t, "poll 2", 3)
	s.until(t, "poll 2", 3)
	if h := s.health(2); !h.Up || h.Timeouts != 6 {
		t.Errorf("health = %+v, want up with 6 timeouts", h)
	}
}

func TestMasterRebootResyncsAndRewrites(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	if err := s.m.Show(1, "A001 请到11号窗口"); err != nil {
		t.Fatal(err)
	}
	s.until(t, "show 1 A001 请到11号窗口", 3)
	for i := 0; i < 3; i++ {
		s.l.press(1, windowbus.KeyCall, 0)
		s.take(t)
	}
	s.until(t, "ack 1 3", 200)
	s.next(t) // the ack has been applied
	s.l.reboot(1, 999)
	seq := s.l.press(1, windowbus.KeyRecall, 0)
	p := s.take(t)
	if p.Seq != seq || p.Boot != 999 || p.Key != windowbus.KeyRecall {
		t.Fatalf("press after reboot = %+v, want seq %d boot 999 recall", p, seq)
	}
	for i := 0; s.l.textOf(1) != "A001 请到11号窗口"; i++ {
		if i == 10 {
			t.Fatalf("text not restored after the reboot: %q", s.l.ops())
		}
		s.next(t)
	}
	if h := s.health(1); h.Reboots != 1 || h.Presses != 4 {
		t.Errorf("health reboots %d presses %d, want 1, 4", h.Reboots, h.Presses)
	}
}

func TestMasterDisconnectStopsRun(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.l.setFail(1, fmt.Errorf("fake: read: %w", windowbus.ErrDisconnected), 0)
	s.start(t)
	s.next(t)
	select {
	case err := <-s.done:
		if !errors.Is(err, windowbus.ErrDisconnected) {
			t.Fatalf("Run = %v, want ErrDisconnected", err)
		}
		s.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if _, ok := <-s.m.Presses(); ok {
		t.Error("Presses still open after Run returned")
	}
}

func TestMasterRefusedWriteNotRetried(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	s.l.setFail(1, &windowbus.ExceptionError{Code: 2}, 1)
	if err := s.m.Show(1, "X"); err != nil {
		t.Fatal(err)
	}
	s.until(t, "show 1 X", 3)
	for i := 0; i < 10; i++ {
		if op := s.next(t); op != "poll 1" {
			t.Fatalf("transaction %q after a refused write, want polls only", op)
		}
	}
	if h := s.health(1); h.Exceptions != 1 || !h.Up || h.Misses != 0 {
		t.Errorf("health = %+v, want 1 exception, up", h)
	}
}

func TestMasterFailedWriteRetried(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	s.l.setFail(1, fmt.Errorf("fake: %w", windowbus.ErrChecksum), 1)
	if err := s.m.ShowNow(1, "Y"); err != nil {
		t.Fatal(err)
	}
	s.until(t, "show 1 Y", 2)
	s.expect(t, "show 1 Y")
	s.next(t)
	if got := s.l.textOf(1); got != "Y" {
		t.Errorf("text = %q, want Y", got)
	}
	if h := s.health(1); h.ChecksumErrors != 1 || h.Writes != 1 {
		t.Errorf("health = %+v, want 1 checksum error, 1 write", h)
	}
}

func TestMasterTruncatesToCapacity(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	long := strings.Repeat("窗", 40) // 80 bytes, capacity 64
	if err := s.m.Show(1, long); err != nil {
		t.Fatal(err)
	}
	want := "show 1 " + strings.Repeat("窗", 32)
	s.until(t, want, 3)
	if h := s.health(1); h.Truncated != 1 {
		t.Errorf("truncated = %d, want 1", h.Truncated)
	}
}

func TestMasterBeepAndConfigure(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	s.start(t)
	s.expect(t, "identify 1", "poll 1")
	if err := s.m.Beep(1, windowbus.Beep{Count: 2, Length: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := s.m.Configure(1, windowbus.Settings{Mode: windowbus.ModePaused, Brightness: 50}); err != nil {
		t.Fatal(err)
	}
	s.until(t, "beep 1 2", 3)
	s.until(t, "configure 1 1", 3)
	// Settings survive a reboot.
	s.l.reboot(1, 7)
	for i := 0; s.l.count("configure 1 1") < 2; i++ {
		if i == 20 {
			t.Fatalf("settings not restored after the reboot: %q", s.l.ops())
		}
		s.next(t)
	}
}

func TestMasterRequestValidation(t *testing.T) {
	s := newSched(t, []windowbus.Addr{1}, nil, nil)
	tests := []struct {
		name string
		call func() error
	}{
		{"show unknown address", func() error { return s.m.Show(9, "x") }},
		{"show control character", func() error { return s.m.Show(1, "a\x07b") }},
		{"show too long", func() error { return s.m.Show(1, strings.Repeat("x", windowbus.MaxText+1)) }},
		{"show not GB18030", func() error { return s.m.Show(1, "\xff\xfe") }},
		{"beep zero", func() error { return s.m.Beep(1, windowbus.Beep{Count: 0, Length: time.Second}) }},
		{"beep too long", func() error { return s.m.Beep(1, windowbus.Beep{Count: 1, Length: 3 * time.Second}) }},
		{"configure brightness", func() error { return s.m.Configure(1, windowbus.Settings{Brightness: 101}) }},
		{"configure mode", func() error { return s.m.Configure(1, windowbus.Settings{Mode: 7}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil {
				t.Errorf("%s = nil, want an error", tt.name)
			}
		})
	}
}

func TestNewValidatesOpts(t *testing.T) {
	term := func(a windowbus.Addr) windowbus.Terminal { return windowbus.Terminal{Addr: a, Window: 1} }
	tests := []struct {
		name string
		o    windowbus.Opts
	}{
		{"no devices", windowbus.Opts{}},
		{"address 0", windowbus.Opts{Terminals: []windowbus.Terminal{term(0)}}},
		{"address 248", windowbus.Opts{Terminals: []windowbus.Terminal{term(248)}}},
		{"duplicate", windowbus.Opts{Terminals: []windowbus.Terminal{term(3)}, Displays: []windowbus.Addr{3}}},
		{"negative window", windowbus.Opts{Terminals: []windowbus.Terminal{{Addr: 1, Window: -1}}}},
		{"baud", windowbus.Opts{Baud: 50, Terminals: []windowbus.Terminal{term(1)}}},
		{"backoff range", windowbus.Opts{Backoff: time.Minute, MaxBackoff: time.Second, Terminals: []windowbus.Terminal{term(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := windowbus.New(&bytes.Buffer{}, fakeProto{newFakeLink()}, &tt.o); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tt.o)
			}
		})
	}
	if _, err := windowbus.New(&bytes.Buffer{}, fakeProto{newFakeLink()}, &windowbus.Opts{Terminals: []windowbus.Terminal{term(1)}}); err != nil {
		t.Errorf("New(one terminal) = %v, want nil", err)
	}
}
