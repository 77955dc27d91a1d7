package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/firmware/serialport"
)

func init() {
	register(&command{
		name:    "read idcard",
		summary: "wait for an ID card on a reader and print it, masked, as JSON",
		run:     runReadIDCard,
	})
}

func runReadIDCard(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "read idcard")
	port := fs.String("port", "", "serial port of the reader: a path or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 115200, "line speed")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for a card")
	interval := fs.Duration("interval", 500*time.Millisecond, "how often to look for a card")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *port == "":
		return fmt.Errorf("%w: --port is required", errUsage)
	case *baud <= 0 || *timeout <= 0 || *interval <= 0:
		return fmt.Errorf("%w: --baud, --timeout and --interval must be positive", errUsage)
	}
	p, err := serialport.Open(*port, serialport.Mode{Baud: *baud})
	if err != nil {
		return err
	}
	defer p.Close()
	r, err := idcard.New(p, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	id, err := r.SAMID(ctx)
	if err != nil {
		return fmt.Errorf("no SAM answers on %s: %w", p.Name(), err)
	}
	fmt.Fprintf(e.stderr, "reader %s, SAM %v: place a card\n", p.Name(), id)
	c, err := r.Poll(ctx, *interval)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no card within %v", *timeout)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(c.Masked())
}
