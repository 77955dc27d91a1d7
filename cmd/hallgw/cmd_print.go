package main

import (
	"context"
	"fmt"
	"time"

	"hallgw/drivers/escpos"
)

func init() {
	register(&command{
		name:    "print",
		summary: "print a sample ticket on a ticket printer (installer check)",
		run:     runPrintTicket,
	})
}

func runPrintTicket(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "print")
	port := fs.String("port", "", "serial port: a path such as /dev/ttyUSB0, or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 9600, "line speed")
	width := fs.Int("width", 80, "paper width in mm: 58 or 80")
	sample := fs.Bool("sample", false, "print the sample ticket")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *port == "" || fs.NArg() > 0:
		return fmt.Errorf("%w: want --port P --sample [--baud N] [--width 58|80]", errUsage)
	case !*sample:
		return fmt.Errorf("%w: nothing to print: use --sample", errUsage)
	case *width != 58 && *width != 80:
		return fmt.Errorf("%w: --width %d: want 58 or 80", errUsage, *width)
	}
	p, closePort, err := openTicketPrinter(*port, *baud, escpos.Width(*width))
	if err != nil {
		return err
	}
	defer closePort()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := escpos.SampleTicket(time.Now())
	if err := p.PrintTicket(ctx, t); err != nil {
		return err
	}
	s, _ := p.LastStatus()
	fmt.Fprintf(e.stdout, "printed sample ticket %s on %s; printer %s\n", t.Number, *port, s)
	return nil
}
