package demo

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"hallgw/firmware/daemon"
	"hallgw/firmware/frontdesk"
	"hallgw/firmware/health"
)

// TestDemoDevices runs the demo and checks that every front device worked
// through its emulator: tickets printed at both kiosks, presses on the
// bus, calls announced, and every device's health up at the end.
func TestDemoDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	out := &syncBuffer{}
	var d *daemon.Daemon
	type figures struct {
		st   frontdesk.Status
		devs []health.Device
	}
	got := make(chan figures, 1)
	start := time.Date(2026, 11, 30, 9, 40, 0, 0, mustLoc(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Run(ctx, Options{
		Speed: 300, Duration: 8 * time.Second, Windows: 6, Listen: "127.0.0.1:0", Seed: 5, Start: start, Out: out,
		Ready: func(dd *daemon.Daemon) {
			d = dd
			go func() { // the figures just before the demo ends
				select {
				case <-time.After(7 * time.Second):
				case <-ctx.Done():
					return
				}
				got <- figures{frontdesk.For(dd).Status(), dd.Health.All()}
			}()
		},
	})
	if err != nil {
		t.Fatalf("Run = %v\n%s", err, out)
	}
	var fg figures
	select {
	case fg = <-got:
	default:
		t.Fatalf("no figures taken while the demo ran\n%s", out)
	}
	st, devs := fg.st, fg.devs
	if d == nil || len(st.Kiosks) != 2 || len(st.Buses) != 1 || st.Voice == nil {
		t.Fatalf("front devices %+v, want 2 kiosks, a bus and the voice\n%s", st, out)
	}
	for _, k := range st.Kiosks {
		if k.Printed == 0 {
			t.Errorf("kiosk %s printed nothing", k.ID)
		}
	}
	if b := st.Buses[0]; b.Presses == 0 || b.Terminals != 6 || b.Displays != 1 {
		t.Errorf("bus %+v, want presses on 6 terminals and a display", b)
	}
	if st.Voice.Played == 0 {
		t.Error("no call announced")
	}
	up := map[health.State]int{}
	for _, dv := range devs {
		up[dv.State]++
		if dv.State == health.Down {
			t.Errorf("device %s down: %s", dv.ID, dv.Reason)
		}
	}
	if up[health.Up] < 6+1+1+4 { // terminals, display, bus, printers, reader, scanner, voice
		t.Errorf("devices by state %v, want every device up", up)
	}
	s := out.String()
	m := regexp.MustCompile(`printers: kiosk-1 (\d+) printed`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no printer line on the screen:\n%s", s)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("the screen says kiosk 1 printed nothing:\n%s", s)
	}
	for _, re := range []string{`bus-1 \(modbus \d+ baud\): 6 terminals \+ display 201, \d+ presses`, `voice: \d+ calls announced`} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("screen lacks %s:\n%s", re, s)
		}
	}
}
