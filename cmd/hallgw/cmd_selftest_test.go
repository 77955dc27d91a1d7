package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/ups/upssim"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/firmware/journal"
	"hallgw/firmware/probe/probetest"
	"hallgw/firmware/selftest"
)

// selftestConfig writes a configuration naming a printer and a Modbus bus.
func selftestConfig(t *testing.T, dataDir, printer, bus string) string {
	t.Helper()
	y := fmt.Sprintf(`gateway:
  id: gw-cmd-selftest
  hall_id: hn-test
  data_dir: %s
devices:
  kiosks:
    - {id: kiosk-1, printer: {port: %s, baud: 9600}}
  buses:
    - {id: bus-1, port: %s, baud: 19200, terminals: [{address: 4, window: "4"}]}
`, dataDir, printer, bus)
	path := filepath.Join(t.TempDir(), "hallgw.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSelftestCommand(t *testing.T) {
	printer, psim := probetest.Printer(t, 9600, escpossim.Opts{})
	bus, _ := probetest.Bus(t, 19200, bussim.Opts{Protocol: "modbus", Terminals: []windowbus.Addr{4}})
	ups, _ := probetest.UPS(t, upssim.Config{})
	card, _ := probetest.IDCard(t, 115200)
	dataDir := t.TempDir()
	cfg := selftestConfig(t, dataDir, printer.Path, bus.Path)
	wavs := t.TempDir()
	base := []string{"selftest", "--config", cfg, "--ups", ups.Path, "--reader", card.Path, "--card-wait", "0",
		"--bar-hold", "100ms", "--voice-dir", wavs}

	code, out, errs := runInProc(t, base...)
	if code != 0 {
		t.Fatalf("selftest exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"DEVICE", "kiosk-1/printer", "bus-1/t04", "voice", "ups", "reader " + card.Path, "PASS", "all 5 devices passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a device failed:\n%s", out)
	}

	// JSON, with the printer out of paper: exit 1.
	psim.SetPaper(escpossim.PaperEnd)
	code, out, errs = runInProc(t, append(base, "--json", "--no-voice")...)
	if code != 1 || !strings.Contains(errs, "1 of 4 devices failed") {
		t.Fatalf("selftest with no paper: exit %d, stderr %q", code, errs)
	}
	var rep selftest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Pass || rep.Checks[0].Pass || !strings.Contains(rep.Checks[0].Error, "paper") {
		t.Errorf("report = %+v, want the printer failed for paper", rep)
	}

	// The daemon holds the journal: nothing is opened.
	j, err := journal.Open(journal.Options{Path: filepath.Join(dataDir, "journal.db"), GatewayID: "gw-cmd-selftest"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	code, _, errs = runInProc(t, base...)
	if code != 1 || !strings.Contains(errs, "daemon is running") {
		t.Errorf("selftest while the daemon runs: exit %d, stderr %q", code, errs)
	}
}

func TestSelftestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"extra argument", []string{"selftest", "now"}, 2},
		{"card wait", []string{"selftest", "--card-wait", "-1s"}, 2},
		{"missing file", []string{"selftest", "--config", filepath.Join(t.TempDir(), "none.yaml")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := runInProc(t, tt.args...); code != tt.code {
				t.Errorf("hallgw %s = exit %d, want %d", strings.Join(tt.args, " "), code, tt.code)
			}
		})
	}
}
