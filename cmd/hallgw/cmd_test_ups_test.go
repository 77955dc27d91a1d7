package main

import (
	"strings"
	"testing"
	"time"

	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/probe/probetest"
)

func TestTestUPSCommand(t *testing.T) {
	// The UPS's model runs 1000 times faster than the command's clock: a
	// deep test drains its 9 Ah battery in about five seconds, timed as far
	// less than 4 hours.
	start := time.Now()
	fast := func() time.Time { return start.Add(time.Since(start) * 1000) }
	small, _ := probetest.UPS(t, upssim.Config{Now: fast})
	code, out, errs := runInProc(t, "test", "ups", "--port", small.Path, "--deep", "--interval", "50ms", "--nominal", "24")
	if code != 1 || !strings.Contains(errs, "does NOT meet the 4h0m0s requirement") {
		t.Fatalf("test ups on a small battery: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	for _, want := range []string{"UPS on " + small.Path + ": OL", "deep test", "Runtime on a full battery", "measured", "Required: 4h0m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// On battery there is no test.
	onBattery, sim := probetest.UPS(t, upssim.Config{})
	sim.SetMains(false)
	code, _, errs = runInProc(t, "test", "ups", "--port", onBattery.Path, "--minutes", "1", "--nominal", "24")
	if code != 1 || !strings.Contains(errs, "refused") {
		t.Errorf("test ups on battery: exit %d, stderr %q", code, errs)
	}
}

func TestTestUPSUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no port", []string{"test", "ups"}},
		{"deep and minutes", []string{"test", "ups", "--port", "/dev/null", "--deep", "--minutes", "10"}},
		{"too long", []string{"test", "ups", "--port", "/dev/null", "--minutes", "100"}},
		{"interval", []string{"test", "ups", "--port", "/dev/null", "--interval", "1ms"}},
		{"extra argument", []string{"test", "ups", "--port", "/dev/null", "now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := runInProc(t, tt.args...); code != 2 {
				t.Errorf("hallgw %s = exit %d, want 2", strings.Join(tt.args, " "), code)
			}
		})
	}
}
