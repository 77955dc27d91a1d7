package config

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Devices lists the hardware the gateway drives. Every serial port is named
// by path (/dev/ttyUSB0) or by USB identity (usb:VID:PID or
// usb:VID:PID:SERIAL), which survives replugging into another socket.
type Devices struct {
	Kiosks        []Kiosk        `yaml:"kiosks"`
	Buses         []Bus          `yaml:"buses"`
	WindowReaders []WindowReader `yaml:"window_readers"`
	Scanners      []Scanner      `yaml:"scanners"`
	// CallButtons are call buttons wired to the gateway's GPIO pins: a
	// window without a bus keypad, or a foot switch.
	CallButtons []CallButton `yaml:"call_buttons"`
	// PauseReasons are the reasons the pause key gives: a number n typed
	// before the key picks the n-th (1 first), no number the first. Empty
	// means DefaultPauseReasons.
	PauseReasons []string `yaml:"pause_reasons"`
	// Voice is the calling voice on the hall's loudspeakers.
	Voice Voice `yaml:"voice"`
}

// DefaultPauseReasons are the pause reasons when none are configured.
var DefaultPauseReasons = []string{"临时离开", "午休", "业务学习", "设备故障"}

// PauseReasonList returns the configured pause reasons, or
// DefaultPauseReasons.
func (d *Devices) PauseReasonList() []string {
	if len(d.PauseReasons) == 0 {
		return DefaultPauseReasons
	}
	return d.PauseReasons
}

// Voice configures the call announcements (drivers/voice).
type Voice struct {
	Enabled bool `yaml:"enabled"`
	// Output is alsa (play through aplay on Device, the default), files
	// (write each announcement as a WAV file into Dir) or none (compose
	// and count, play nothing).
	Output string `yaml:"output"`
	// Device is the ALSA device; empty means "default".
	Device string `yaml:"device"`
	// Dir receives the WAV files of output files; empty means voice/ in
	// the data directory.
	Dir string `yaml:"dir"`
	// Clips is a directory of recorded clips with their manifest.txt;
	// empty means the built-in set.
	Clips string `yaml:"clips"`
	// Repeat is how many times each call is said, 1–5; 0 means 2.
	Repeat int `yaml:"repeat"`
}

// Voice outputs.
const (
	VoiceALSA  = "alsa"
	VoiceFiles = "files"
	VoiceNone  = "none"
)

// OutputOrDefault returns the output, VoiceALSA when unset.
func (v Voice) OutputOrDefault() string {
	if v.Output == "" {
		return VoiceALSA
	}
	return v.Output
}

// RepeatOrDefault returns the repeat count, 2 when unset.
func (v Voice) RepeatOrDefault() int {
	if v.Repeat == 0 {
		return 2
	}
	return v.Repeat
}

// CallButton is a push button on a GPIO pin that acts as a key of a
// window's keypad.
type CallButton struct {
	Pin    string `yaml:"pin"`    // "GPIO17", "P1_11", …
	Window string `yaml:"window"` // the window it belongs to
	// Key is the keypad key it stands for: call (default), recall, skip,
	// hold, pause, resume or finish.
	Key string `yaml:"key"`
	// LongKey, when set, is the key a press held for 0.8 s stands for
	// (for example recall on a long press of call).
	LongKey string `yaml:"long_key"`
	// ActiveHigh: the button closes to the supply (pull-down) instead of
	// to ground (pull-up).
	ActiveHigh bool `yaml:"active_high"`
}

// KioskButton is a push button on a GPIO pin that takes a ticket for a
// service, for small halls whose kiosk has no touch screen.
type KioskButton struct {
	Pin     string `yaml:"pin"`
	Service string `yaml:"service"`
}

// ButtonKeys are the keypad keys a call button may stand for.
var ButtonKeys = []string{"call", "recall", "skip", "hold", "pause", "resume", "finish"}

var pinPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// Port is a serial port and its line speed.
type Port struct {
	Port string `yaml:"port"`
	Baud int    `yaml:"baud"`
}

// Kiosk is a ticket machine (取号机): a printer and, optionally, an ID-card
// reader and a barcode scanner.
type Kiosk struct {
	ID      string `yaml:"id"`
	Printer *Port  `yaml:"printer,omitempty"`
	// PaperWidth is 58 or 80 (mm).
	PaperWidth int `yaml:"paper_width"`
	// IDCard is the kiosk's second-generation ID-card reader
	// (docs/idcard.md): green channel by age, appointment check-in.
	IDCard *Port `yaml:"idcard,omitempty"`
	// Barcode is the kiosk's QR / barcode scanner: appointment QR check-in.
	Barcode *Port `yaml:"barcode,omitempty"`
	// Buttons are GPIO push buttons that each take a ticket for a service.
	Buttons []KioskButton `yaml:"buttons"`
}

// Bus is one RS-485 window bus (docs/window-bus.md).
type Bus struct {
	ID        string     `yaml:"id"`
	Port      string     `yaml:"port"`
	Baud      int        `yaml:"baud"`
	Protocol  string     `yaml:"protocol"` // modbus (default) or vendor
	Terminals []Terminal `yaml:"terminals"`
	Displays  []Display  `yaml:"displays"`
}

// Terminal is a window terminal (keypad + LED bar) at a bus address.
type Terminal struct {
	Address int    `yaml:"address"`
	Window  string `yaml:"window"`
}

// Display is a hall display (综合屏) on the bus.
type Display struct {
	Address int    `yaml:"address"`
	Name    string `yaml:"name"`
	// Lines is how many of the latest calls it shows, 1–16; 0 means 4.
	Lines int `yaml:"lines"`
}

// kioskCardReaders reports whether a kiosk has an ID-card reader.
func (d *Devices) kioskCardReaders() bool {
	for _, k := range d.Kiosks {
		if k.IDCard != nil {
			return true
		}
	}
	return false
}

func (d *Devices) validate(v *validator, c *Config) {
	windows := map[string]bool{}
	for _, w := range c.Windows {
		windows[w.ID] = true
	}
	services := map[string]bool{}
	for _, s := range c.Services {
		services[s.ID] = true
	}
	pins := map[string]string{}
	for i, k := range d.Kiosks {
		p := "devices.kiosks[" + itoa(i) + "]"
		v.checkID(p+".id", k.ID)
		if k.Printer != nil {
			checkPort(v, p+".printer", *k.Printer)
		}
		if k.IDCard != nil {
			checkPort(v, p+".idcard", *k.IDCard)
		}
		if k.Barcode != nil {
			checkPort(v, p+".barcode", *k.Barcode)
		}
		if k.PaperWidth != 0 && k.PaperWidth != 58 && k.PaperWidth != 80 {
			v.errf(p+".paper_width", "%d: want 58 or 80", k.PaperWidth)
		}
		for j, b := range k.Buttons {
			bp := p + ".buttons[" + itoa(j) + "]"
			checkPin(v, bp+".pin", b.Pin, pins)
			if !services[b.Service] {
				v.errf(bp+".service", "unknown service %q", b.Service)
			}
		}
	}
	for i, b := range d.CallButtons {
		p := "devices.call_buttons[" + itoa(i) + "]"
		checkPin(v, p+".pin", b.Pin, pins)
		if !windows[b.Window] {
			v.errf(p+".window", "unknown window %q", b.Window)
		}
		if b.Key != "" && !isButtonKey(b.Key) {
			v.errf(p+".key", "%q: want one of %s", b.Key, strings.Join(ButtonKeys, ", "))
		}
		if b.LongKey != "" && !isButtonKey(b.LongKey) {
			v.errf(p+".long_key", "%q: want one of %s", b.LongKey, strings.Join(ButtonKeys, ", "))
		}
	}
	if len(d.PauseReasons) > 99 {
		v.errf("devices.pause_reasons", "%d reasons: a keypad number picks one, at most 99", len(d.PauseReasons))
	}
	for i, r := range d.PauseReasons {
		p := "devices.pause_reasons[" + itoa(i) + "]"
		switch {
		case strings.TrimSpace(r) == "":
			v.errf(p, "empty")
		case utf8.RuneCountInString(r) > 16:
			v.errf(p, "%q: at most 16 characters (it is shown on the window's LED bar)", r)
		case strings.ContainsFunc(r, func(c rune) bool { return c < 0x20 || c == 0x7F }):
			v.errf(p, "%q: control characters", r)
		}
	}
	d.Voice.validate(v)
	for i, b := range d.Buses {
		p := "devices.buses[" + itoa(i) + "]"
		v.checkID(p+".id", b.ID)
		checkPort(v, p, Port{Port: b.Port, Baud: b.Baud})
		switch b.Protocol {
		case "", "modbus", "vendor":
		default:
			v.errf(p+".protocol", "%q: want modbus or vendor", b.Protocol)
		}
		addrs := map[int]string{}
		for j, t := range b.Terminals {
			tp := p + ".terminals[" + itoa(j) + "]"
			checkBusAddr(v, tp+".address", t.Address, addrs, "terminal")
			if !windows[t.Window] {
				v.errf(tp+".window", "unknown window %q", t.Window)
			}
		}
		for j, dsp := range b.Displays {
			checkBusAddr(v, p+".displays["+itoa(j)+"].address", dsp.Address, addrs, "display")
			if dsp.Lines < 0 || dsp.Lines > 16 {
				v.errf(p+".displays["+itoa(j)+"].lines", "%d: want 1…16", dsp.Lines)
			}
		}
	}
}

func (vc Voice) validate(v *validator) {
	switch vc.Output {
	case "", VoiceALSA, VoiceFiles, VoiceNone:
	default:
		v.errf("devices.voice.output", "%q: want alsa, files or none", vc.Output)
	}
	if vc.Repeat < 0 || vc.Repeat > 5 {
		v.errf("devices.voice.repeat", "%d: want 1…5", vc.Repeat)
	}
	if strings.HasPrefix(vc.Device, "-") || strings.ContainsAny(vc.Device, " \t\n") {
		v.errf("devices.voice.device", "%q: not an ALSA device name", vc.Device)
	}
}

func isButtonKey(k string) bool {
	for _, b := range ButtonKeys {
		if b == k {
			return true
		}
	}
	return false
}

// checkPin checks a GPIO pin name; seen maps pins already used to their
// path, since a pin can serve one button only.
func checkPin(v *validator, path, pin string, seen map[string]string) {
	switch {
	case pin == "":
		v.errf(path, "required (a GPIO pin name such as GPIO17)")
	case !pinPattern.MatchString(pin):
		v.errf(path, "%q: not a GPIO pin name (GPIO17, P1_11)", pin)
	case seen[pin] != "":
		v.errf(path, "%q: already used by %s", pin, seen[pin])
	default:
		seen[pin] = path
	}
}

func checkBusAddr(v *validator, path string, a int, seen map[int]string, what string) {
	if a < 1 || a > 247 {
		v.errf(path, "%d: a bus address is 1…247", a)
		return
	}
	if other, dup := seen[a]; dup {
		v.errf(path, "%d: already used by a %s on this bus", a, other)
		return
	}
	seen[a] = what
}

func checkPort(v *validator, path string, p Port) {
	if p.Port == "" {
		v.errf(path+".port", "required (a path such as /dev/ttyUSB0, or usb:VID:PID)")
	} else if strings.HasPrefix(p.Port, "usb:") && strings.Count(p.Port, ":") < 2 {
		v.errf(path+".port", "%q: want usb:VID:PID or usb:VID:PID:SERIAL", p.Port)
	}
	switch p.Baud {
	case 0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200:
	default:
		v.errf(path+".baud", "%d: not a standard rate (2400, 9600, 19200, 38400, 57600, 115200)", p.Baud)
	}
}
