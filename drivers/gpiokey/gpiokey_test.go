package gpiokey

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"hallgw/drivers/windowbus"
)

// harness drives gpiotest pins on a fake clock in lock step with the
// watchers: every WaitForEdge is announced, and the test advances the clock
// only once the watcher's timer exists.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *clockwork.FakeClock
	dev   *Dev
	pins  []*watchedPin
	waits chan wait

	mu        sync.Mutex
	deadlines []time.Time // of every timer the watchers made
	done      chan error
}

type wait struct {
	pin int
	d   time.Duration
}

// watchedPin is a gpiotest.Pin that announces each WaitForEdge.
type watchedPin struct {
	*gpiotest.Pin
	h *harness
	i int
}

func (p *watchedPin) WaitForEdge(d time.Duration) bool {
	p.h.waits <- wait{p.i, d}
	return p.Pin.WaitForEdge(d)
}

// newHarness starts a Dev on gpiotest pins; levels, when given, are the
// pins' levels at start (with Opts.Pull set to leave them alone).
func newHarness(t *testing.T, keys []windowbus.Key, longKeys []windowbus.Key, mod func(*Opts), levels ...gpio.Level) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, ctx: ctx, clock: clockwork.NewFakeClock(), waits: make(chan wait), done: make(chan error, 1)}
	var buttons []Button
	for i, k := range keys {
		p := &watchedPin{Pin: &gpiotest.Pin{N: "GPIO" + string(rune('A'+i)), Num: i, Clock: h.clock, EdgesChan: make(chan gpio.Level, 64)}, h: h, i: i}
		if i < len(levels) {
			p.L = levels[i]
		}
		h.pins = append(h.pins, p)
		b := Button{Pin: p, Window: 10 + i, Key: k}
		if longKeys != nil {
			b.LongKey = longKeys[i]
		}
		buttons = append(buttons, b)
	}
	o := DefaultOpts
	o.Clock = h.clock
	if mod != nil {
		mod(&o)
	}
	d, err := New(buttons, &o)
	if err != nil {
		t.Fatal(err)
	}
	h.dev = d
	go func() { h.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		// Watchers notice the cancellation when their wait ends: let the
		// fake time run until they have all returned.
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-h.waits:
			case <-h.done:
				return
			case <-deadline:
				t.Error("Run did not return")
				return
			case <-time.After(time.Millisecond):
				h.clock.Advance(DefaultOpts.Idle)
			}
		}
	})
	return h
}

// expectWait takes the next WaitForEdge announcement, checks its timeout
// and waits until its timer is registered.
func (h *harness) expectWait(pin int, d time.Duration) {
	h.t.Helper()
	var w wait
	select {
	case w = <-h.waits:
	case <-time.After(10 * time.Second):
		h.t.Fatalf("pin %d never waited for an edge", pin)
	}
	if w.pin != pin || w.d != d {
		h.t.Fatalf("WaitForEdge on pin %d for %v, want pin %d for %v", w.pin, w.d, pin, d)
	}
	now := h.clock.Now()
	h.deadlines = append(h.deadlines, now.Add(d))
	live := 0
	for _, t := range h.deadlines {
		if t.After(now) {
			live++
		}
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, live); err != nil {
		h.t.Fatalf("timer of pin %d never registered", pin)
	}
}

// edges queues level changes on a pin.
func (h *harness) edges(pin int, levels ...gpio.Level) {
	for _, l := range levels {
		h.pins[pin].EdgesChan <- l
	}
}

// press returns the next press, or fails.
func (h *harness) press() windowbus.Press {
	h.t.Helper()
	select {
	case p := <-h.dev.Presses():
		return p
	case <-time.After(10 * time.Second):
		h.t.Fatal("no press")
	}
	return windowbus.Press{}
}

func (h *harness) noPress() {
	h.t.Helper()
	select {
	case p := <-h.dev.Presses():
		h.t.Fatalf("unexpected press %+v", p)
	default:
	}
}

const (
	L = gpio.Low
	H = gpio.High
)

func TestBouncingPressIsOnePress(t *testing.T) {
	h := newHarness(t, []windowbus.Key{windowbus.KeyCall}, nil, nil)
	deb, idle := DefaultOpts.Debounce, DefaultOpts.Idle
	h.expectWait(0, idle)
	start := h.clock.Now()
	// Contact bounce: five edges within a few ms, ending low.
	h.edges(0, L, H, L, H, L)
	for i := 0; i < 5; i++ {
		h.expectWait(0, deb)
	}
	h.clock.Advance(deb)
	p := h.press()
	if p.Key != windowbus.KeyCall || p.Window != 10 || p.Seq != 1 || !p.At.Equal(start) {
		t.Errorf("press = %+v, want call at window 10 seq 1 at %v", p, start)
	}
	// Release with bounce: no press.
	h.expectWait(0, idle)
	h.edges(0, H, L, H)
	for i := 0; i < 3; i++ {
		h.expectWait(0, deb)
	}
	h.clock.Advance(deb)
	h.expectWait(0, idle)
	h.noPress()
	// The next press is the second one.
	h.edges(0, L)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	if p := h.press(); p.Seq != 2 {
		t.Errorf("second press seq = %d, want 2", p.Seq)
	}
}

func TestGlitchIsNoPress(t *testing.T) {
	h := newHarness(t, []windowbus.Key{windowbus.KeyCall}, nil, nil)
	deb, idle := DefaultOpts.Debounce, DefaultOpts.Idle
	h.expectWait(0, idle)
	// A spike: low and back high before the line settles.
	h.edges(0, L, H)
	h.expectWait(0, deb)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	h.expectWait(0, idle)
	h.noPress()
	// Idle time passes without edges: still nothing.
	h.clock.Advance(idle)
	h.expectWait(0, idle)
	h.noPress()
}

func TestLongPress(t *testing.T) {
	h := newHarness(t, []windowbus.Key{windowbus.KeyCall}, []windowbus.Key{windowbus.KeyRecall}, nil)
	deb, idle, long := DefaultOpts.Debounce, DefaultOpts.Idle, DefaultOpts.LongPress
	// Short press: reported on release.
	h.expectWait(0, idle)
	h.edges(0, L)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	h.expectWait(0, long-deb)
	h.noPress()
	h.clock.Advance(100 * time.Millisecond)
	h.edges(0, H)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	if p := h.press(); p.Key != windowbus.KeyCall {
		t.Errorf("short press = %v, want call", p.Key)
	}
	// Long press: reported when the time is up, nothing on release.
	h.expectWait(0, idle)
	h.edges(0, L)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	h.expectWait(0, long-deb)
	h.clock.Advance(long - deb)
	if p := h.press(); p.Key != windowbus.KeyRecall || p.Seq != 2 {
		t.Errorf("long press = %+v, want recall seq 2", p)
	}
	h.expectWait(0, idle)
	h.edges(0, H)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	h.expectWait(0, idle)
	h.noPress()
}

func TestHeldAtStartIsIgnored(t *testing.T) {
	h := newHarness(t, []windowbus.Key{windowbus.KeyCall}, nil, func(o *Opts) { o.Pull = gpio.PullNoChange }, gpio.Low)
	deb, idle := DefaultOpts.Debounce, DefaultOpts.Idle
	// Held (low) when the watcher starts: its release is no press…
	h.expectWait(0, idle)
	h.edges(0, H)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	h.expectWait(0, idle)
	h.noPress()
	// …and the next press is the first one.
	h.edges(0, L)
	h.expectWait(0, deb)
	h.clock.Advance(deb)
	if p := h.press(); p.Seq != 1 || p.Key != windowbus.KeyCall {
		t.Errorf("press = %+v, want call seq 1", p)
	}
}

func TestTwoButtonsNoLostPresses(t *testing.T) {
	h := newHarness(t, []windowbus.Key{windowbus.KeyCall, windowbus.KeyFinish}, nil, nil)
	deb, idle := DefaultOpts.Debounce, DefaultOpts.Idle
	first := map[int]bool{}
	// Both watchers start waiting in some order.
	for i := 0; i < 2; i++ {
		w := <-h.waits
		first[w.pin] = true
		h.deadlines = append(h.deadlines, h.clock.Now().Add(w.d))
	}
	if !first[0] || !first[1] {
		t.Fatalf("watchers waiting: %v", first)
	}
	got := map[windowbus.Key]int{}
	for round := 0; round < 5; round++ {
		pin := round % 2
		h.edges(pin, L, H, L)
		for i := 0; i < 3; i++ {
			h.expectWait(pin, deb)
		}
		h.clock.Advance(deb)
		p := h.press()
		got[p.Key]++
		h.expectWait(pin, idle)
		h.edges(pin, H)
		h.expectWait(pin, deb)
		h.clock.Advance(deb)
		h.expectWait(pin, idle)
	}
	if got[windowbus.KeyCall] != 3 || got[windowbus.KeyFinish] != 2 {
		t.Errorf("presses = %v, want 3 call and 2 finish", got)
	}
	h.noPress()
}

func TestNewValidates(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO4"}
	tests := []struct {
		name    string
		buttons []Button
		o       Opts
	}{
		{"no buttons", nil, DefaultOpts},
		{"no pin", []Button{{Key: windowbus.KeyCall}}, DefaultOpts},
		{"no key", []Button{{Pin: pin}}, DefaultOpts},
		{"negative debounce", []Button{{Pin: pin, Key: windowbus.KeyCall}}, Opts{Debounce: -time.Millisecond}},
		{"debounce over a second", []Button{{Pin: pin, Key: windowbus.KeyCall}}, Opts{Debounce: 2 * time.Second}},
		{"long press too short", []Button{{Pin: pin, Key: windowbus.KeyCall, LongKey: windowbus.KeyRecall}},
			Opts{Debounce: 30 * time.Millisecond, LongPress: 10 * time.Millisecond, Idle: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.buttons, &tt.o); err == nil {
				t.Errorf("New(%+v, %+v) = nil error, want one", tt.buttons, tt.o)
			}
		})
	}
}
