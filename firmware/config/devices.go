package config

import "strings"

// Devices lists the hardware the gateway drives. Every serial port is named
// by path (/dev/ttyUSB0) or by USB identity (usb:VID:PID or
// usb:VID:PID:SERIAL), which survives replugging into another socket.
type Devices struct {
	Kiosks        []Kiosk        `yaml:"kiosks"`
	Buses         []Bus          `yaml:"buses"`
	WindowReaders []WindowReader `yaml:"window_readers"`
	Scanners      []Scanner      `yaml:"scanners"`
}

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
	}
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
		}
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
