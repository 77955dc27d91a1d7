package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallgw/drivers/ups"
	"hallgw/firmware/serialport"
)

func init() {
	register(&command{
		name:    "read ups",
		summary: "read a Megatec Q1 UPS once and print its status as JSON (NUT names)",
		run:     runReadUPS,
	})
}

func runReadUPS(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "read ups")
	port := fs.String("port", "", "serial port: a path or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 2400, "line speed")
	nominal := fs.Float64("nominal", 0, "battery nominal voltage, V (0: from the UPS's F reply, when it has one)")
	ignoreSAB := fs.Bool("ignoresab", false, "ignore the shutdown-active bit (units that hold it at 1)")
	timeout := fs.Duration("timeout", ups.DefaultOpts.ReplyTimeout, "wait for each reply")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *port == "":
		return fmt.Errorf("%w: --port is required", errUsage)
	case *baud <= 0:
		return fmt.Errorf("%w: --baud %d", errUsage, *baud)
	case *timeout <= 0 || *timeout > time.Minute:
		return fmt.Errorf("%w: --timeout %v", errUsage, *timeout)
	}
	p, err := serialport.Open(*port, serialport.Mode{Baud: *baud})
	if err != nil {
		return err
	}
	defer p.Close()
	d, err := ups.New(p, &ups.Opts{BatteryNominal: *nominal, IgnoreSAB: *ignoreSAB, ReplyTimeout: *timeout})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *nominal == 0 {
		// F is optional: units that echo or ignore it simply give no
		// battery.charge.
		if _, err := d.Ratings(); err != nil && !errors.Is(err, ups.ErrUnsupported) {
			return err
		}
	}
	s, err := d.Status()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = e.stdout.Write(out.Bytes())
	return err
}
