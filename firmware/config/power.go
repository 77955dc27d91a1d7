package config

import (
	"strings"
	"time"
	"unicode"
)

// Power configures how the gateway watches its UPS and acts on a power
// failure (docs/power.md): a Megatec Q1 UPS on a serial port, the UPS's
// dry contacts on two GPIO inputs, or both. Without either the section is
// off. DB43/T 2422 part 1 §6.1.1 asks for a UPS that carries the hall for
// at least 4 hours; `hallgw test ups` checks it.
type Power struct {
	UPS        UPSPort    `yaml:"ups"`
	DryContact DryContact `yaml:"dry_contact"`
	// MinRuntime: below this estimated runtime on battery the gateway stops
	// issuing tickets and shuts down while it still can (default 5m).
	MinRuntime Duration `yaml:"min_runtime"`
	// ShutdownCommand shuts the gateway down cleanly; it is split at spaces
	// and run without a shell (default "systemctl poweroff").
	ShutdownCommand string `yaml:"shutdown_command"`
}

// UPSPort is the UPS's serial line.
type UPSPort struct {
	// Port is a path or usb:VID:PID[:SERIAL]; empty means no serial UPS.
	Port string `yaml:"port"`
	Baud int    `yaml:"baud"` // default 2400
	// Poll is the status poll interval, 100ms–1s (default 500ms): an
	// outage must reach the platform within a second, and a Q1 exchange
	// takes a quarter of one at 2400 baud.
	Poll Duration `yaml:"poll"`
	// BatteryNominal is the battery's nominal voltage (24 for a 24 V
	// pack); 0 takes it from the UPS's F reply when it answers one.
	BatteryNominal float64 `yaml:"battery_nominal"`
}

// DryContact names the GPIO inputs wired to the UPS's relay outputs.
type DryContact struct {
	// OnBattery and LowBattery are periph pin names ("GPIO17", "P1_11");
	// empty OnBattery means no contacts, LowBattery may be left out.
	OnBattery  string `yaml:"on_battery"`
	LowBattery string `yaml:"low_battery"`
	// ActiveLow says a closed contact reads Low (a relay to ground with
	// the pull-up on), the usual wiring; default true.
	ActiveLow *bool `yaml:"active_low"`
}

// Power defaults and bounds.
const (
	DefaultUPSBaud         = 2400
	DefaultUPSPoll         = 500 * time.Millisecond
	MinUPSPoll             = 100 * time.Millisecond
	MaxUPSPoll             = time.Second
	DefaultMinRuntime      = 5 * time.Minute
	DefaultShutdownCommand = "systemctl poweroff"
)

// Enabled reports whether a UPS or its contacts are configured.
func (p Power) Enabled() bool { return p.UPS.Port != "" || p.DryContact.OnBattery != "" }

// WithDefaults returns p with every unset field at its default.
func (p Power) WithDefaults() Power {
	if p.UPS.Baud == 0 {
		p.UPS.Baud = DefaultUPSBaud
	}
	if p.UPS.Poll == 0 {
		p.UPS.Poll = Duration(DefaultUPSPoll)
	}
	if p.DryContact.ActiveLow == nil {
		t := true
		p.DryContact.ActiveLow = &t
	}
	if p.MinRuntime == 0 {
		p.MinRuntime = Duration(DefaultMinRuntime)
	}
	if strings.TrimSpace(p.ShutdownCommand) == "" {
		p.ShutdownCommand = DefaultShutdownCommand
	}
	return p
}

// ContactsActiveLow reports the contacts' active level, true when unset.
func (d DryContact) ContactsActiveLow() bool { return d.ActiveLow == nil || *d.ActiveLow }

// ShutdownArgv returns the shutdown command split at white space.
func (p Power) ShutdownArgv() []string {
	return strings.Fields(p.WithDefaults().ShutdownCommand)
}

// Check validates the section on its own, as the whole file's validation
// does, and returns Errors (paths under "power.") or nil.
func (p Power) Check() error {
	v := &validator{}
	p.validate(v)
	if len(v.errs) == 0 {
		return nil
	}
	return Errors(v.errs)
}

// validate checks the power section.
func (p *Power) validate(v *validator) {
	if p.UPS.Port != "" {
		checkPort(v, "power.ups", Port{Port: p.UPS.Port, Baud: p.UPS.Baud})
	}
	if d := p.UPS.Poll.D(); d != 0 && (d < MinUPSPoll || d > MaxUPSPoll) {
		v.errf("power.ups.poll", "%s: want 100ms…1s (an outage must be reported within a second)", d)
	}
	if n := p.UPS.BatteryNominal; n < 0 || n > 480 {
		v.errf("power.ups.battery_nominal", "%g: want the pack's nominal volts, 0…480 (0: from the UPS)", n)
	}
	dc := p.DryContact
	for _, f := range []struct{ path, pin string }{
		{"power.dry_contact.on_battery", dc.OnBattery}, {"power.dry_contact.low_battery", dc.LowBattery},
	} {
		if f.pin != "" && strings.IndexFunc(f.pin, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			v.errf(f.path, "%q: want a GPIO pin name such as GPIO17", f.pin)
		}
	}
	switch {
	case dc.LowBattery != "" && dc.OnBattery == "":
		v.errf("power.dry_contact.on_battery", "required when low_battery is set")
	case dc.LowBattery != "" && dc.LowBattery == dc.OnBattery:
		v.errf("power.dry_contact.low_battery", "%q: the same pin as on_battery", dc.LowBattery)
	}
	if r := p.MinRuntime.D(); r < 0 || r > 2*time.Hour || (r != 0 && r < 30*time.Second) {
		v.errf("power.min_runtime", "%s: want 30s…2h", p.MinRuntime)
	}
	if cmd := p.ShutdownCommand; cmd != "" {
		argv := strings.Fields(cmd)
		switch {
		case len(argv) == 0:
			v.errf("power.shutdown_command", "blank: leave it out for %q", DefaultShutdownCommand)
		case strings.ContainsAny(cmd, "|&;<>$`\"'\\"):
			v.errf("power.shutdown_command", "%q: run without a shell, so no quotes, pipes or variables", cmd)
		}
	}
}

// PowerOf returns the power section of c; the zero Power (power handling
// off) when c has none.
func PowerOf(c *Config) Power {
	if c == nil {
		return Power{}
	}
	return c.Power
}
