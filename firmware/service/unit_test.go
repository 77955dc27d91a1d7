package service

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/testkit"
)

func TestUnitDefault(t *testing.T) {
	unit, err := Unit(DefaultUnitOpts)
	if err != nil {
		t.Fatalf("Unit: %v", err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(unit), "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		"Type=notify",
		"WatchdogSec=30s",
		"Restart=always",
		"StartLimitIntervalSec=0",
		"ExecStartPre=/var/lib/hallgw/boot/hallgw slot select --root /",
		"ExecStart=/var/lib/hallgw/current/hallgw run --config /etc/hallgw/hallgw.yaml",
		"ProtectSystem=strict",
		"ReadWritePaths=/var/lib/hallgw -/etc/hallgw/keys",
		"DevicePolicy=closed",
		"DeviceAllow=char-ttyUSB rw",
		"DeviceAllow=char-gpiochip rw",
		"DeviceAllow=/dev/gpiomem rw",
		"WantedBy=multi-user.target",
	} {
		if !lines[want] {
			t.Errorf("unit lacks line %q", want)
		}
	}
	// Nothing may hide the devices the drivers open.
	for _, bad := range []string{"PrivateDevices=yes", "ProtectKernelTunables=yes", "DynamicUser=yes"} {
		if lines[bad] {
			t.Errorf("unit has %q, which would cut off serial or GPIO access", bad)
		}
	}
}

func TestUnitRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*UnitOpts)
	}{
		{name: "relative binary", edit: func(o *UnitOpts) { o.Binary = "hallgw" }},
		{name: "space in config", edit: func(o *UnitOpts) { o.Config = "/etc/hall gw.yaml" }},
		{name: "specifier in root", edit: func(o *UnitOpts) { o.Root = "/%h" }},
		{name: "watchdog too short", edit: func(o *UnitOpts) { o.WatchdogSec = time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultUnitOpts
			tt.edit(&o)
			if _, err := Unit(o); err == nil {
				t.Errorf("Unit(%+v) = nil error, want refusal", o)
			}
		})
	}
}

// TestUnitVerifies runs systemd-analyze verify on the rendered unit, with
// the binaries pointed at an executable that exists here.
func TestUnitVerifies(t *testing.T) {
	analyze := testkit.Tool(t, "systemd-analyze")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultUnitOpts
	o.Binary, o.BootBinary = exe, exe
	unit, err := Unit(o)
	if err != nil {
		t.Fatalf("Unit: %v", err)
	}
	p := filepath.Join(t.TempDir(), UnitName)
	if err := os.WriteFile(p, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(analyze, "verify", p)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), UnitName) {
		t.Errorf("systemd-analyze verify complained:\n%s", out.String())
	}
}
