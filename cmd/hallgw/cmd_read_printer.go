package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/firmware/serialport"
)

func init() {
	register(&command{
		name:    "read printer",
		summary: "read a ticket printer's status (DLE EOT 1-4) and print it as JSON",
		run:     runReadPrinter,
	})
}

func runReadPrinter(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "read printer")
	port := fs.String("port", "", "serial port: a path such as /dev/ttyUSB0, or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 9600, "line speed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *port == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: want --port P [--baud N]", errUsage)
	}
	p, closePort, err := openTicketPrinter(*port, *baud, escpos.Width80)
	if err != nil {
		return err
	}
	defer closePort()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := p.Status(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(s)
}

// openTicketPrinter opens a port and puts an escpos.Printer on it; the returned
// function closes the port.
func openTicketPrinter(name string, baud int, w escpos.Width) (*escpos.Printer, func(), error) {
	if baud < 300 {
		return nil, nil, fmt.Errorf("%w: --baud %d", errUsage, baud)
	}
	port, err := serialport.Open(name, serialport.Mode{Baud: baud})
	if err != nil {
		return nil, nil, err
	}
	p, err := escpos.New(port, &escpos.Opts{Width: w, Baud: baud})
	if err != nil {
		port.Close()
		return nil, nil, err
	}
	return p, func() { port.Close() }, nil
}
