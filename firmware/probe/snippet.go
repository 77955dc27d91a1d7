package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// Snippet returns the configuration an installer can paste for the devices
// found: kiosks with their printers and the window buses under devices, the
// UPS under power, and the card readers as comments (each is tied to a
// window or a kiosk, which only the installer knows). Ports are named by USB
// identity when they have one. "" when nothing was found.
func Snippet(fs []Finding) string {
	var kiosks, buses, pow, notes strings.Builder
	for _, f := range fs {
		name := quote(f.ConfigName())
		switch f.Device {
		case DevicePrinter:
			fmt.Fprintf(&kiosks, "    - id: kiosk-%d\n      printer: {port: %s, baud: %d}\n      paper_width: 80\n",
				strings.Count(kiosks.String(), "- id:")+1, name, f.Baud)
		case DeviceBus:
			fmt.Fprintf(&buses, "    - id: bus-%d\n      port: %s\n      baud: %d\n      protocol: %s\n",
				strings.Count(buses.String(), "- id:")+1, name, f.Baud, f.Protocol)
			fmt.Fprintf(&buses, "      terminals:   # one line per terminal: its address and its window\n")
			fmt.Fprintf(&buses, "        - {address: %d, window: \"%d\"}\n", f.Address, f.Address)
		case DeviceUPS:
			if pow.Len() == 0 {
				fmt.Fprintf(&pow, "power:\n  ups: {port: %s, baud: %d}\n", name, f.Baud)
			} else {
				fmt.Fprintf(&notes, "# another UPS answers on %s: only one is watched\n", name)
			}
		case DeviceIDCard:
			fmt.Fprintf(&notes, "# ID-card reader on %s at %d baud: give it to its window or kiosk\n", name, f.Baud)
		}
	}
	var out strings.Builder
	if kiosks.Len()+buses.Len() > 0 {
		out.WriteString("devices:\n")
		if kiosks.Len() > 0 {
			out.WriteString("  kiosks:\n" + kiosks.String())
		}
		if buses.Len() > 0 {
			out.WriteString("  buses:\n" + buses.String())
		}
	}
	out.WriteString(pow.String())
	out.WriteString(notes.String())
	return out.String()
}

// quote writes a port name as a YAML scalar.
func quote(s string) string {
	if strings.ContainsAny(s, ": #{}[],&*!|>'\"%@`") || s == "" {
		return strconv.Quote(s)
	}
	return s
}
