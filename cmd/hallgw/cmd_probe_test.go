package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/ups/upssim"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/firmware/probe"
	"hallgw/firmware/probe/probetest"
)

// runCmd runs one hallgw command line in-process.
func runInProc(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

func TestProbeCommand(t *testing.T) {
	printer, _ := probetest.Printer(t, 38400, escpossim.Opts{})
	ups, _ := probetest.UPS(t, upssim.Config{})
	card, _ := probetest.IDCard(t, 115200)
	bus, _ := probetest.Bus(t, 9600, bussim.Opts{Protocol: "modbus", Terminals: []windowbus.Addr{1, 2}})
	ports := strings.Join([]string{printer.Path, ups.Path, card.Path, bus.Path}, ",")

	code, out, errs := runInProc(t, "probe", "--ports", ports, "--json", "--bus-addrs", "2", "--timeout", "300ms")
	if code != 0 {
		t.Fatalf("probe --json exit %d: %s", code, errs)
	}
	var res struct {
		Ports   []probe.Finding `json:"ports"`
		Snippet string          `json:"snippet"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	want := []struct {
		device string
		baud   int
	}{{probe.DevicePrinter, 38400}, {probe.DeviceUPS, 2400}, {probe.DeviceIDCard, 115200}, {probe.DeviceBus, 9600}}
	if len(res.Ports) != len(want) {
		t.Fatalf("%d findings, want %d", len(res.Ports), len(want))
	}
	for i, w := range want {
		if f := res.Ports[i]; f.Device != w.device || f.Baud != w.baud {
			t.Errorf("port %d = %s at %d baud, want %s at %d", i, f.Device, f.Baud, w.device, w.baud)
		}
	}
	if !strings.Contains(res.Snippet, "kiosks:") || !strings.Contains(res.Snippet, "power:") {
		t.Errorf("snippet = %q", res.Snippet)
	}
	if !strings.Contains(errs, "probing") {
		t.Errorf("no progress line on stderr: %q", errs)
	}

	// The table.
	code, out, _ = runInProc(t, "probe", "--ports", printer.Path+","+ups.Path, "--bus-addrs", "1", "--timeout", "300ms")
	if code != 0 {
		t.Fatalf("probe exit %d", code)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "PORT") || !strings.Contains(lines[0], "USB ID") || !strings.Contains(lines[0], "DETAIL") {
		t.Errorf("header = %q", lines[0])
	}
	for _, want := range []string{"printer", "escpos", "38400", "ups", "megatec-q1", "2400", "# Configuration", "devices:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestProbeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"extra argument", []string{"probe", "now"}},
		{"addresses", []string{"probe", "--bus-addrs", "0"}},
		{"timeout", []string{"probe", "--timeout", "1ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := runInProc(t, tt.args...); code != 2 {
				t.Errorf("hallgw %s = exit %d, want 2", strings.Join(tt.args, " "), code)
			}
		})
	}
}
