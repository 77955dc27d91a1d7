package ups_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/simwire"
	"hallgw/drivers/ups"
	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/serialport"
)

// rig is the driver and the emulator on a pty, both on one fake clock.
type rig struct {
	sim   *upssim.Sim
	dev   *ups.Dev
	clock *clockwork.FakeClock
}

func newRig(t *testing.T, cfg upssim.Config, opts ups.Opts) *rig {
	t.Helper()
	return newRigVia(t, cfg, opts, nil)
}

// newRigVia is newRig with the driver talking through wrap(port).
func newRigVia(t *testing.T, cfg upssim.Config, opts ups.Opts, wrap func(io.ReadWriter) io.ReadWriter) *rig {
	t.Helper()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	cfg.Now = fc.Now
	sim, err := upssim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sim.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p, err := serialport.Open(l.Path(), serialport.Mode{Baud: 2400, ReadTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	opts.Clock = fc
	if opts.ReplyTimeout == 0 {
		// Long enough for an unpaced reply on a busy machine; commands
		// that get no reply wait this long.
		opts.ReplyTimeout = 300 * time.Millisecond
	}
	var rw io.ReadWriter = p
	if wrap != nil {
		rw = wrap(p)
	}
	d, err := ups.New(rw, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{sim: sim, dev: d, clock: fc}
}

func (r *rig) status(t *testing.T) ups.Status {
	t.Helper()
	s, err := r.dev.Status()
	if err != nil {
		t.Fatalf("Status() error %v", err)
	}
	return s
}

func TestDevStatusAt2400(t *testing.T) {
	// 2400-baud pacing: 47 bytes take 196 ms; the reply timeout is generous.
	r := newRig(t, upssim.Config{}, ups.Opts{BatteryNominal: 24, ReplyTimeout: 3 * time.Second})
	got := r.status(t).Vars()
	want := map[string]string{
		"input.voltage": "230.0", "input.voltage.fault": "230.0", "output.voltage": "230.0",
		"ups.load": "20", "input.frequency": "50.0", "battery.voltage": "27.20",
		"ups.temperature": "26.0", "ups.status": "OL", "ups.type": ups.TypeStandby,
		"ups.beeper.status": "enabled", "battery.charge": "100",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("Status() %s = %q, want %q", k, got[k], w)
		}
	}
	if r.dev.String() == "" {
		t.Error("String() is empty")
	}
}

func TestDevInstantCommands(t *testing.T) {
	tests := []struct {
		name       string
		setup      string // control line first
		cmd, arg   string
		wantErr    error
		wantStatus string
		check      func(s ups.Status) bool
	}{
		{name: "quick test", cmd: ups.CmdTestQuick, wantStatus: "OL CAL"},
		{name: "deep test", cmd: ups.CmdTestDeep, wantStatus: "OL CAL"},
		{name: "timed test", cmd: ups.CmdTest, arg: "600", wantStatus: "OL CAL"},
		{name: "test refused on battery", setup: "mains off", cmd: ups.CmdTestQuick, wantErr: ups.ErrRejected, wantStatus: "OB"},
		{name: "beeper toggle", cmd: ups.CmdBeeperToggle, wantStatus: "OL",
			check: func(s ups.Status) bool { return s.Beeper != nil && !*s.Beeper }},
		{name: "shutdown return", cmd: ups.CmdShutdownReturn, wantStatus: "OL FSD"},
		{name: "shutdown stay off", cmd: ups.CmdShutdownStayOff, wantStatus: "OL FSD"},
		{name: "shutdown stop with nothing pending", cmd: ups.CmdShutdownStop, wantStatus: "OL"},
		{name: "load off", cmd: ups.CmdLoadOff, wantStatus: "OL FSD",
			check: func(s ups.Status) bool { return s.Load != nil && *s.Load == 0 }},
		{name: "test stop", cmd: ups.CmdTestStop, wantStatus: "OL"},
		{name: "echo on a silent-F unit is still success", setup: "echo-fi on", cmd: ups.CmdTestQuick, wantStatus: "OL CAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, upssim.Config{Baud: -1}, ups.Opts{})
			if tt.setup != "" {
				if _, err := r.sim.Control(tt.setup); err != nil {
					t.Fatal(err)
				}
			}
			err := r.dev.Instant(tt.cmd, tt.arg)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Instant(%s, %q) = %v, want %v", tt.cmd, tt.arg, err, tt.wantErr)
			}
			s := r.status(t)
			if got := s.UPSStatus(); got != tt.wantStatus {
				t.Errorf("after %s ups.status = %q, want %q", tt.cmd, got, tt.wantStatus)
			}
			if tt.check != nil && !tt.check(s) {
				t.Errorf("after %s status %v fails its check", tt.cmd, s.Vars())
			}
		})
	}
}

func TestDevShutdownCycle(t *testing.T) {
	r := newRig(t, upssim.Config{Baud: -1}, ups.Opts{})
	if err := r.dev.Instant(ups.CmdShutdownReturn, ""); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance    time.Duration
		wantStatus string
		wantLoad   string
	}{
		{0, "OL FSD", "20"},
		{31 * time.Second, "OL FSD", "0"}, // off after the 30 s off delay
		{3 * time.Minute, "OL", "20"},     // back after the 3 min on delay
		{10 * time.Minute, "OL", "20"},
	}
	for i, st := range steps {
		r.clock.Advance(st.advance)
		v := r.status(t).Vars()
		if v["ups.status"] != st.wantStatus || v["ups.load"] != st.wantLoad {
			t.Errorf("step %d: ups.status %q ups.load %s, want %q %s", i, v["ups.status"], v["ups.load"], st.wantStatus, st.wantLoad)
		}
	}
}

func TestDevCommunicationLoss(t *testing.T) {
	r := newRig(t, upssim.Config{Baud: -1}, ups.Opts{})
	r.status(t)
	r.sim.SetSilent(true)
	for i := 1; i <= 6; i++ {
		_, err := r.dev.Status()
		if err == nil {
			t.Fatalf("poll %d of a silent UPS succeeded", i)
		}
		if stale := errors.Is(err, ups.ErrStale); stale != (i >= 5) {
			t.Errorf("poll %d: errors.Is(err, ErrStale) = %v, want %v (err %v)", i, stale, i >= 5, err)
		}
		if r.dev.Failures() != i {
			t.Errorf("poll %d: Failures() = %d", i, r.dev.Failures())
		}
	}
	if !r.dev.Stale() {
		t.Error("Stale() = false after 6 failed polls")
	}
	r.sim.SetSilent(false)
	r.status(t)
	if r.dev.Stale() || r.dev.Failures() != 0 {
		t.Errorf("after a good poll Stale() = %v, Failures() = %d; want false, 0", r.dev.Stale(), r.dev.Failures())
	}
}

func TestDevRatingsAndInfo(t *testing.T) {
	tests := []struct {
		name    string
		fi      upssim.FIMode
		wantErr error
	}{
		{"answered", upssim.FIAnswer, nil},
		{"echoed like a Santak", upssim.FIEcho, ups.ErrUnsupported},
		{"ignored", upssim.FISilent, ups.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, upssim.Config{Baud: -1, FI: tt.fi}, ups.Opts{})
			before := r.status(t)
			if before.BatteryCharge != nil {
				t.Errorf("battery.charge before Ratings = %v, want absent (nominal unknown)", *before.BatteryCharge)
			}
			rt, err := r.dev.Ratings()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Ratings() error = %v, want %v", err, tt.wantErr)
			}
			info, ierr := r.dev.Info()
			if !errors.Is(ierr, tt.wantErr) || (tt.wantErr == nil && ierr != nil) {
				t.Fatalf("Info() error = %v, want %v", ierr, tt.wantErr)
			}
			after := r.status(t)
			if tt.wantErr != nil {
				if after.BatteryCharge != nil {
					t.Errorf("battery.charge = %v, want absent", *after.BatteryCharge)
				}
				return
			}
			want := map[string]string{"input.voltage.nominal": "220", "input.current.nominal": "5.0",
				"battery.voltage.nominal": "24.0", "input.frequency.nominal": "50"}
			got := rt.Vars()
			for k, w := range want {
				if got[k] != w {
					t.Errorf("Ratings() %s = %q, want %q", k, got[k], w)
				}
			}
			if info != (ups.Info{Manufacturer: "HALLGW SIM", Model: "Q1-1000", Firmware: "V1.0"}) {
				t.Errorf("Info() = %+v", info)
			}
			if after.BatteryCharge == nil || *after.BatteryCharge != 100 {
				t.Errorf("battery.charge after Ratings = %v, want 100", after.BatteryCharge)
			}
		})
	}
}

// runTest runs BatteryTest while advancing the fake clock one interval at a
// time.
func runTest(t *testing.T, r *rig, spec ups.TestSpec) (ups.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type result struct {
		rep ups.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := r.dev.BatteryTest(ctx, spec)
		done <- result{rep, err}
	}()
	for {
		select {
		case res := <-done:
			return res.rep, res.err
		default:
		}
		wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if r.clock.BlockUntilContext(wctx, 1) == nil {
			r.clock.Advance(spec.Interval)
		}
		wcancel()
		if ctx.Err() != nil {
			t.Fatal("battery test did not finish")
		}
	}
}

func TestBatteryTest(t *testing.T) {
	tests := []struct {
		name         string
		capacity     float64
		spec         ups.TestSpec
		wantMeasured bool
		wantMeets    bool
		minH, maxH   float64 // runtime bounds, hours
	}{
		{"deep test, small pack fails 4 h", 9, ups.TestSpec{Interval: time.Minute}, true, false, 1.2, 1.8},
		{"deep test, 40 Ah pack meets 4 h", 40, ups.TestSpec{Interval: 2 * time.Minute}, true, true, 5.5, 7.5},
		{"30-minute test, small pack, extrapolated", 9, ups.TestSpec{Duration: 30 * time.Minute, Interval: 30 * time.Second}, false, false, 0.9, 1.8},
		{"90-minute test, 40 Ah pack, extrapolated", 40, ups.TestSpec{Duration: 90 * time.Minute, Interval: time.Minute}, false, true, 4.5, 7.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, upssim.Config{Baud: -1, CapacityAh: tt.capacity}, ups.Opts{BatteryNominal: 24})
			rep, err := runTest(t, r, tt.spec)
			if err != nil {
				t.Fatalf("BatteryTest(%+v) error %v (report %v)", tt.spec, err, rep)
			}
			h := rep.Runtime.Hours()
			if rep.Measured != tt.wantMeasured || rep.Meets4h != tt.wantMeets || h < tt.minH || h > tt.maxH {
				t.Errorf("BatteryTest(%+v) = %v (measured %v, %.2f h), want measured %v, meets %v, %.1f–%.1f h",
					tt.spec, rep, rep.Measured, h, tt.wantMeasured, tt.wantMeets, tt.minH, tt.maxH)
			}
			if rep.Load < 19 || rep.Load > 21 {
				t.Errorf("report load = %.1f %%, want 20", rep.Load)
			}
			if len(rep.Samples) < 3 {
				t.Errorf("report has %d samples", len(rep.Samples))
			}
			// The UPS is back on mains and no longer testing.
			if s := r.status(t); s.Testing || s.OnBattery() {
				t.Errorf("after the test ups.status = %q", s.UPSStatus())
			}
			t.Logf("%v", rep)
		})
	}
}

// TestBatteryTestExtrapolationError compares the extrapolated runtime of a
// timed test with the measured one of a deep test on the same battery.
func TestBatteryTestExtrapolationError(t *testing.T) {
	tests := []struct {
		name     string
		capacity float64
		duration time.Duration
	}{
		{"9 Ah, 30-minute test", 9, 30 * time.Minute},
		{"40 Ah, 90-minute test", 40, 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deep := newRig(t, upssim.Config{Baud: -1, CapacityAh: tt.capacity}, ups.Opts{BatteryNominal: 24})
			m, err := runTest(t, deep, ups.TestSpec{Interval: time.Minute})
			if err != nil || !m.Measured {
				t.Fatalf("deep test: %v, %v", m, err)
			}
			short := newRig(t, upssim.Config{Baud: -1, CapacityAh: tt.capacity}, ups.Opts{BatteryNominal: 24})
			e, err := runTest(t, short, ups.TestSpec{Duration: tt.duration, Interval: 30 * time.Second})
			if err != nil || e.Measured {
				t.Fatalf("timed test: %v, %v", e, err)
			}
			ratio := e.Runtime.Seconds() / m.Runtime.Seconds()
			t.Logf("extrapolated %v / measured %v = %.2f", e.Runtime.Round(time.Minute), m.Runtime.Round(time.Minute), ratio)
			if ratio < 0.7 || ratio > 1.2 {
				t.Errorf("extrapolated/measured = %.2f, want 0.7–1.2", ratio)
			}
		})
	}
}

func TestBatteryTestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup string
		spec  ups.TestSpec
		opts  ups.Opts
	}{
		{"on battery", "mains off", ups.TestSpec{}, ups.Opts{BatteryNominal: 24}},
		{"nominal unknown", "", ups.TestSpec{}, ups.Opts{}},
		{"duration not whole minutes", "", ups.TestSpec{Duration: 90 * time.Second}, ups.Opts{BatteryNominal: 24}},
		{"duration too long", "", ups.TestSpec{Duration: 100 * time.Minute}, ups.Opts{BatteryNominal: 24}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, upssim.Config{Baud: -1}, tt.opts)
			if tt.setup != "" {
				r.sim.Control(tt.setup)
			}
			if _, err := r.dev.BatteryTest(context.Background(), tt.spec); err == nil {
				t.Errorf("BatteryTest(%+v) succeeded, want an error", tt.spec)
			}
			if s := r.status(t); s.Testing {
				t.Error("a refused test left the UPS testing")
			}
		})
	}
}

func TestBatteryTestHalt(t *testing.T) {
	r := newRig(t, upssim.Config{Baud: -1}, ups.Opts{BatteryNominal: 24})
	done := make(chan error, 1)
	go func() {
		_, err := r.dev.BatteryTest(context.Background(), ups.TestSpec{Interval: time.Minute})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if err := r.clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(time.Minute)
	}
	if err := r.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	r.dev.Halt()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("halted BatteryTest returned no error")
		}
	case <-ctx.Done():
		t.Fatal("BatteryTest did not stop on Halt")
	}
	if s := r.status(t); s.Testing {
		t.Error("UPS still testing after Halt (CT not sent)")
	}
}

// TestDevLiveRuntime follows an outage: battery.runtime comes from the
// voltage slope once two minutes of discharge are fitted.
func TestDevLiveRuntime(t *testing.T) {
	r := newRig(t, upssim.Config{Baud: -1, CapacityAh: 9}, ups.Opts{BatteryNominal: 24})
	r.sim.SetMains(false)
	var s ups.Status
	for i := 0; i < 40; i++ { // 20 minutes, a poll every 30 s
		s = r.status(t)
		r.clock.Advance(30 * time.Second)
	}
	if s.BatteryRuntime == nil {
		t.Fatal("no battery.runtime after 20 minutes on battery")
	}
	// How long the emulated battery really lasts from here.
	left := time.Duration(0)
	for !r.status(t).BatteryLow && left < 10*time.Hour {
		r.clock.Advance(time.Minute)
		left += time.Minute
	}
	ratio := s.BatteryRuntime.Seconds() / left.Seconds()
	t.Logf("battery.runtime %v, actual %v (%.2f)", s.BatteryRuntime.Round(time.Minute), left, ratio)
	if ratio < 0.5 || ratio > 1.1 {
		t.Errorf("battery.runtime / actual = %.2f, want 0.5–1.1", ratio)
	}
}

func TestNewRejectsBadOpts(t *testing.T) {
	tests := []struct {
		name string
		opts ups.Opts
	}{
		{"negative timeout", ups.Opts{ReplyTimeout: -1}},
		{"high not above low", ups.Opts{BatteryLow: 26, BatteryHigh: 20}},
		{"nominal absurd", ups.Opts{BatteryNominal: 1000}},
		{"off delay too short", ups.Opts{Delays: ups.Delays{OffDelay: time.Second}}},
		{"on delay too long", ups.Opts{Delays: ups.Delays{OffDelay: time.Minute, OnDelay: 10000 * time.Minute}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ups.New(&fakePort{}, &tt.opts); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", tt.opts)
			}
		})
	}
	if _, err := ups.New(nil, nil); err == nil {
		t.Error("New(nil, nil) succeeded")
	}
}

// timingPort records when the last request was written and when the
// first read after it began.
type timingPort struct {
	io.ReadWriter
	wrote, firstRead time.Time
}

func (c *timingPort) Write(b []byte) (int, error) {
	c.wrote, c.firstRead = time.Now(), time.Time{}
	return c.ReadWriter.Write(b)
}

func (c *timingPort) Read(b []byte) (int, error) {
	if c.firstRead.IsZero() && !c.wrote.IsZero() {
		c.firstRead = time.Now()
	}
	return c.ReadWriter.Read(b)
}

func TestDevStatusWaitsOutTheReply(t *testing.T) {
	// The emulator paces its 47-byte reply a character at a time, as a
	// 2400-baud line delivers it. Knowing the baud, the driver does not
	// look for the reply before most of it can have arrived, so it is not
	// woken once per byte.
	var tp *timingPort
	r := newRigVia(t, upssim.Config{}, ups.Opts{Baud: 2400, ReplyTimeout: 3 * time.Second}, func(rw io.ReadWriter) io.ReadWriter {
		tp = &timingPort{ReadWriter: rw}
		return tp
	})
	d := r.dev
	// "Q1\r" and all but the last four characters of the reply.
	least := simwire.FrameTime(3+ups.Q1Len-4, 2400, simwire.F8N1)
	for i := range 3 {
		s, err := d.Status()
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if s.Vars()["ups.status"] != "OL" {
			t.Errorf("poll %d: status %q", i, s.Vars()["ups.status"])
		}
		if gap := tp.firstRead.Sub(tp.wrote); gap < least {
			t.Errorf("poll %d: the reply was first read %v after the request, want at least %v", i, gap, least)
		}
	}
	if _, err := ups.New(tp, &ups.Opts{Baud: -1}); err == nil {
		t.Error("a negative baud was accepted")
	}
}
