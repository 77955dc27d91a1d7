package voice

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"hallgw/firmware/testkit"
)

// call is one ticket called to one window.
type call struct {
	number string
	window int
}

func (c call) String() string { return fmt.Sprintf("%s@%d", c.number, c.window) }

// recPlayer records every play as "+label" at its start and "-label" at its
// end, and counts plays that overlap. hook, if set, runs in the middle of
// the nth play (from 0) and gives its result.
type recPlayer struct {
	clock  clockwork.Clock
	labels map[string]string // WAV → call label
	hook   func(ctx context.Context, n int) error

	mu      sync.Mutex
	active  int
	overlap int
	events  []string
	starts  []time.Time
	started chan string // receives the label of each play as it starts
}

func newRecPlayer(t *testing.T, c *Composer, clock clockwork.Clock, calls ...call) *recPlayer {
	t.Helper()
	p := &recPlayer{clock: clock, labels: map[string]string{}, started: make(chan string, 100)}
	for _, cl := range calls {
		ann, err := c.Compose(cl.number, cl.window)
		if err != nil {
			t.Fatal(err)
		}
		p.labels[string(ann.WAV)] = cl.String()
	}
	return p
}

func (p *recPlayer) Play(ctx context.Context, wav []byte) error {
	label, ok := p.labels[string(wav)]
	if !ok {
		label = "unknown"
	}
	p.mu.Lock()
	p.active++
	if p.active > 1 {
		p.overlap++
	}
	n := len(p.starts)
	p.events = append(p.events, "+"+label)
	p.starts = append(p.starts, p.clock.Now())
	p.mu.Unlock()
	p.started <- label
	var err error
	if p.hook != nil {
		err = p.hook(ctx, n)
	} else {
		for i := 0; i < 3; i++ {
			runtime.Gosched() // give a second player a chance to overlap
		}
	}
	p.mu.Lock()
	p.active--
	p.events = append(p.events, "-"+label)
	p.mu.Unlock()
	return err
}

func (p *recPlayer) record() (events []string, overlap int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.events...), p.overlap
}

// plays returns the labels of the plays in the order they started.
func (p *recPlayer) plays() []string {
	ev, _ := p.record()
	var out []string
	for _, e := range ev {
		if e[0] == '+' {
			out = append(out, e[1:])
		}
	}
	return out
}

func testComposer(t *testing.T) *Composer {
	t.Helper()
	set, _ := toneSet(t, Format{8000, 1, 16}, true)
	c, err := New(set, &Opts{Gap: time.Millisecond, Chime: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // against hangs only
	t.Cleanup(cancel)
	return ctx
}

func newTestAnnouncer(t *testing.T, c *Composer, p Player, o AnnouncerOpts) *Announcer {
	t.Helper()
	a, err := NewAnnouncer(c, p, &o)
	if err != nil {
		t.Fatalf("NewAnnouncer() error %v", err)
	}
	t.Cleanup(func() { a.Halt() })
	return a
}

func checkStats(t *testing.T, a *Announcer, queued, played, failed, merged, dropped uint64) {
	t.Helper()
	s := a.Stats()
	if s.Queued != queued || s.Played != played || s.Failed != failed || s.Merged != merged || s.Dropped != dropped {
		t.Errorf("Stats() queued/played/failed/merged/dropped = %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d",
			s.Queued, s.Played, s.Failed, s.Merged, s.Dropped, queued, played, failed, merged, dropped)
	}
}

// TestAnnouncerNoOverlap announces from several goroutines at once and
// checks that plays never overlap, each call is played its repeat count in
// a row, and each goroutine's calls keep their order.
func TestAnnouncerNoOverlap(t *testing.T) {
	const callers, perCaller, repeat = 4, 5, 2
	c := testComposer(t)
	var calls []call
	for g := 0; g < callers; g++ {
		for i := 0; i < perCaller; i++ {
			calls = append(calls, call{fmt.Sprintf("%c%03d", 'A'+g, i), g + 1})
		}
	}
	p := newRecPlayer(t, c, clockwork.NewRealClock(), calls...)
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: callers * perCaller, Repeat: repeat, PlayMargin: time.Minute})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := 0; g < callers; g++ {
		wg.Go(func() {
			for i := 0; i < perCaller; i++ {
				cl := calls[g*perCaller+i]
				if err := a.Announce(ctx, cl.number, cl.window, 0); err != nil {
					t.Errorf("Announce(%v) error %v", cl, err)
				}
			}
		})
	}
	wg.Wait()
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	events, overlap := p.record()
	if overlap != 0 {
		t.Errorf("%d plays overlapped another", overlap)
	}
	if got, want := len(events), 2*repeat*len(calls); got != want {
		t.Fatalf("%d play events, want %d", got, want)
	}
	pos := map[string]int{}
	for i := 0; i < len(events); i += 2 * repeat {
		label := events[i][1:]
		for r := 0; r < repeat; r++ {
			if s, e := events[i+2*r], events[i+2*r+1]; s != "+"+label || e != "-"+label {
				t.Fatalf("events %d-%d = %s %s, want +%s -%s (one call at a time, repeated in a row)", i+2*r, i+2*r+1, s, e, label, label)
			}
		}
		pos[label] = i
	}
	for g := 0; g < callers; g++ {
		for i := 1; i < perCaller; i++ {
			prev, cur := calls[g*perCaller+i-1].String(), calls[g*perCaller+i].String()
			if pos[prev] > pos[cur] {
				t.Errorf("%s played before %s, announced after it", cur, prev)
			}
		}
	}
	checkStats(t, a, uint64(len(calls)), uint64(len(calls)), 0, 0, 0)
	if err := a.Health(); err != nil {
		t.Errorf("Health() = %v, want nil", err)
	}
}

// TestAnnouncerRepeatRecall: a call plays its repeat count, a recall of the
// same ticket plays it again, and 0 takes the default count.
func TestAnnouncerRepeatRecall(t *testing.T) {
	c := testComposer(t)
	a1, b2 := call{"A001", 1}, call{"B002", 2}
	p := newRecPlayer(t, c, clockwork.NewRealClock(), a1, b2)
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 4, Repeat: 3, PlayMargin: time.Minute})
	ctx := testCtx(t)
	for _, step := range []struct {
		cl     call
		repeat int
	}{{a1, 2}, {b2, 1}, {a1, 0}} {
		if err := a.Announce(ctx, step.cl.number, step.cl.window, step.repeat); err != nil {
			t.Fatalf("Announce(%v, %d) error %v", step.cl, step.repeat, err)
		}
	}
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.plays(), " ")
	if want := "A001@1 A001@1 B002@2 A001@1 A001@1 A001@1"; got != want {
		t.Errorf("plays = %q, want %q", got, want)
	}
	checkStats(t, a, 3, 3, 0, 0, 0)
}

// TestAnnouncerRepeatPause checks on a fake clock that repeats of one call
// are RepeatPause apart.
func TestAnnouncerRepeatPause(t *testing.T) {
	c := testComposer(t)
	fc := clockwork.NewFakeClock()
	a1 := call{"A001", 1}
	p := newRecPlayer(t, c, fc, a1)
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 1, Repeat: 3, RepeatPause: time.Second, PlayMargin: time.Hour, Clock: fc})
	ctx := testCtx(t)
	if err := a.Announce(ctx, a1.number, a1.window, 0); err != nil {
		t.Fatal(err)
	}
	for len(p.plays()) < 3 {
		// One timer runs at any time: the play's time limit or the pause.
		if err := fc.BlockUntilContext(ctx, 1); err != nil {
			t.Fatalf("waiting for the announcer's timer: %v", err)
		}
		fc.Advance(100 * time.Millisecond)
	}
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	starts := append([]time.Time(nil), p.starts...)
	p.mu.Unlock()
	if len(starts) != 3 {
		t.Fatalf("%d plays, want 3", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-1]); d < time.Second {
			t.Errorf("play %d started %v after play %d, want at least the 1s pause", i+1, d, i)
		}
	}
	checkStats(t, a, 1, 1, 0, 0, 0)
}

// gate returns a hook that blocks each play until it receives a value on
// release (nil error) or its context ends (that error).
func gate(release <-chan error) func(ctx context.Context, n int) error {
	return func(ctx context.Context, n int) error {
		select {
		case err := <-release:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func waitStarted(t *testing.T, ctx context.Context, p *recPlayer, want string) {
	t.Helper()
	select {
	case got := <-p.started:
		if got != want {
			t.Fatalf("play started for %s, want %s", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("no play started, want %s", want)
	}
}

// TestAnnouncerQueueFull fills the queue while a call plays: a newer call
// for a window that has one waiting replaces it in place, a call for
// another window is refused with ErrQueueFull, and the call playing is
// never replaced.
func TestAnnouncerQueueFull(t *testing.T) {
	c := testComposer(t)
	x1, y2, z3, w2, v4, x1b := call{"X1", 1}, call{"Y2", 2}, call{"Z3", 3}, call{"W2", 2}, call{"V4", 4}, call{"X9", 1}
	p := newRecPlayer(t, c, clockwork.NewRealClock(), x1, y2, z3, w2, v4, x1b)
	release := make(chan error)
	p.hook = gate(release)
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 2, Repeat: 1, PlayMargin: time.Minute})
	ctx := testCtx(t)
	announce := func(cl call) error { return a.Announce(ctx, cl.number, cl.window, 1) }

	if err := announce(x1); err != nil {
		t.Fatal(err)
	}
	waitStarted(t, ctx, p, x1.String())
	for _, cl := range []call{y2, z3, w2} {
		if err := announce(cl); err != nil {
			t.Fatalf("Announce(%v) error %v, want nil", cl, err)
		}
	}
	for _, cl := range []call{v4, x1b} {
		if err := announce(cl); !errors.Is(err, ErrQueueFull) {
			t.Errorf("Announce(%v) on a full queue error %v, want ErrQueueFull", cl, err)
		}
	}
	if s := a.Stats(); s.Pending != 2 || !s.Playing {
		t.Errorf("Stats() pending %d playing %v, want 2 true", s.Pending, s.Playing)
	}
	for i := 0; i < 3; i++ {
		release <- nil
	}
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.plays(), " "), "X1@1 W2@2 Z3@3"; got != want {
		t.Errorf("plays = %q, want %q", got, want)
	}
	checkStats(t, a, 4, 3, 0, 1, 2)
}

// TestAnnouncerTimeout: a player that never returns on its own is cut off
// at the announcement's length plus PlayMargin on the injected clock, the
// failure shows in Health, and the queue goes on.
func TestAnnouncerTimeout(t *testing.T) {
	c := testComposer(t)
	fc := clockwork.NewFakeClock()
	hung, next := call{"H1", 1}, call{"N2", 2}
	p := newRecPlayer(t, c, fc, hung, next)
	p.hook = func(ctx context.Context, n int) error {
		if n == 0 {
			<-ctx.Done() // a device that hangs, but honours ctx
			return ctx.Err()
		}
		return nil
	}
	const margin = 2 * time.Second
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 2, Repeat: 2, PlayMargin: margin, Clock: fc})
	ctx := testCtx(t)
	for _, cl := range []call{hung, next} {
		if err := a.Announce(ctx, cl.number, cl.window, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitStarted(t, ctx, p, hung.String())
	if err := fc.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ann, _ := c.Compose(hung.number, hung.window)
	fc.Advance(ann.Duration + margin)
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.plays(), " "), "H1@1 N2@2 N2@2"; got != want {
		t.Errorf("plays = %q, want %q (no repeat after a failure)", got, want)
	}
	checkStats(t, a, 2, 1, 1, 0, 0)
	s := a.Stats()
	if !errors.Is(s.LastError, context.DeadlineExceeded) || !strings.Contains(s.LastError.Error(), "H1 to window 1, play 1 of 2") {
		t.Errorf("Stats().LastError = %v, want a deadline error for H1 play 1 of 2", s.LastError)
	}
	if !s.LastErrorAt.Equal(fc.Now()) {
		t.Errorf("Stats().LastErrorAt = %v, want %v", s.LastErrorAt, fc.Now())
	}
	if err := a.Health(); err != nil {
		t.Errorf("Health() after a good play = %v, want nil", err)
	}
}

// TestAnnouncerHealth: a failing player shows in Health, a panicking one is
// contained, and a later good play clears Health.
func TestAnnouncerHealth(t *testing.T) {
	c := testComposer(t)
	calls := []call{{"F1", 1}, {"P2", 2}, {"G3", 3}}
	p := newRecPlayer(t, c, clockwork.NewRealClock(), calls...)
	results := make(chan func() error, 3)
	p.hook = func(ctx context.Context, n int) error { return (<-results)() }
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 3, Repeat: 1, PlayMargin: time.Minute})
	ctx := testCtx(t)

	steps := []struct {
		result func() error
		want   string // in Health(), "" for nil
	}{
		{func() error { return errors.New("aplay: main:831: audio open error: No such file or directory") }, "F1 to window 1, play 1 of 1: aplay: main:831: audio open error"},
		{func() error { panic("driver bug") }, "player panicked: driver bug"},
		{func() error { return nil }, ""},
	}
	for i, st := range steps {
		results <- st.result
		if err := a.Announce(ctx, calls[i].number, calls[i].window, 0); err != nil {
			t.Fatal(err)
		}
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		err := a.Health()
		if st.want == "" && err != nil || st.want != "" && (err == nil || !strings.Contains(err.Error(), st.want)) {
			t.Errorf("after %v: Health() = %v, want %q", calls[i], err, st.want)
		}
	}
	checkStats(t, a, 3, 1, 2, 0, 0)
}

// TestAnnouncerHalt: Halt cuts off the call playing, drops those waiting,
// and refuses later calls.
func TestAnnouncerHalt(t *testing.T) {
	c := testComposer(t)
	calls := []call{{"A1", 1}, {"B2", 2}, {"C3", 3}}
	p := newRecPlayer(t, c, clockwork.NewRealClock(), calls...)
	p.hook = gate(nil) // blocks until the announcer cancels
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 3, Repeat: 2, PlayMargin: time.Minute})
	ctx := testCtx(t)
	for _, cl := range calls {
		if err := a.Announce(ctx, cl.number, cl.window, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitStarted(t, ctx, p, calls[0].String())
	if err := a.Halt(); err != nil {
		t.Fatalf("Halt() error %v", err)
	}
	if err := a.Halt(); err != nil {
		t.Fatalf("second Halt() error %v", err)
	}
	if err := a.Announce(ctx, "D4", 4, 0); !errors.Is(err, ErrHalted) {
		t.Errorf("Announce() after Halt error %v, want ErrHalted", err)
	}
	if got := strings.Join(p.plays(), " "); got != "A1@1" {
		t.Errorf("plays = %q, want \"A1@1\"", got)
	}
	checkStats(t, a, 3, 0, 0, 0, 3)
	if err := a.Health(); err != nil {
		t.Errorf("Health() after Halt = %v, want nil (a halt is no fault)", err)
	}
	if err := a.Wait(ctx); err != nil {
		t.Errorf("Wait() after Halt error %v", err)
	}
}

func TestAnnounceErrors(t *testing.T) {
	c := testComposer(t)
	p := newRecPlayer(t, c, clockwork.NewRealClock())
	a := newTestAnnouncer(t, c, p, AnnouncerOpts{QueueLen: 1, Repeat: 1, PlayMargin: time.Minute})
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		number string
		window int
		repeat int
		want   string
	}{
		{"bad number", t.Context(), "A-1", 1, 1, "not a letter"},
		{"bad window", t.Context(), "A1", 100, 1, "window 100"},
		{"repeat too high", t.Context(), "A1", 1, MaxRepeat + 1, "repeat 6"},
		{"negative repeat", t.Context(), "A1", 1, -1, "repeat -1"},
		{"cancelled", cancelled, "A1", 1, 1, "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Announce(tc.ctx, tc.number, tc.window, tc.repeat)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Announce(%q, %d, %d) error %v, want one containing %q", tc.number, tc.window, tc.repeat, err, tc.want)
			}
		})
	}
	checkStats(t, a, 0, 0, 0, 0, 0)
}

func TestNewAnnouncerErrors(t *testing.T) {
	c := testComposer(t)
	p := newRecPlayer(t, c, clockwork.NewRealClock())
	good := AnnouncerOpts{QueueLen: 1, Repeat: 1, PlayMargin: time.Second}
	tests := []struct {
		name   string
		c      *Composer
		p      Player
		mutate func(*AnnouncerOpts)
		want   string
	}{
		{"no composer", nil, p, func(*AnnouncerOpts) {}, "needs a composer"},
		{"no player", c, nil, func(*AnnouncerOpts) {}, "needs a composer and a player"},
		{"queue 0", c, p, func(o *AnnouncerOpts) { o.QueueLen = 0 }, "queue length 0"},
		{"repeat 0", c, p, func(o *AnnouncerOpts) { o.Repeat = 0 }, "repeat 0"},
		{"repeat 6", c, p, func(o *AnnouncerOpts) { o.Repeat = 6 }, "repeat 6"},
		{"negative pause", c, p, func(o *AnnouncerOpts) { o.RepeatPause = -1 }, "repeat pause -1ns"},
		{"no margin", c, p, func(o *AnnouncerOpts) { o.PlayMargin = 0 }, "play margin 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.mutate(&o)
			a, err := NewAnnouncer(tc.c, tc.p, &o)
			if err == nil {
				a.Halt()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewAnnouncer() error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestAnnouncerALSA runs the announcer on the real aplay: through a
// captured default device the call is heard (written) in full, and on a
// missing sound card the failure lands in Health while the queue goes on.
func TestAnnouncerALSA(t *testing.T) {
	aplay := testkit.Tool(t, "aplay")
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)

	home, out := captureHome(t)
	good, err := NewALSA(&ALSAOpts{Device: "default", Command: aplay, Margin: 10 * time.Second, Env: []string{"HOME=" + home}})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAnnouncer(t, c, good, AnnouncerOpts{QueueLen: 2, Repeat: 1, PlayMargin: 10 * time.Second})
	if err := a.Announce(ctx, "A012", 5, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Health(); err != nil {
		t.Errorf("Health() = %v, want nil", err)
	}
	ann, _ := c.Compose("A012", 5)
	checkCaptured(t, out, ann)

	nocard, err := NewALSA(&ALSAOpts{Device: "hw:29,0", Command: aplay, Margin: 10 * time.Second, Env: []string{"HOME=" + t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestAnnouncer(t, c, nocard, AnnouncerOpts{QueueLen: 2, Repeat: 2, PlayMargin: 10 * time.Second})
	for _, n := range []string{"B1", "B2"} {
		if err := b.Announce(ctx, n, 7, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Health(); err == nil || !strings.Contains(err.Error(), "B2 to window 7, play 1 of 2") || !strings.Contains(err.Error(), "audio open error") {
		t.Errorf("Health() without a sound card = %v, want B2's audio open error", err)
	}
	checkStats(t, b, 2, 0, 2, 0, 0)
}
