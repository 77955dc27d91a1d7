package main

import (
	"context"
	"fmt"

	"hallgw/drivers/barcode"
	"hallgw/drivers/barcode/barcodesim"
)

func init() {
	register(&command{
		name:    "sim barcode",
		summary: "emulate a serial barcode/QR scanner on a pseudo-terminal",
		run:     runSimBarcode,
	})
}

func runSimBarcode(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sim barcode")
	baud := fs.Int("baud", 9600, "line speed the emulator paces its bytes at (0: as fast as the pty)")
	suffix := fs.String("suffix", "cr", "what ends each scan: cr, lf, crlf or tab")
	prefix := fs.String("prefix", "", "prefix sent before each scan")
	aim := fs.String("aim", "", "AIM symbology identifier sent before each scan, e.g. ]Q1")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw sim barcode [flags]")
		fmt.Fprintln(fs.Output(), "Prints \"pty: /dev/pts/N\" first; each line on stdin is then sent as one scan,")
		fmt.Fprintln(fs.Output(), "e.g. HALLGW-APPT:A20240506-0042 (appointment) or 4301002024050600012 (case number).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sfx, err := barcode.ParseSuffix(*suffix)
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case err != nil || sfx == "":
		return fmt.Errorf("%w: --suffix %q: want cr, lf, crlf or tab", errUsage, *suffix)
	case *baud < 0:
		return fmt.Errorf("%w: --baud %d", errUsage, *baud)
	}
	sim, err := barcodesim.Start(&barcodesim.Opts{Baud: *baud, Suffix: sfx, Prefix: *prefix, AIM: *aim})
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Fprintf(e.stdout, "pty: %s\n", sim.Path())
	for line := range simControlLines(ctx, e.stdin) {
		if line == "" {
			continue
		}
		if err := sim.Scan(line); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "sent %d bytes\n", len(line))
	}
	<-ctx.Done() // stdin closed: keep the pty open until killed
	return nil
}
