package probe

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
	"go.yaml.in/yaml/v3"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/ups/upssim"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/firmware/config"
	"hallgw/firmware/probe/probetest"
	"hallgw/firmware/serialport"
)

// fastOpen opens a port with a short read timeout.
func fastOpen(name string, baud int) (io.ReadWriteCloser, error) {
	return serialport.Open(name, serialport.Mode{Baud: baud, ReadTimeout: 5 * time.Millisecond})
}

func noPorts() ([]*enumerator.PortDetails, error) { return nil, nil }

// TestScanEmulators probes emulators on pseudo-terminals that answer only at
// their own speed, and checks that each is found with its protocol, speed
// and address.
func TestScanEmulators(t *testing.T) {
	printer, _ := probetest.Printer(t, 19200, escpossim.Opts{})
	ups, _ := probetest.UPS(t, upssim.Config{})
	card, _ := probetest.IDCard(t, 38400)
	modbus, _ := probetest.Bus(t, 19200, bussim.Opts{Protocol: "modbus", Terminals: []windowbus.Addr{3, 4}, Displays: []windowbus.Addr{201}})
	vend, _ := probetest.Bus(t, 115200, bussim.Opts{Protocol: "vendor", Terminals: []windowbus.Addr{2}})
	silent := probetest.Silent(t)

	var mu sync.Mutex
	seen := map[string]bool{}
	enum := func() ([]*enumerator.PortDetails, error) {
		// The printer looks like a USB adapter; the others are plain ports.
		return []*enumerator.PortDetails{{Name: printer.Path, IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: "K1"}}, nil
	}
	o := Opts{
		Ports:     []string{printer.Path, ups.Path, card.Path, modbus.Path, vend.Path, silent.Path},
		BusAddrs:  4,
		Timeout:   300 * time.Millisecond,
		Open:      fastOpen,
		Enumerate: enum,
		Progress: func(p Progress) {
			mu.Lock()
			seen[p.Protocol] = true
			mu.Unlock()
			if p.Done > p.Ports || p.Ports != 6 {
				t.Errorf("progress %+v: want 6 ports", p)
			}
		},
	}
	fs, err := Scan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		line            *probetest.Line
		device, proto   string
		baud, addr      int
		usbID, detailIn string
	}{
		{"printer", printer, DevicePrinter, ProtoESCPOS, 19200, 0, "1a86:7523:K1", "online"},
		{"ups", ups, DeviceUPS, ProtoQ1, 2400, 0, "", "OL"},
		{"id card", card, DeviceIDCard, ProtoSAM, 38400, 0, "", "SAM ready"},
		{"modbus bus", modbus, DeviceBus, ProtoModbus, 19200, 3, "", "window terminal"},
		{"vendor bus", vend, DeviceBus, ProtoVendor, 115200, 2, "", "window terminal"},
		{"silent", silent, "", "", 0, 0, "", "no known device"},
	}
	if len(fs) != len(tests) {
		t.Fatalf("Scan = %d findings, want %d", len(fs), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fs[i]
			if f.Name != tt.line.Path || f.Device != tt.device || f.Protocol != tt.proto || f.Baud != tt.baud ||
				f.Address != tt.addr || f.USBID() != tt.usbID || !strings.Contains(f.Detail, tt.detailIn) || f.Error != "" {
				t.Errorf("finding = %+v (usb %q), want %s %s at %d baud, address %d, usb %q, detail with %q",
					f, f.USBID(), tt.device, tt.proto, tt.baud, tt.addr, tt.usbID, tt.detailIn)
			}
		})
	}
	// The speeds mattered: the devices heard queries at other speeds and
	// dropped them.
	for _, l := range []*probetest.Line{card, modbus, vend} {
		if l.Gate.Dropped() == 0 {
			t.Errorf("%s at %d baud dropped nothing: the scan never tried another speed first", l.Path, l.Baud)
		}
	}
	for _, p := range []string{ProtoESCPOS, ProtoQ1, ProtoSAM, ProtoModbus, ProtoVendor} {
		if !seen[p] {
			t.Errorf("no progress reported for %s", p)
		}
	}
	checkSnippet(t, Snippet(fs))
}

// checkSnippet checks that the snippet is valid configuration.
func checkSnippet(t *testing.T, snip string) {
	t.Helper()
	for _, want := range []string{"kiosks:", `printer: {port: "usb:1a86:7523:K1", baud: 19200}`, "buses:",
		"protocol: modbus", "protocol: vendor", "{address: 3, window: \"3\"}", "power:", "baud: 2400", "# ID-card reader"} {
		if !strings.Contains(snip, want) {
			t.Errorf("snippet lacks %q:\n%s", want, snip)
		}
	}
	devs, pow, _ := strings.Cut(snip, "power:")
	base := "gateway:\n  id: gw-probe\n  hall_id: hn-probe\n"
	if _, err := config.Parse("probe.yaml", []byte(base+devs)); err != nil {
		t.Errorf("devices snippet does not load: %v\n%s", err, devs)
	}
	var p struct {
		Power struct {
			UPS struct {
				Port string `yaml:"port"`
				Baud int    `yaml:"baud"`
			} `yaml:"ups"`
		} `yaml:"power"`
	}
	if err := yaml.Unmarshal([]byte("power:"+pow), &p); err != nil || p.Power.UPS.Baud != 2400 || p.Power.UPS.Port == "" {
		t.Errorf("power snippet = %+v, %v", p, err)
	}
}

func TestScanOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
		busy bool
	}{
		{"busy", &serial.PortError{}, "port busy", true},
		{"gone", serialport.ErrNotFound, "port not found", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := Scan(context.Background(), Opts{Ports: []string{"/dev/ttyX9"}, Enumerate: noPorts,
				Open: func(string, int) (io.ReadWriteCloser, error) { return nil, tt.err }})
			if err != nil || len(fs) != 1 {
				t.Fatalf("Scan = %v, %v", fs, err)
			}
			if f := fs[0]; f.Device != "" || !strings.Contains(f.Error, tt.want) {
				t.Errorf("finding = %+v, want error %q", f, tt.want)
			}
			if got := errors.Is(OpenError(tt.err), ErrBusy); got != tt.busy {
				t.Errorf("OpenError(%v) matches ErrBusy = %v, want %v", tt.err, got, tt.busy)
			}
		})
	}
}

func TestScanCancelled(t *testing.T) {
	silent := probetest.Silent(t)
	ctx, cancel := context.WithCancel(context.Background())
	o := Opts{Ports: []string{silent.Path}, Enumerate: noPorts, Open: fastOpen, Progress: func(Progress) { cancel() }}
	fs, err := Scan(ctx, o)
	if !errors.Is(err, context.Canceled) || len(fs) != 1 || fs[0].Error == "" {
		t.Errorf("Scan after cancel = %+v, %v, want the port not probed and context.Canceled", fs, err)
	}
}

func TestOptsRefusals(t *testing.T) {
	tests := []struct {
		name string
		o    Opts
	}{
		{"too many addresses", Opts{BusAddrs: 248}},
		{"negative addresses", Opts{BusAddrs: -1}},
		{"timeout too short", Opts{Timeout: time.Millisecond}},
		{"timeout too long", Opts{Timeout: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Enumerate = noPorts
			if _, err := Scan(context.Background(), tt.o); err == nil {
				t.Errorf("Scan(%+v) = nil error", tt.o)
			}
		})
	}
}

func TestListPorts(t *testing.T) {
	enum := func() ([]*enumerator.PortDetails, error) {
		return []*enumerator.PortDetails{
			{Name: "/dev/ttyUSB1", IsUSB: true, VID: "0665", PID: "5161"},
			{Name: "/dev/ttyS0"},
			{Name: "/dev/ttyUSB0", IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: "A9", Product: "USB Serial"},
		}, nil
	}
	ps, err := ListPorts(enum)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, port, usbID, config string
	}{
		{"plain", "/dev/ttyS0", "", "/dev/ttyS0"},
		{"usb with serial", "/dev/ttyUSB0", "1a86:7523:A9", "usb:1a86:7523:A9"},
		{"usb", "/dev/ttyUSB1", "0665:5161", "usb:0665:5161"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ps[i]
			if p.Name != tt.port || p.USBID() != tt.usbID || p.ConfigName() != tt.config {
				t.Errorf("port %d = %+v (%q, %q), want %s %q %q", i, p, p.USBID(), p.ConfigName(), tt.port, tt.usbID, tt.config)
			}
		})
	}
	if _, err := ListPorts(func() ([]*enumerator.PortDetails, error) { return nil, errors.New("no sysfs") }); err == nil {
		t.Error("ListPorts with a failing enumerator = nil error")
	}
}

func TestSnippetEmpty(t *testing.T) {
	if s := Snippet([]Finding{{Port: Port{Name: "/dev/ttyS0"}, Detail: "no known device answered"}}); s != "" {
		t.Errorf("Snippet(nothing found) = %q, want empty", s)
	}
}
