package powerd

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/daemon/daemontest"
	"hallgw/firmware/serialport"
	"hallgw/firmware/uplink"
)

// runDaemon runs a gateway daemon in a temporary directory.
func runDaemon(t *testing.T) *daemon.Daemon {
	t.Helper()
	root := t.TempDir()
	l, err := config.Parse("hallgw.yaml", []byte("gateway:\n  id: gw-power\n  hall_id: hn-test\n  data_dir: "+
		filepath.Join(root, "data")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Run(t, daemon.Options{Config: l, Logger: testLogger(t)})
	return d
}

// startComponent adds the power component to a running daemon.
func startComponent(t *testing.T, d *daemon.Daemon, c config.Power, o *Options) *Monitor {
	t.Helper()
	comp, err := NewComponent(d, c, o)
	if err != nil || comp == nil {
		t.Fatalf("NewComponent = %v, %v", comp, err)
	}
	if err := comp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := comp.Stop(ctx); err != nil {
			t.Errorf("Stop = %v", err)
		}
	})
	return For(d)
}

func command(t *testing.T, d *daemon.Daemon, args string) (TestReply, error) {
	t.Helper()
	var raw json.RawMessage
	if args != "" {
		raw = json.RawMessage(args)
	}
	res, err := batteryTestCommand(context.Background(), d, raw)
	if err != nil {
		return TestReply{}, err
	}
	return res.(TestReply), nil
}

func code(err error) string {
	var ce *uplink.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// waitTest waits for the battery test to end.
func waitTest(t *testing.T, m *Monitor) TestStatus {
	t.Helper()
	var s *TestStatus
	eventually(t, "the end of the battery test", func() bool {
		s = m.Status().LastTest
		return s != nil && s.State != "running"
	})
	return *s
}

// fastPort opens ports with a short read timeout, so that the driver's
// flush before each request takes milliseconds.
func fastPort(name string, baud int) (io.ReadWriteCloser, error) {
	return serialport.Open(name, serialport.Mode{Baud: baud, ReadTimeout: 5 * time.Millisecond})
}

func TestComponentOff(t *testing.T) {
	d := runDaemon(t)
	if c, err := NewComponent(d, config.Power{}, nil); c != nil || err != nil {
		t.Errorf("NewComponent(no UPS) = %v, %v, want nil, nil", c, err)
	}
	if _, err := command(t, d, ""); code(err) != uplink.CodeUnavailable {
		t.Errorf("command without a UPS = %v, want unavailable", err)
	}
	if _, ok := d.Status()["power"]; ok {
		t.Error("a power status section without a UPS")
	}
}

// TestBatteryTestCommand runs the platform command against emulated UPSes:
// a small battery fails the 4-hour requirement on a timed test, a large one
// passes on a deep test, and the report survives a restart.
func TestBatteryTestCommand(t *testing.T) {
	tests := []struct {
		name     string
		capacity float64
		args     string
		interval time.Duration
		meets    bool
		measured bool
	}{
		{"9 Ah, timed 40 minutes", 9, `{"minutes":40}`, 10 * time.Second, false, false},
		{"9 Ah, default test", 9, ``, 10 * time.Second, false, false},
		{"40 Ah, deep", 40, `{"deep":true}`, time.Minute, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newJumpClock()
			clk.skip = tt.interval
			u := startUPS(t, upssim.Config{Now: clk.Now, CapacityAh: tt.capacity, Baud: -1})
			d := runDaemon(t)
			m := startComponent(t, d, serialConfig(u.path), &Options{Clock: clk, TestInterval: tt.interval, OpenPort: fastPort})
			eventually(t, "the UPS answering", func() bool { s := m.Status(); return s.Mains == "on" && s.UPS.Comm == "ok" })
			if _, ok := d.Status()["power"].(Status); !ok {
				t.Fatalf("status section power = %T, want Status", d.Status()["power"])
			}

			rep, err := command(t, d, tt.args)
			if err != nil || rep.Test == nil || rep.Test.State != "running" {
				t.Fatalf("command(%s) = %+v, %v, want a running test", tt.args, rep, err)
			}
			if _, err := command(t, d, tt.args); code(err) != uplink.CodeRejected {
				t.Errorf("second test while one runs = %v, want rejected", err)
			}
			got := waitTest(t, m)
			if got.State != "done" || got.Meets4h != tt.meets || got.Measured != tt.measured || got.RuntimeS <= 0 {
				t.Fatalf("test = %+v, want done, meets_4h %v, measured %v", got, tt.meets, tt.measured)
			}
			if got.RequiredS != int64(4*time.Hour/time.Second) || got.Load <= 0 || got.Method == "" {
				t.Errorf("test = %+v, want required 4h, the load and the method", got)
			}
			if tt.measured != slicesContains(u.rec.requests(), "TL") {
				t.Errorf("requests %q: deep test command TL sent = %v, want %v", u.rec.requests(), !tt.measured, tt.measured)
			}
			var rec *Record
			eventually(t, "the battery_test record", func() bool {
				recs := journalRecords(t, d)
				for i := range recs {
					if recs[i].Type == RecBatteryTest {
						rec = &recs[i]
					}
				}
				return rec != nil
			})
			if rec.Test == nil || rec.Test.Meets4h != tt.meets {
				t.Errorf("battery_test record = %+v", rec)
			}
			// The report is kept for the next start.
			m2, err := New(Options{Config: serialConfig(u.path), Hall: d.Gateway, Journal: d.Journal})
			if err != nil {
				t.Fatal(err)
			}
			if lt := m2.Status().LastTest; lt == nil || lt.RuntimeS != got.RuntimeS || lt.Meets4h != tt.meets || lt.Report == nil {
				t.Errorf("after a restart LastTest = %+v, want %+v", lt, got)
			}
		})
	}
}

func TestBatteryTestCommandRefusals(t *testing.T) {
	clk := newJumpClock()
	u := startUPS(t, upssim.Config{Now: clk.Now, Baud: -1})
	d := runDaemon(t)
	m := startComponent(t, d, serialConfig(u.path), &Options{Clock: clk, OpenPort: fastPort})
	eventually(t, "the UPS answering", func() bool { s := m.Status(); return s.Mains == "on" && s.UPS.Comm == "ok" })
	tests := []struct {
		name, args, code string
	}{
		{"unknown field", `{"hours":4}`, uplink.CodeInvalid},
		{"too long", `{"minutes":100}`, uplink.CodeInvalid},
		{"deep and timed", `{"minutes":10,"deep":true}`, uplink.CodeInvalid},
		{"stop with more", `{"stop":true,"deep":true}`, uplink.CodeInvalid},
		{"stop with none running", `{"stop":true}`, uplink.CodeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := command(t, d, tt.args); code(err) != tt.code {
				t.Errorf("command(%s) = %v, want code %s", tt.args, err, tt.code)
			}
		})
	}
	// A test is stopped on request: the UPS is sent CT.
	if _, err := command(t, d, `{"minutes":30}`); err != nil {
		t.Fatal(err)
	}
	rep, err := command(t, d, `{"stop":true}`)
	if err != nil || !rep.Stopped || rep.Test == nil || rep.Test.State != "failed" {
		t.Errorf("stop = %+v, %v, want stopped with the test failed", rep, err)
	}
	if !slicesContains(u.rec.requests(), "CT") {
		t.Errorf("requests %q, want CT", u.rec.requests())
	}
	// Not on mains: refused.
	u.sim.SetMains(false)
	eventually(t, "on battery", func() bool { return m.Status().State == "on-battery" })
	if _, err := command(t, d, `{"minutes":10}`); code(err) != uplink.CodeRejected {
		t.Errorf("test on battery = %v, want rejected", err)
	}
}

func journalRecords(t *testing.T, d *daemon.Daemon) []Record {
	t.Helper()
	h := &hallRig{j: d.Journal, g: d.Gateway}
	recs, _ := h.records(t)
	return recs
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
