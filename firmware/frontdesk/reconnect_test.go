package frontdesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.bug.st/serial/enumerator"

	"hallgw/drivers/escpos"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

// usbPorts stands in for the system's USB enumeration: each fake
// usb:VID:PID:SERIAL identity maps to whatever path its device has now.
type usbPorts struct {
	mu    sync.Mutex
	paths map[string]func() string // serial number → current path ("" when unplugged)
}

func fakeUSB(t *testing.T) *usbPorts {
	u := &usbPorts{paths: map[string]func() string{}}
	old := serialport.Enumerate
	serialport.Enumerate = func() ([]*enumerator.PortDetails, error) {
		u.mu.Lock()
		defer u.mu.Unlock()
		var out []*enumerator.PortDetails
		for sn, path := range u.paths {
			if p := path(); p != "" {
				out = append(out, &enumerator.PortDetails{Name: p, IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: sn})
			}
		}
		return out, nil
	}
	t.Cleanup(func() { serialport.Enumerate = old })
	return u
}

func (u *usbPorts) add(serial string, path func() string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.paths[serial] = path
	return "usb:1a86:7523:" + serial
}

// states records the health states a device goes through.
func states(t *testing.T, h *testHall, id string) func() []health.Device {
	var mu sync.Mutex
	var seen []health.Device
	cancel := h.d.Health.Subscribe(func(c health.Change) {
		if c.New.ID == id && c.New.State != c.Old.State {
			mu.Lock()
			seen = append(seen, c.New)
			mu.Unlock()
		}
	})
	t.Cleanup(cancel)
	return func() []health.Device {
		mu.Lock()
		defer mu.Unlock()
		return append([]health.Device(nil), seen...)
	}
}

func TestPrinterUnplugReplugUnderAnotherName(t *testing.T) {
	usb := fakeUSB(t)
	p := emuPrinter(t, 9600)
	name := usb.add("K1", p.Path)
	h := newHall(t, nil)
	seen := states(t, h, "kiosk-1/printer")
	h.start(Options{Devices: config.Devices{Kiosks: []config.Kiosk{{ID: "1", Printer: &config.Port{Port: name, Baud: 9600}}}}})
	h.open("1")
	waitFor(t, "the printer up", func() bool { d, _ := h.d.Health.Get("kiosk-1/printer"); return d.State == health.Up })
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &IssuedTicket{}); code != http.StatusCreated {
		t.Fatalf("ticket before the unplug = %d", code)
	}

	old := p.Path()
	if err := p.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the printer down", func() bool { d, _ := h.d.Health.Get("kiosk-1/printer"); return d.State == health.Down })
	var r Refusal
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &r); code != http.StatusConflict || r.Code != "printer_unavailable" {
		t.Errorf("ticket while unplugged = %d %+v, want printer_unavailable", code, r)
	}
	takePTY(t, old) // so that the printer comes back under another name
	path, err := p.Replug()
	if err != nil {
		t.Fatal(err)
	}
	if path == old {
		t.Fatalf("replugged under the same name %s", path)
	}
	replugged := time.Now()
	waitFor(t, "the printer up again", func() bool { d, _ := h.d.Health.Get("kiosk-1/printer"); return d.State == health.Up })
	t.Logf("unplugged %s, replugged as %s, up again after %v", old, path, time.Since(replugged).Round(time.Millisecond))
	var got IssuedTicket
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != http.StatusCreated || !got.Printed {
		t.Fatalf("ticket after the replug = %d %+v", code, got)
	}
	if n := len(p.Tickets()); n != 2 {
		t.Errorf("%d tickets printed, want 2", n)
	}
	// The gap is in the health history: down at a time, then up.
	hist := seen()
	if len(hist) < 3 || hist[len(hist)-2].State != health.Down || hist[len(hist)-1].State != health.Up ||
		!hist[len(hist)-1].Since.After(hist[len(hist)-2].Since) {
		t.Errorf("health history %v, want …, down, then up later", brief(hist))
	}
	d, _ := h.d.Health.Get("kiosk-1/printer")
	if d.Errors["disconnect"] == 0 || d.Port != name {
		t.Errorf("printer health %+v, want a disconnect counted on %s", d, name)
	}
}

// takePTY makes sure that a device plugged back in gets another name than
// path, its old pseudo-terminal. The kernel hands out the lowest free pty
// number, and other processes on the machine free and take them too. So
// it waits until the daemon has let go of path, then holds pseudo-
// terminals for the rest of the test until it holds path itself.
func takePTY(t *testing.T, path string) {
	t.Helper()
	waitFor(t, "the old pseudo-terminal released", func() bool {
		_, err := os.Stat(path)
		return errors.Is(err, fs.ErrNotExist)
	})
	for range 64 {
		p, err := simwire.OpenPTY()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		if p.Path == path {
			return
		}
	}
	// Another process holds it: the device cannot get it back either.
}

func brief(ds []health.Device) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s@%s(%s)", d.State, d.Since.Format("15:04:05.000"), d.Reason))
	}
	return out
}

func TestBusUnplugReplugUnderAnotherName(t *testing.T) {
	usb := fakeUSB(t)
	terms := []windowbus.Addr{1, 2}
	bus := newTestBus(t, 115200, terms, []windowbus.Addr{201})
	var cur atomic.Value
	cur.Store("")
	cur.Store(bus.path())
	name := usb.add("B1", func() string { return cur.Load().(string) })
	h := newHall(t, nil)
	seen := states(t, h, "bus-1/t02")
	f := h.start(Options{Devices: config.Devices{Buses: []config.Bus{busConfig(name, 115200, 1, 2)}}})
	presses := watchPresses(t, f)
	h.open("2")
	bus.waitText(2, "2号窗口 综合受理二")

	old := bus.path()
	bus.unplug()
	cur.Store("")
	waitFor(t, "the terminal down", func() bool { d, _ := h.d.Health.Get("bus-1/t02"); return d.State == health.Down })
	waitFor(t, "the bus down", func() bool { d, _ := h.d.Health.Get("bus-1"); return d.State == health.Down })
	h.issue("general", 1) // made while the bus is away: shown when it is back

	takePTY(t, old)
	bus.plug(115200, terms, []windowbus.Addr{201})
	if bus.path() == old {
		t.Fatalf("replugged under the same name %s", old)
	}
	cur.Store(bus.path())
	replugged := time.Now()
	bus.waitText(2, "2号窗口 综合受理二")
	waitFor(t, "the terminal up again", func() bool { d, _ := h.d.Health.Get("bus-1/t02"); return d.State == health.Up })
	t.Logf("bus replugged as %s, bar written again after %v", bus.path(), time.Since(replugged).Round(time.Millisecond))
	r := presses.wait(t, 2, bus.press(2, windowbus.KeyCall, 0))
	if r.Err != nil {
		t.Fatalf("call after the replug: %v", r.Err)
	}
	bus.waitText(2, "A001 请到2号窗口")
	bus.waitText(201, "A001 请到2号窗口")
	hist := seen()
	if len(hist) < 3 || hist[len(hist)-2].State != health.Down || hist[len(hist)-1].State != health.Up {
		t.Errorf("terminal health history %v, want …, down, then up", brief(hist))
	}
	var win hall.WindowView
	h.view(func(hl *hall.Hall) { win, _ = hl.Window("2") })
	if win.CurrentNumber != "A001" {
		t.Errorf("window 2 serves %q", win.CurrentNumber)
	}
}

// fakePort is a port whose session the test ends.
type fakePort struct{}

func (fakePort) Read([]byte) (int, error)    { return 0, io.EOF }
func (fakePort) Write(b []byte) (int, error) { return len(b), nil }
func (fakePort) Close() error                { return nil }

// TestSuperviseReopensWithinASecond checks the reopening schedule on a
// fake clock: after a disconnection the port is tried again after 100 ms,
// 200 ms, 400 ms, 800 ms and then every second, so a device that
// reappears is opened again within a second; a session that reached its
// device resets the back-off.
func TestSuperviseReopensWithinASecond(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	d := &daemon.Daemon{Options: daemon.Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)},
		Health: health.NewRegistry(clock.Now)}
	var present atomic.Bool
	var mu sync.Mutex
	var opens []time.Time
	end := make(chan struct{})
	f := &Frontdesk{d: d, clock: clock, log: d.Logger, o: Options{Backoff: MinBackoff, MaxBackoff: MaxBackoff,
		Open: func(string, serialport.Mode) (io.ReadWriteCloser, error) {
			mu.Lock()
			opens = append(opens, clock.Now())
			mu.Unlock()
			if !present.Load() {
				return nil, fmt.Errorf("serialport: no port matches: %w", serialport.ErrNotFound)
			}
			return fakePort{}, nil
		}}}
	sessions := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	// block waits until the supervisor waits on the clock, and reports
	// false when a session started instead.
	var blockMu sync.Mutex
	var unblock context.CancelFunc
	block := func() bool {
		bctx, c := context.WithCancel(ctx)
		defer c()
		blockMu.Lock()
		unblock = c
		blockMu.Unlock()
		if len(sessions) > 0 {
			return false
		}
		return clock.BlockUntilContext(bctx, 1) == nil
	}
	// The device is there from the start: the supervisor's first opening
	// must find it, or it would wait on the fake clock for ever.
	present.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.supervise(ctx, serialDev{id: "kiosk-1/printer", kind: "printer", name: "usb:1a86:7523"},
			func(ctx context.Context, _ io.ReadWriteCloser, up func()) error {
				up()
				sessions <- struct{}{}
				blockMu.Lock()
				if unblock != nil {
					unblock()
				}
				blockMu.Unlock()
				select {
				case <-end:
				case <-ctx.Done():
				}
				return fmt.Errorf("escpos: port failed: %w", escpos.ErrDisconnected)
			})
	}()
	defer func() {
		cancel()
		<-done
	}()
	<-sessions
	start := clock.Now()
	present.Store(false)
	end <- struct{}{} // unplugged

	// The device reappears 3 s after it went, between two attempts.
	for clock.Since(start) < 3*time.Second {
		if !block() {
			t.Fatal("a session started with the device away")
		}
		clock.Advance(50 * time.Millisecond)
	}
	present.Store(true)
	reappeared := clock.Now()
	for block() {
		clock.Advance(50 * time.Millisecond)
	}
	<-sessions
	back := clock.Now()
	mu.Lock()
	var gaps []time.Duration
	prev := start
	for _, o := range opens[1:] {
		gaps = append(gaps, o.Sub(prev))
		prev = o
	}
	mu.Unlock()
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if i >= len(gaps) || gaps[i] != w*time.Millisecond {
			t.Fatalf("intervals between attempts = %v, want %v ms then 1 s", gaps, want)
		}
	}
	for _, g := range gaps[len(want):] {
		if g != MaxBackoff {
			t.Errorf("interval %v after the first five, want %v", g, MaxBackoff)
		}
	}
	if wait := back.Sub(reappeared); wait > MaxBackoff {
		t.Errorf("opened again %v after the device reappeared, want at most %v", wait, MaxBackoff)
	}
	dv, _ := d.Health.Get("kiosk-1/printer")
	if dv.State != health.Up || dv.Errors["disconnect"] != 1 {
		t.Errorf("health %s %v, want up with one disconnect", dv.State, dv.Errors)
	}

	// The session reached its device: the next outage starts at 100 ms again.
	mu.Lock()
	n0 := len(opens)
	mu.Unlock()
	present.Store(false)
	lost := clock.Now()
	end <- struct{}{}
	for {
		mu.Lock()
		n := len(opens)
		mu.Unlock()
		if n >= n0+1 {
			break
		}
		if !block() {
			t.Fatal("a session started with the device away")
		}
		clock.Advance(10 * time.Millisecond)
	}
	mu.Lock()
	if g := opens[n0].Sub(lost); g != MinBackoff {
		t.Errorf("first interval of a new outage = %v, want %v", g, MinBackoff)
	}
	mu.Unlock()
}
