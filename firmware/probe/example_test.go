package probe_test

import (
	"fmt"

	"hallgw/firmware/probe"
)

func ExampleSnippet() {
	fs := []probe.Finding{
		{Port: probe.Port{Name: "/dev/ttyUSB0", USB: true, VID: "1a86", PID: "7523", Serial: "A1"},
			Device: probe.DevicePrinter, Protocol: probe.ProtoESCPOS, Baud: 9600},
		{Port: probe.Port{Name: "/dev/ttyUSB1", USB: true, VID: "0665", PID: "5161"},
			Device: probe.DeviceUPS, Protocol: probe.ProtoQ1, Baud: 2400},
		{Port: probe.Port{Name: "/dev/ttyS1"}, Device: probe.DeviceBus, Protocol: probe.ProtoModbus, Baud: 9600, Address: 1},
	}
	fmt.Print(probe.Snippet(fs))
	// Output:
	// devices:
	//   kiosks:
	//     - id: kiosk-1
	//       printer: {port: "usb:1a86:7523:A1", baud: 9600}
	//       paper_width: 80
	//   buses:
	//     - id: bus-1
	//       port: /dev/ttyS1
	//       baud: 9600
	//       protocol: modbus
	//       terminals:   # one line per terminal: its address and its window
	//         - {address: 1, window: "1"}
	// power:
	//   ups: {port: "usb:0665:5161", baud: 2400}
}
