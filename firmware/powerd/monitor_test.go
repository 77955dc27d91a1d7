package powerd

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

func issue(h *hallRig) error {
	_, err := h.g.Do(context.Background(), hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk"})
	return err
}

// TestMainsFailsAndReturns runs the serial path: the UPS on a pty reports
// an outage, then mains comes back.
func TestMainsFailsAndReturns(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	h := openHall(t, t.TempDir(), clk.Now)
	r := startMonitor(t, h, Options{Config: serialConfig(u.path), Clock: clk})

	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })
	if s := r.m.Status(); s.Mains != "on" || s.UPS.Comm != "ok" || s.UPS.Status != "OL" {
		t.Fatalf("Status() = %+v %+v, want mains on, UPS OL", s, s.UPS)
	}

	u.sim.SetMains(false)
	eventually(t, "the on_battery record", func() bool { return h.hasRecord(t, RecOnBattery) })
	recs, alerts := h.records(t)
	if got := recordTypes(alerts); !slices.Equal(got, []string{AlertPrefix + RecOnBattery}) {
		t.Errorf("alerts = %v, want [power_on_battery]", got)
	}
	ob := recs[0]
	if !slices.Equal(ob.Sources, []string{"ups"}) || ob.Load == nil || ob.BatteryVoltage == nil || ob.BatteryCharge == nil {
		t.Errorf("on_battery record = %+v, want source ups with load, battery voltage and charge", ob)
	}
	eventually(t, "the on-battery notice", func() bool {
		n, _ := h.view(t)
		return n.Level == hall.NoticeInfo && n.Text == NoticeOnBatteryText && n.Source == Source
	})
	eventually(t, "the UPS degraded", func() bool {
		d := r.health()
		return d.State == health.Degraded && strings.Contains(d.Reason, "on battery")
	})
	if s := r.m.Status(); s.State != "on-battery" || s.Mains != "off" {
		t.Errorf("Status() = %+v, want on-battery, mains off", s)
	}
	if err := issue(h); err != nil {
		t.Errorf("issue on battery = %v, want tickets while the battery lasts", err)
	}

	// A runtime estimate appears once the discharge can be fitted.
	for i := 0; i < 120 && r.m.Status().RuntimeS == nil; i++ {
		clk.Jump(30 * time.Second)
		time.Sleep(110 * time.Millisecond)
	}
	if s := r.m.Status(); s.RuntimeS == nil || *s.RuntimeS <= 0 {
		t.Errorf("RuntimeS = %v after minutes on battery, want an estimate", s.RuntimeS)
	}

	u.sim.SetMains(true)
	eventually(t, "restoring", func() bool { return r.m.Status().State == "restoring" })
	clk.Jump(31 * time.Second)
	eventually(t, "the mains_restored record", func() bool { return h.hasRecord(t, RecMainsRestored) })
	eventually(t, "the notice cleared", func() bool { n, _ := h.view(t); return n.Level == hall.NoticeClear })
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })
	recs, _ = h.records(t)
	if got := recordTypes(recs); !slices.Equal(got, []string{RecOnBattery, RecMainsRestored}) {
		t.Errorf("records = %v, want on_battery, mains_restored", got)
	}
}

// TestLowBatteryShutsDownAndResumes runs the whole shutdown: low battery
// stops issuing, shows the maintenance notice, flushes, cuts the UPS and
// runs the shutdown command once; the next start with mains on resumes.
func TestLowBatteryShutsDownAndResumes(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	dir := t.TempDir()
	h := openHall(t, dir, clk.Now)
	if err := issue(h); err != nil {
		t.Fatal(err)
	}
	run := &fakeRunner{}
	var durable atomic.Bool
	run.before = func() { durable.Store(h.hasRecord(t, RecShuttingDown)) }
	r := startMonitor(t, h, Options{Config: serialConfig(u.path), Clock: clk, Run: run.run})
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })

	u.sim.SetMains(false)
	eventually(t, "the on_battery record", func() bool { return h.hasRecord(t, RecOnBattery) })
	if err := u.sim.SetBattery(20.5); err != nil { // 1.71 V per cell: battery low
		t.Fatal(err)
	}
	eventually(t, "the shutdown command", func() bool { return run.count() == 1 })

	_, iss := h.view(t)
	if !iss.Suspended || iss.Source != Source || !strings.Contains(iss.Reason, "battery low") {
		t.Errorf("Issuing() = %+v, want suspended by power for battery low", iss)
	}
	if err := issue(h); !errors.Is(err, hall.ErrIssuingSuspended) {
		t.Errorf("issue after low battery = %v, want ErrIssuingSuspended", err)
	}
	if n, _ := h.view(t); n.Text != NoticeMaintenanceText || n.Level != hall.NoticeInfo {
		t.Errorf("notice = %+v, want the maintenance notice", n)
	}
	if !durable.Load() {
		t.Error("the shutting_down record was not durable when the shutdown command ran")
	}
	if got := run.calls[0]; !slices.Equal(got, []string{"systemctl", "poweroff"}) {
		t.Errorf("shutdown command = %q, want systemctl poweroff", got)
	}
	if !slices.Contains(u.rec.requests(), "S.5R0003") {
		t.Errorf("the UPS saw %q, want shutdown.return S.5R0003", u.rec.requests())
	}
	recs, alerts := h.records(t)
	if got := recordTypes(recs); !slices.Equal(got, []string{RecOnBattery, RecLowBattery, RecShuttingDown}) {
		t.Errorf("records = %v", got)
	}
	if len(alerts) != 3 {
		t.Errorf("alerts = %v, want one per record", recordTypes(alerts))
	}
	eventually(t, "the health saying shutting down", func() bool {
		d := r.health()
		return d.State == health.Degraded && strings.Contains(d.Reason, "shutting down")
	})
	s := r.m.Status()
	if s.State != "shutting-down" || !s.UPSShutdown || s.Shutdown == nil || s.Shutdown.Error != "" {
		t.Errorf("Status() = %+v, want shutting-down with the UPS told and the command run", s)
	}

	// Nothing more happens, whatever the UPS says now.
	u.sim.SetMains(true)
	clk.Jump(time.Minute)
	time.Sleep(500 * time.Millisecond)
	if n := run.count(); n != 1 {
		t.Errorf("shutdown command ran %d times, want once", n)
	}

	// The power came back: the gateway starts again on the same journal.
	r.stop()
	h.close()
	if err := u.sim.SetBattery(0); err != nil {
		t.Fatal(err)
	}
	h2 := openHall(t, dir, clk.Now)
	if _, iss := h2.view(t); !iss.Suspended {
		t.Fatal("the suspension did not survive the restart")
	}
	r2 := startMonitor(t, h2, Options{Config: serialConfig(u.path), Clock: clk, Run: run.run})
	eventually(t, "issuing resumed", func() bool { _, iss := h2.view(t); return !iss.Suspended })
	eventually(t, "the notice cleared", func() bool { n, _ := h2.view(t); return n.Level == hall.NoticeClear })
	if err := issue(h2); err != nil {
		t.Errorf("issue after the restart = %v", err)
	}
	if r2.m.Status().State != "normal" || run.count() != 1 {
		t.Errorf("after restart: state %s, shutdown commands %d", r2.m.Status().State, run.count())
	}
}

// TestRuntimeBelowMinimum shuts down on the runtime estimate alone, before
// the UPS says battery low.
func TestRuntimeBelowMinimum(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now, Load: 60})
	h := openHall(t, t.TempDir(), clk.Now)
	run := &fakeRunner{}
	cfg := serialConfig(u.path)
	cfg.MinRuntime = config.Duration(20 * time.Minute)
	r := startMonitor(t, h, Options{Config: cfg, Clock: clk, Run: run.run})
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })
	u.sim.SetMains(false)
	eventually(t, "on battery", func() bool { return r.m.Status().State == "on-battery" })
	for i := 0; i < 400 && run.count() == 0; i++ {
		clk.Jump(15 * time.Second)
		time.Sleep(60 * time.Millisecond)
	}
	if run.count() != 1 {
		t.Fatalf("shutdown command ran %d times, want once", run.count())
	}
	recs, _ := h.records(t)
	var low Record
	for _, x := range recs {
		if x.Type == RecLowBattery {
			low = x
		}
	}
	if !strings.Contains(low.Reason, "below the minimum") || low.RuntimeS == nil {
		t.Errorf("low_battery record = %+v, want the runtime reason and estimate", low)
	}
	if st := r.m.Status(); st.UPS.BatteryLow {
		t.Errorf("the UPS already said battery low (%+v): the runtime rule did not act first", st.UPS)
	}
}

// TestDryContactAlarm runs the contact path: edges on gpiotest pins, no
// serial UPS.
func TestDryContactAlarm(t *testing.T) {
	clk := newJumpClock()
	h := openHall(t, t.TempDir(), clk.Now)
	ob := &gpiotest.Pin{N: "GPIO17", Num: 17, L: gpio.High, EdgesChan: make(chan gpio.Level)}
	lb := &gpiotest.Pin{N: "GPIO27", Num: 27, L: gpio.High, EdgesChan: make(chan gpio.Level)}
	pins := map[string]gpio.PinIn{"GPIO17": ob, "GPIO27": lb}
	run := &fakeRunner{}
	cfg := config.Power{DryContact: config.DryContact{OnBattery: "GPIO17", LowBattery: "GPIO27"}}
	r := startMonitor(t, h, Options{Config: cfg, Clock: clk, Run: run.run, OpenPin: func(name string) (gpio.PinIn, error) {
		if p, ok := pins[name]; ok {
			return p, nil
		}
		return nil, errors.New("no pin")
	}})
	eventually(t, "the contacts read", func() bool { return r.health().State == health.Up })
	if s := r.m.Status(); s.Mains != "on" || s.UPS != nil {
		t.Fatalf("Status() = %+v, want mains on and no serial UPS", s)
	}

	ob.EdgesChan <- gpio.Low // the relay closes: on battery
	eventually(t, "the on_battery record", func() bool { return h.hasRecord(t, RecOnBattery) })
	recs, _ := h.records(t)
	if !slices.Equal(recs[0].Sources, []string{"contact"}) {
		t.Errorf("sources = %v, want [contact]", recs[0].Sources)
	}
	eventually(t, "the notice", func() bool { n, _ := h.view(t); return n.Text == NoticeOnBatteryText })
	// Health follows the journaled record; it is not part of the same step.
	eventually(t, "the health degraded", func() bool { return r.health().State == health.Degraded })
	if d := r.health(); d.Port != "GPIO17,GPIO27" {
		t.Errorf("health = %+v, want degraded on GPIO17,GPIO27", d)
	}

	lb.EdgesChan <- gpio.Low // battery low
	eventually(t, "the shutdown command", func() bool { return run.count() == 1 })
	if _, iss := h.view(t); !iss.Suspended {
		t.Error("issuing not suspended at low battery")
	}
	if s := r.m.Status(); s.UPSShutdown {
		t.Error("UPSShutdown set without a serial UPS")
	}
}

// TestEmergencyNoticeStays: the on-battery notice never replaces an
// emergency notice, and mains returning does not clear it.
func TestEmergencyNoticeStays(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	h := openHall(t, t.TempDir(), clk.Now)
	evac := hall.Command{Op: hall.OpNotice, Notice: hall.NoticeEmergency, Reason: "请立即从最近的安全出口撤离", Source: "platform"}
	if _, err := h.g.Do(context.Background(), evac); err != nil {
		t.Fatal(err)
	}
	r := startMonitor(t, h, Options{Config: serialConfig(u.path), Clock: clk})
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })
	u.sim.SetMains(false)
	eventually(t, "the on_battery record", func() bool { return h.hasRecord(t, RecOnBattery) })
	u.sim.SetMains(true)
	eventually(t, "restoring", func() bool { return r.m.Status().State == "restoring" })
	clk.Jump(time.Minute)
	eventually(t, "mains restored", func() bool { return h.hasRecord(t, RecMainsRestored) })
	if n, _ := h.view(t); n.Level != hall.NoticeEmergency || n.Text != evac.Reason {
		t.Errorf("notice = %+v, want the emergency notice untouched", n)
	}
}

// TestUPSLostAndReopened: a silent UPS is lost after five failed polls;
// a port that fails (the USB adapter pulled) is opened again until it is
// back, under another device name.
func TestUPSLostAndReopened(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	h := openHall(t, t.TempDir(), clk.Now)
	var opens atomic.Int32
	var path atomic.Value
	path.Store(u.path)
	open := func(name string, baud int) (io.ReadWriteCloser, error) {
		opens.Add(1)
		if name != "usb:0665:5161" {
			return nil, errors.New("unexpected port " + name)
		}
		return serialport.Open(path.Load().(string), serialport.Mode{Baud: baud})
	}
	cfg := serialConfig("usb:0665:5161")
	r := startMonitor(t, h, Options{Config: cfg, Clock: clk, UPS: fastUPS, OpenPort: open, Reopen: 50 * time.Millisecond})
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })

	u.sim.SetSilent(true) // a cut cable
	eventually(t, "the ups_comm_lost record", func() bool { return h.hasRecord(t, RecUPSLost) })
	d := r.health()
	if d.State != health.Down || !strings.Contains(d.Reason, "no valid reply") || d.Errors["timeout"] < 5 {
		t.Errorf("health = %+v, want down after five timeouts", d)
	}
	u.sim.SetSilent(false)
	eventually(t, "the ups_comm_restored record", func() bool { return h.hasRecord(t, RecUPSFound) })
	eventually(t, "the UPS up again", func() bool { return r.health().State == health.Up })

	// The adapter is pulled: the port fails and cannot be opened until it
	// comes back under a new name.
	before := opens.Load()
	u.pty.Close()
	eventually(t, "reopen attempts", func() bool { return opens.Load() > before+3 })
	eventually(t, "the UPS down", func() bool { return r.health().State == health.Down })
	u2 := startUPS(t, upssim.Config{Now: clk.Now})
	path.Store(u2.path)
	eventually(t, "the UPS up after reopening", func() bool {
		return r.health().State == health.Up && r.m.Status().UPS.Comm == "ok"
	})
	if d := r.health(); d.Errors["disconnect"] == 0 {
		t.Errorf("health errors = %v, want disconnects counted", d.Errors)
	}
}

func TestNewRefusals(t *testing.T) {
	h := openHall(t, t.TempDir(), nil)
	tests := []struct {
		name string
		o    Options
	}{
		{"nothing configured", Options{Hall: h.g, Journal: h.j}},
		{"bad section", Options{Config: config.Power{UPS: config.UPSPort{Port: "/dev/x", Poll: config.Duration(time.Hour)}}, Hall: h.g, Journal: h.j}},
		{"no hall", Options{Config: serialConfig("/dev/x"), Journal: h.j}},
		{"no journal", Options{Config: serialConfig("/dev/x"), Hall: h.g}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.o); err == nil {
				t.Errorf("New(%s) succeeded, want an error", tt.name)
			}
		})
	}
}

// TestResumeWhenUPSAnswersLate: the hall was left suspended by a power
// failure and the UPS does not answer at first; once it does, on mains, the
// hall resumes.
func TestResumeWhenUPSAnswersLate(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	u.sim.SetSilent(true)
	h := openHall(t, t.TempDir(), clk.Now)
	ctx := context.Background()
	if _, err := h.g.Do(ctx, hall.Command{Op: hall.OpSuspendIssuing, Reason: "power failure", Source: Source}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.g.Do(ctx, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: NoticeMaintenanceText, Source: Source}); err != nil {
		t.Fatal(err)
	}
	r := startMonitor(t, h, Options{Config: serialConfig(u.path), Clock: clk, UPS: fastUPS})
	eventually(t, "the UPS lost", func() bool { return r.health().State == health.Down })
	if _, iss := h.view(t); !iss.Suspended {
		t.Fatal("resumed without knowing about mains")
	}
	u.sim.SetSilent(false)
	eventually(t, "issuing resumed", func() bool { _, iss := h.view(t); return !iss.Suspended })
	eventually(t, "the notice cleared", func() bool { n, _ := h.view(t); return n.Level == hall.NoticeClear })
	if err := issue(h); err != nil {
		t.Errorf("issue after the UPS answered = %v", err)
	}
}

// TestForeignSuspensionKept: a suspension or notice that is not the power
// component's own is left alone at start.
func TestForeignSuspensionKept(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now})
	h := openHall(t, t.TempDir(), clk.Now)
	ctx := context.Background()
	if _, err := h.g.Do(ctx, hall.Command{Op: hall.OpSuspendIssuing, Reason: "盘点", Source: "platform"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.g.Do(ctx, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: "系统升级", Source: "platform"}); err != nil {
		t.Fatal(err)
	}
	r := startMonitor(t, h, Options{Config: serialConfig(u.path), Clock: clk})
	eventually(t, "the UPS up", func() bool { return r.health().State == health.Up })
	time.Sleep(300 * time.Millisecond) // a few polls on mains
	n, iss := h.view(t)
	if !iss.Suspended || iss.Source != "platform" || n.Text != "系统升级" {
		t.Errorf("notice %+v, issuing %+v: want the platform's left alone", n, iss)
	}
}
