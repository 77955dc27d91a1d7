package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPowerValidate(t *testing.T) {
	f := false
	tests := []struct {
		name string
		p    Power
		want string // "" = valid; else a substring of the only error
	}{
		{"zero is valid (off)", Power{}, ""},
		{"defaults are valid", Power{}.WithDefaults(), ""},
		{"serial UPS", Power{UPS: UPSPort{Port: "/dev/ttyUSB1", Baud: 2400, Poll: Duration(500 * time.Millisecond)}}, ""},
		{"UPS by USB id", Power{UPS: UPSPort{Port: "usb:0665:5161"}}, ""},
		{"contacts only", Power{DryContact: DryContact{OnBattery: "GPIO17", LowBattery: "GPIO27", ActiveLow: &f}}, ""},
		{"everything", Power{UPS: UPSPort{Port: "/dev/ttyS0", BatteryNominal: 24}, DryContact: DryContact{OnBattery: "GPIO17"},
			MinRuntime: Duration(10 * time.Minute), ShutdownCommand: "/usr/bin/systemctl poweroff"}, ""},
		{"baud without port (no UPS)", Power{UPS: UPSPort{Baud: 2400}}, ""},
		{"odd baud", Power{UPS: UPSPort{Port: "/dev/ttyS0", Baud: 2401}}, "power.ups.baud: 2401"},
		{"bad usb id", Power{UPS: UPSPort{Port: "usb:0665"}}, "power.ups.port"},
		{"poll too slow", Power{UPS: UPSPort{Port: "/dev/ttyS0", Poll: Duration(2 * time.Second)}}, "power.ups.poll: 2s: want 100ms…1s"},
		{"poll too fast", Power{UPS: UPSPort{Port: "/dev/ttyS0", Poll: Duration(10 * time.Millisecond)}}, "power.ups.poll"},
		{"negative nominal", Power{UPS: UPSPort{Port: "/dev/ttyS0", BatteryNominal: -24}}, "power.ups.battery_nominal"},
		{"low battery without on battery", Power{DryContact: DryContact{LowBattery: "GPIO27"}}, "power.dry_contact.on_battery: required"},
		{"same pin twice", Power{DryContact: DryContact{OnBattery: "GPIO17", LowBattery: "GPIO17"}}, "power.dry_contact.low_battery"},
		{"pin with a space", Power{DryContact: DryContact{OnBattery: "GPIO 17"}}, "power.dry_contact.on_battery"},
		{"min runtime too short", Power{MinRuntime: Duration(time.Second)}, "power.min_runtime: 1s: want 30s…2h"},
		{"min runtime too long", Power{MinRuntime: Duration(3 * time.Hour)}, "power.min_runtime"},
		{"shell in the command", Power{ShutdownCommand: "systemctl poweroff; rm -rf /"}, "power.shutdown_command"},
		{"blank command", Power{ShutdownCommand: "   "}, "power.shutdown_command: blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check(%+v) = %v, want no error", tt.p, err)
			case tt.want != "" && (err == nil || len(err.(Errors)) != 1):
				t.Errorf("Check(%+v) = %v, want one error containing %q", tt.p, err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Check(%+v) = %q, want it to contain %q", tt.p, err.Error(), tt.want)
			}
		})
	}
}

func TestPowerDefaults(t *testing.T) {
	d := Power{}.WithDefaults()
	if d.UPS.Baud != 2400 || d.UPS.Poll.D() != 500*time.Millisecond || d.MinRuntime.D() != 5*time.Minute ||
		!d.DryContact.ContactsActiveLow() || d.ShutdownCommand != "systemctl poweroff" {
		t.Errorf("WithDefaults() = %+v, want 2400 baud, 500ms poll, 5m, active low, systemctl poweroff", d)
	}
	if got := (Power{ShutdownCommand: " /sbin/poweroff  -f "}).ShutdownArgv(); !slices.Equal(got, []string{"/sbin/poweroff", "-f"}) {
		t.Errorf("ShutdownArgv() = %q, want [/sbin/poweroff -f]", got)
	}
	if got := (Power{}).ShutdownArgv(); !slices.Equal(got, []string{"systemctl", "poweroff"}) {
		t.Errorf("ShutdownArgv() of the default = %q", got)
	}
	f := false
	kept := Power{UPS: UPSPort{Baud: 9600, Poll: Duration(time.Second)}, DryContact: DryContact{ActiveLow: &f}}.WithDefaults()
	if kept.UPS.Baud != 9600 || kept.UPS.Poll.D() != time.Second || kept.DryContact.ContactsActiveLow() {
		t.Errorf("WithDefaults() overwrote set fields: %+v", kept)
	}
	tests := []struct {
		name string
		p    Power
		want bool
	}{
		{"nothing", Power{}, false},
		{"defaults alone", Power{}.WithDefaults(), false},
		{"ups", Power{UPS: UPSPort{Port: "/dev/ttyS0"}}, true},
		{"contact", Power{DryContact: DryContact{OnBattery: "GPIO17"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Enabled(); got != tt.want {
				t.Errorf("Enabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPowerYAML decodes the section as the file loader does, field names
// and types included.
func TestPowerYAML(t *testing.T) {
	const doc = `
ups: {port: "usb:0665:5161", baud: 2400, poll: 500ms, battery_nominal: 24}
dry_contact: {on_battery: GPIO17, low_battery: GPIO27, active_low: false}
min_runtime: 8m
shutdown_command: /sbin/poweroff
`
	var p Power
	if _, err := parseYAML("power.yaml", []byte(doc), &p); err != nil {
		t.Fatalf("parse: %v", err)
	}
	f := false
	want := Power{UPS: UPSPort{Port: "usb:0665:5161", Baud: 2400, Poll: Duration(500 * time.Millisecond), BatteryNominal: 24},
		DryContact: DryContact{OnBattery: "GPIO17", LowBattery: "GPIO27", ActiveLow: &f},
		MinRuntime: Duration(8 * time.Minute), ShutdownCommand: "/sbin/poweroff"}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("decoded %+v, want %+v", p, want)
	}
	if err := p.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	if _, err := parseYAML("power.yaml", []byte("ups: {prot: /dev/ttyS0}\n"), &Power{}); err == nil ||
		!strings.Contains(err.Error(), `did you mean "port"`) {
		t.Errorf("misspelt key: error %v, want a suggestion of port", err)
	}
}

// TestPowerOf checks that PowerOf finds the section wherever the
// configuration carries it.
func TestPowerOf(t *testing.T) {
	if got := PowerOf(nil); got.Enabled() {
		t.Errorf("PowerOf(nil) = %+v, want off", got)
	}
	c := &Config{}
	want := Power{UPS: UPSPort{Port: "/dev/ttyS0"}}
	if f := reflect.ValueOf(c).Elem().FieldByName("Power"); f.IsValid() {
		f.Set(reflect.ValueOf(want))
	} else {
		want = Power{}
	}
	if got := PowerOf(c); !reflect.DeepEqual(got, want) {
		t.Errorf("PowerOf() = %+v, want %+v", got, want)
	}
}
