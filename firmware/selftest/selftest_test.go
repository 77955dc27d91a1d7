package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/idcard"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/drivers/ups/upssim"
	"hallgw/drivers/voice"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/firmware/config"
	"hallgw/firmware/journal"
	"hallgw/firmware/probe/probetest"
	"hallgw/firmware/serialport"
)

// testConfig writes a configuration with a kiosk printer and two window
// buses on the given ports and loads it.
func testConfig(t *testing.T, dataDir, printer, modbusBus, vendorBus, reader string) *config.Config {
	t.Helper()
	readers := ""
	if reader != "" {
		readers = "  window_readers:\n    - {window: \"1\", port: " + reader + "}\nprivacy:\n  secret: selftest-secret-0123456789\n"
	}
	y := fmt.Sprintf(`gateway:
  id: gw-selftest
  hall_id: hn-test
  hall_name: 测试政务服务中心
  data_dir: %s
devices:
  kiosks:
    - {id: kiosk-1, printer: {port: %s, baud: 19200}, paper_width: 80}
  buses:
    - id: bus-1
      port: %s
      baud: 9600
      protocol: modbus
      terminals: [{address: 1, window: "1"}, {address: 2, window: "2"}]
      displays: [{address: 201, name: hall}]
    - id: bus-2
      port: %s
      baud: 19200
      protocol: vendor
      terminals: [{address: 3, window: "3"}]
`, dataDir, printer, modbusBus, vendorBus) + readers
	path := filepath.Join(t.TempDir(), "hallgw.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return l.Config
}

func testCard(t *testing.T) *idcard.Card {
	t.Helper()
	const first17 = "43010419800501001"
	d, err := idcard.CheckDigit(first17)
	if err != nil {
		t.Fatal(err)
	}
	return &idcard.Card{Name: "张三丰", Sex: idcard.SexMale, Nation: "01", Birth: time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC),
		Address: "湖南省长沙市岳麓区测试路1号", Number: first17 + string(rune(d)), Authority: "测试市公安局",
		ValidFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// wiredPin is an input held at a level by what is wired to it, whatever
// pull is set.
type wiredPin struct {
	gpiotest.Pin
	level gpio.Level
}

func (p *wiredPin) Read() gpio.Level { return p.level }

type showLog struct {
	mu    sync.Mutex
	texts map[windowbus.Addr][]string
}

func (s *showLog) add(c bussim.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.texts == nil {
		s.texts = map[windowbus.Addr][]string{}
	}
	s.texts[c.Addr] = append(s.texts[c.Addr], c.Text)
}

func (s *showLog) get(a windowbus.Addr) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts[a]...)
}

// TestRunEmulators runs the self test against emulators on pseudo-terminals
// that answer only at their configured speed.
func TestRunEmulators(t *testing.T) {
	printer, psim := probetest.Printer(t, 19200, escpossim.Opts{})
	var shows showLog
	mb, msim := probetest.Bus(t, 9600, bussim.Opts{Protocol: "modbus", Terminals: []windowbus.Addr{1, 2},
		Displays: []windowbus.Addr{201}, OnShow: shows.add})
	vb, vsim := probetest.Bus(t, 19200, bussim.Opts{Protocol: "vendor", Terminals: []windowbus.Addr{3}, OnShow: shows.add})
	upsLine, _ := probetest.UPS(t, upssim.Config{})
	cardA, simA := probetest.IDCard(t, 115200)
	cardB, _ := probetest.IDCard(t, 57600)
	if err := simA.Place(testCard(t)); err != nil {
		t.Fatal(err)
	}
	// Window 1's bar shows a call before the test.
	before := "A012 请到1号窗口"
	showBefore(t, mb.Path, 1, before)

	ob := &wiredPin{Pin: gpiotest.Pin{N: "GPIO17"}, level: gpio.High}
	lb := &wiredPin{Pin: gpiotest.Pin{N: "GPIO27"}, level: gpio.Low} // active: battery low signalled
	pins := map[string]gpio.PinIn{"GPIO17": ob, "GPIO27": lb}
	wavs := t.TempDir()
	player, err := voice.NewFilePlayer(wavs)
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	o := Opts{
		Config: testConfig(t, t.TempDir(), printer.Path, mb.Path, vb.Path, cardA.Path),
		Power: config.Power{UPS: config.UPSPort{Port: upsLine.Path, BatteryNominal: 24},
			DryContact: config.DryContact{OnBattery: "GPIO17", LowBattery: "GPIO27"}},
		Readers:  []config.WindowReader{{Window: "2", Port: cardB.Path, Baud: 57600}},
		CardWait: 4 * time.Second,
		BarHold:  200 * time.Millisecond,
		Voice:    player,
		OpenPin: func(name string) (gpio.PinIn, error) {
			if p, ok := pins[name]; ok {
				return p, nil
			}
			return nil, errors.New("no such pin")
		},
		Progress: func(d string) { progress = append(progress, d) },
	}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		device string
		pass   bool
		in     string // in the result or the error
	}{
		{"kiosk-1/printer", true, "test ticket printed"},
		{"bus-1/t01", true, "previous text \"" + before + "\" restored"},
		{"bus-1/t02", true, "blank again"},
		{"bus-1/d201", true, "hall display"},
		{"bus-2/t03", true, "cleared"},
		{"voice", true, "test announcement played"},
		{"ups", true, "ups.status OL"},
		{"ups/on-battery", true, "contact open"},
		{"ups/low-battery", false, "the low battery contact is active"},
		{"window-1/reader", true, "card read: 张*丰 4301**********001"},
		{"window-2/reader", true, "no card presented"},
	}
	if len(rep.Checks) != len(want) {
		t.Fatalf("%d checks, want %d: %+v", len(rep.Checks), len(want), rep.Checks)
	}
	for i, w := range want {
		t.Run(w.device, func(t *testing.T) {
			c := rep.Checks[i]
			if c.Device != w.device || c.Pass != w.pass || !strings.Contains(c.Result+c.Error, w.in) {
				t.Errorf("check %d = %+v, want %s pass=%v with %q", i, c, w.device, w.pass, w.in)
			}
		})
	}
	if rep.Pass {
		t.Error("Report.Pass = true with a failed check")
	}

	tickets := psim.Tickets()
	if len(tickets) != 1 || !strings.Contains(tickets[0].Text(), "测试") || !strings.Contains(tickets[0].Text(), "测试政务服务中心") {
		t.Errorf("printed %d tickets: %v", len(tickets), tickets)
	}
	if got := msim.Text(1); got != before {
		t.Errorf("bar 1 shows %q after the test, want %q", got, before)
	}
	if got := shows.get(1); len(got) < 2 || got[len(got)-2] != "自检 窗口1" {
		t.Errorf("bar 1 was shown %q, want the test text before the restore", got)
	}
	if got := shows.get(201); len(got) != 2 || !strings.Contains(got[0], "自检") || got[1] != "" {
		t.Errorf("hall display was shown %q, want the test text then blank", got)
	}
	if got := vsim.Text(3); got != "" {
		t.Errorf("vendor bar 3 shows %q after the test, want blank", got)
	}
	if files := player.Files(); len(files) != 1 {
		t.Errorf("voice files = %v, want one announcement", files)
	}
	for _, c := range rep.Checks {
		if strings.Contains(c.Result, "张三丰") || strings.Contains(c.Result, "43010419800501") {
			t.Errorf("clear personal data in %+v", c)
		}
	}
	if len(progress) == 0 {
		t.Error("no progress reported")
	}
}

// showBefore writes a text to a Modbus bar, as the daemon would have.
func showBefore(t *testing.T, path string, a windowbus.Addr, text string) {
	t.Helper()
	port, err := serialport.Open(path, serialport.Mode{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	l, err := modbusrtu.Open(port, windowbus.LinkOpts{Baud: 9600, ReplyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Halt()
	b, err := windowbus.EncodeText(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Show(a, b); err != nil {
		t.Fatal(err)
	}
}

// TestRunFailures: faults are reported per device with their reason.
func TestRunFailures(t *testing.T) {
	printer, psim := probetest.Printer(t, 19200, escpossim.Opts{})
	psim.SetPaper(escpossim.PaperEnd)
	upsLine, usim := probetest.UPS(t, upssim.Config{})
	usim.SetMains(false)
	silent := probetest.Silent(t)
	card, csim := probetest.IDCard(t, 115200)
	csim.Fail(idcardsim.FaultSAM)
	o := Opts{
		Config:  testConfig(t, t.TempDir(), printer.Path, silent.Path, silent.Path, ""),
		Power:   config.Power{UPS: config.UPSPort{Port: upsLine.Path, BatteryNominal: 24}},
		Readers: []config.WindowReader{{Window: "5", Port: card.Path}},
		BarHold: 50 * time.Millisecond,
		Voice:   failingPlayer{},
		Timeout: 300 * time.Millisecond,
	}
	o.Config.Devices.Buses = o.Config.Devices.Buses[:1]
	o.Config.Devices.Buses[0].Displays = nil
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ device, in string }{
		{"kiosk-1/printer", "paper"},
		{"bus-1/t01", "no answer to identify"},
		{"bus-1/t02", "no answer to identify"},
		{"voice", "audio open error"},
		{"ups", "runs on battery"},
		{"window-5/reader", "security module"},
	}
	if len(rep.Checks) != len(want) || rep.Pass {
		t.Fatalf("checks = %+v, want %d failures", rep.Checks, len(want))
	}
	for i, w := range want {
		t.Run(w.device, func(t *testing.T) {
			if c := rep.Checks[i]; c.Device != w.device || c.Pass || !strings.Contains(c.Error, w.in) {
				t.Errorf("check = %+v, want %s failed with %q", c, w.device, w.in)
			}
		})
	}
}

type failingPlayer struct{}

func (failingPlayer) Play(context.Context, []byte) error {
	return errors.New("voice: aplay: audio open error: No such file or directory")
}

func TestRunRefusals(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "/dev/null", "/dev/null", "/dev/null", "")
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-selftest"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Opts{Config: cfg}); !errors.Is(err, ErrDaemonRunning) {
		t.Errorf("Run with the journal open = %v, want ErrDaemonRunning", err)
	}
	j.Close()
	if running, err := DaemonRunning(dir); running || err != nil {
		t.Errorf("DaemonRunning after close = %v, %v", running, err)
	}
	if _, err := Run(context.Background(), Opts{}); err == nil {
		t.Error("Run without a configuration = nil error")
	}
	// A port another program holds is reported as busy, device by device.
	busy := func(string, int) (io.ReadWriteCloser, error) { return nil, &serial.PortError{} }
	cfg.Devices.Buses = nil
	rep, err := Run(context.Background(), Opts{Config: cfg, Open: busy})
	if err != nil || len(rep.Checks) != 1 || rep.Pass || !strings.Contains(rep.Checks[0].Error, "port busy") {
		t.Errorf("busy printer: %+v, %v", rep, err)
	}
}
