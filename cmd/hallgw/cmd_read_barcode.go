package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hallgw/drivers/barcode"
	"hallgw/firmware/serialport"
)

func init() {
	register(&command{
		name:    "read barcode",
		summary: "print what a serial barcode/QR scanner scans, classified, as JSON lines",
		run:     runReadBarcode,
	})
}

func runReadBarcode(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "read barcode")
	port := fs.String("port", "", "serial port of the scanner: a path or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 9600, "line speed")
	suffix := fs.String("suffix", "auto", "what ends each scan: auto (CR, LF or CRLF), cr, lf, crlf or tab")
	prefix := fs.String("prefix", "", "prefix the scanner sends, stripped")
	aim := fs.Bool("aim", false, "the scanner sends an AIM symbology identifier (]Q1) first")
	casePattern := fs.String("case-pattern", barcode.DefaultCasePattern, "regular expression a whole case number matches")
	count := fs.Int("count", 1, "scans to print before exiting (0: until interrupted)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sfx, err := barcode.ParseSuffix(*suffix)
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *port == "":
		return fmt.Errorf("%w: --port is required", errUsage)
	case err != nil:
		return fmt.Errorf("%w: --suffix: %v", errUsage, err)
	case *baud <= 0 || *count < 0:
		return fmt.Errorf("%w: --baud must be positive and --count not negative", errUsage)
	}
	cl, err := barcode.NewClassifier(*casePattern)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	p, err := serialport.Open(*port, serialport.Mode{Baud: *baud})
	if err != nil {
		return err
	}
	defer p.Close()
	sc, err := barcode.New(p, &barcode.Opts{Suffix: sfx, Prefix: *prefix, AIM: *aim})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for n := 0; *count == 0 || n < *count; {
		s, err := sc.Next(ctx)
		var le *barcode.LineError
		switch {
		case errors.As(err, &le):
			fmt.Fprintf(e.stderr, "rejected: %v\n", err)
			continue
		case errors.Is(err, context.Canceled):
			return nil
		case err != nil:
			return err
		}
		code, err := cl.Parse(s.Data)
		if err != nil {
			fmt.Fprintf(e.stderr, "%v\n", err)
		}
		if err := enc.Encode(struct {
			barcode.Code
			Symbology string `json:"symbology,omitempty"`
		}{code, s.Symbology}); err != nil {
			return err
		}
		n++
	}
	return nil
}
