package drycontact

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newPins() (*gpiotest.Pin, *gpiotest.Pin) {
	return &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)},
		&gpiotest.Pin{N: "GPIO27", Num: 27, EdgesChan: make(chan gpio.Level)}
}

// next returns the next event, failing after a generous 10 s.
func next(t *testing.T, d *Dev) Event {
	t.Helper()
	select {
	case e := <-d.Events():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return Event{}
}

// quiet asserts that no event arrives while the pins stay still for a few
// debounce periods.
func quiet(t *testing.T, d *Dev) {
	t.Helper()
	select {
	case e := <-d.Events():
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(5 * d.opts.Debounce):
	}
}

func start(t *testing.T, o Opts) (*Dev, *gpiotest.Pin, *gpiotest.Pin, *clockwork.FakeClock) {
	t.Helper()
	ob, lb := newPins()
	fc := clockwork.NewFakeClockAt(t0)
	o.Clock = fc
	d, err := New(ob, lb, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d, ob, lb, fc
}

func TestInitialLevels(t *testing.T) {
	tests := []struct {
		name       string
		opts       Opts
		wantOB     bool
		wantLB     bool
		wantString string
	}{
		{"active low with pull-ups: idle contacts", Opts{Pull: gpio.PullUp}, false, false, "drycontact(on-battery=GPIO17(17), low-battery=GPIO27(27))"},
		{"active high with pull-ups: both active", Opts{Pull: gpio.PullUp, OnBatteryActive: gpio.High, LowBatteryActive: gpio.High}, true, true, ""},
		{"mixed levels with pull-downs", Opts{Pull: gpio.PullDown, LowBatteryActive: gpio.High}, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _, _ := start(t, tt.opts)
			for _, want := range []Event{{OnBattery, tt.wantOB, t0, true}, {LowBattery, tt.wantLB, t0, true}} {
				if got := next(t, d); got != want {
					t.Errorf("initial event = %+v, want %+v", got, want)
				}
			}
			if ob, lb := d.State(); ob != tt.wantOB || lb != tt.wantLB {
				t.Errorf("State() = %v, %v; want %v, %v", ob, lb, tt.wantOB, tt.wantLB)
			}
			if tt.wantString != "" && d.String() != tt.wantString {
				t.Errorf("String() = %q, want %q", d.String(), tt.wantString)
			}
		})
	}
}

func TestEdges(t *testing.T) {
	type step struct {
		pin    Input
		levels []gpio.Level // edges sent back to back (a bounce)
		at     time.Duration
		want   *Event // nil: no event
	}
	ev := func(in Input, active bool, at time.Duration) *Event {
		return &Event{Input: in, Active: active, At: t0.Add(at)}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"mains fails and returns", []step{
			{OnBattery, []gpio.Level{gpio.Low}, time.Second, ev(OnBattery, true, time.Second)},
			{OnBattery, []gpio.Level{gpio.High}, time.Minute, ev(OnBattery, false, time.Minute)},
		}},
		{"a bouncing relay gives one event stamped at its first edge", []step{
			{OnBattery, []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low}, 2 * time.Second, ev(OnBattery, true, 2*time.Second)},
		}},
		{"a glitch that settles back reports nothing", []step{
			{OnBattery, []gpio.Level{gpio.Low, gpio.High}, time.Second, nil},
			{OnBattery, []gpio.Level{gpio.Low}, 3 * time.Second, ev(OnBattery, true, 3*time.Second)},
		}},
		{"low battery after on battery", []step{
			{OnBattery, []gpio.Level{gpio.Low}, time.Second, ev(OnBattery, true, time.Second)},
			{LowBattery, []gpio.Level{gpio.Low}, time.Hour, ev(LowBattery, true, time.Hour)},
			{OnBattery, []gpio.Level{gpio.High}, 2 * time.Hour, ev(OnBattery, false, 2*time.Hour)},
			{LowBattery, []gpio.Level{gpio.High}, 2*time.Hour + time.Second, ev(LowBattery, false, 2*time.Hour+time.Second)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A long debounce, so that a bounce sent back to back stays
			// inside it even on a busy machine.
			d, ob, lb, fc := start(t, Opts{Pull: gpio.PullUp, Debounce: 80 * time.Millisecond})
			next(t, d)
			next(t, d)
			pins := map[Input]*gpiotest.Pin{OnBattery: ob, LowBattery: lb}
			for i, st := range tt.steps {
				fc.Advance(t0.Add(st.at).Sub(fc.Now()))
				for _, l := range st.levels {
					pins[st.pin].EdgesChan <- l
				}
				if st.want == nil {
					quiet(t, d)
					continue
				}
				if got := next(t, d); got != *st.want {
					t.Errorf("step %d: event %+v, want %+v", i, got, *st.want)
				}
			}
		})
	}
}

func TestOnlyOnBatteryWired(t *testing.T) {
	ob, _ := newPins()
	d, err := New(ob, nil, &Opts{Pull: gpio.PullUp, Clock: clockwork.NewFakeClockAt(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if e := next(t, d); e.Input != OnBattery || !e.Initial {
		t.Fatalf("first event %+v", e)
	}
	ob.EdgesChan <- gpio.Low
	if e := next(t, d); e.Input != OnBattery || !e.Active {
		t.Errorf("event %+v, want on-battery active", e)
	}
	if d.String() != "drycontact(on-battery=GPIO17(17))" {
		t.Errorf("String() = %q", d.String())
	}
}

func TestHaltClosesEvents(t *testing.T) {
	d, _, _, _ := start(t, Opts{Pull: gpio.PullUp})
	next(t, d)
	next(t, d)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-d.Events(); ok {
		t.Error("Events still open after Halt")
	}
	if err := d.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	ob, lb := newPins()
	tests := []struct {
		name string
		ob   gpio.PinIn
		opts Opts
	}{
		{"no pin", nil, Opts{}},
		{"debounce too long for 100 ms", ob, Opts{Debounce: 150 * time.Millisecond}},
		{"debounce too short", ob, Opts{Debounce: time.Microsecond}},
		{"negative idle", ob, Opts{Idle: -time.Second}},
		{"pin without edge support", &gpiotest.Pin{N: "X"}, Opts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := New(tt.ob, lb, &tt.opts); err == nil {
				d.Halt()
				t.Errorf("New(%v, %+v) succeeded, want an error", tt.ob, tt.opts)
			}
		})
	}
}

// BenchmarkEdgeToEvent measures how long an edge takes to become an event.
// The baseline is a bare WaitForEdge hand-off; the ratio against it is the
// cost of debouncing (about the debounce time), which must stay far below
// the 100 ms the daemon is allowed.
func BenchmarkEdgeToEvent(b *testing.B) {
	var base time.Duration
	b.Run("baseline-bare-wait", func(b *testing.B) {
		p := &gpiotest.Pin{N: "B", EdgesChan: make(chan gpio.Level)}
		done := make(chan struct{})
		go func() {
			for p.WaitForEdge(time.Second) {
				done <- struct{}{}
			}
		}()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			p.EdgesChan <- gpio.Level(i%2 == 0)
			<-done
		}
		base = time.Since(start) / time.Duration(b.N)
	})
	for _, db := range []time.Duration{time.Millisecond, 20 * time.Millisecond} {
		b.Run("debounce-"+db.String(), func(b *testing.B) {
			ob, lb := newPins()
			d, err := New(ob, lb, &Opts{Pull: gpio.PullUp, Debounce: db})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Halt()
			<-d.Events()
			<-d.Events()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				ob.EdgesChan <- gpio.Level(i%2 == 1)
				<-d.Events()
			}
			per := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/edge")
			if base > 0 {
				b.ReportMetric(float64(per)/float64(base), "x-baseline")
			}
		})
	}
}
