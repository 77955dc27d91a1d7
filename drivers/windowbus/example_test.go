package windowbus_test

import (
	"context"
	"fmt"
	"log"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/firmware/serialport"
)

// Example runs a Modbus window bus with two window terminals and a hall
// display: each call press is answered on the window's bar and the hall
// display. The daemon journals the press before answering.
func Example() {
	port, err := serialport.Open("/dev/ttyUSB0", serialport.Mode{Baud: 9600})
	if err != nil {
		log.Fatal(err)
	}
	defer port.Close()
	m, err := windowbus.New(port, modbusrtu.Protocol{}, &windowbus.Opts{
		Baud:      9600,
		Terminals: []windowbus.Terminal{{Addr: 1, Window: 1}, {Addr: 2, Window: 2}},
		Displays:  []windowbus.Addr{201},
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for p := range m.Presses() {
			if p.Key != windowbus.KeyCall {
				continue
			}
			text := fmt.Sprintf("A012 请到%d号窗口", p.Window)
			m.ShowNow(p.Addr, text)
			m.ShowNow(201, text)
		}
	}()
	if err := m.Run(context.Background()); err != nil {
		log.Print(err) // windowbus.ErrDisconnected: reopen the port, start again
	}
}
