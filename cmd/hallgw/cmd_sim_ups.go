package main

import (
	"context"
	"fmt"
	"time"

	"hallgw/drivers/ups/upssim"
)

func init() {
	register(&command{
		name:    "sim ups",
		summary: "emulate a Megatec Q1 UPS on a pseudo-terminal",
		run:     runSimUPS,
	})
}

func runSimUPS(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sim ups")
	d := upssim.DefaultConfig
	baud := fs.Int("baud", d.Baud, "line speed the emulator paces its replies at (0: as fast as the pty)")
	nominal := fs.Float64("nominal", d.Nominal, "battery nominal voltage, V (2 V cells)")
	capacity := fs.Float64("capacity-ah", d.CapacityAh, "battery capacity, Ah")
	load := fs.Float64("load", d.Load, "load, % of the rated power")
	rated := fs.Float64("rated-power", d.RatedPower, "rated output power, W")
	speed := fs.Float64("speed", 1, "model time runs this many times faster than real time")
	perCell := fs.Bool("per-cell", false, "report the battery voltage per cell (S.SS), like on-line units")
	online := fs.Bool("online", false, "report an on-line unit (ups.type online)")
	echoFI := fs.Bool("echo-fi", false, "echo F and I back, like a Santak Castle")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw sim ups [flags]")
		fmt.Fprintln(fs.Output(), "Prints \"pty: /dev/pts/N\" first, then serves until killed. Control lines on stdin:")
		fmt.Fprintln(fs.Output(), "  mains on|off, load 45, battery 21.1|auto, input 250, fail [on|off],")
		fmt.Fprintln(fs.Output(), "  silent on|off, echo-fi on|off, status; each prints the Q1 line after it.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *baud < 0:
		return fmt.Errorf("%w: --baud %d", errUsage, *baud)
	case !(*speed > 0 && *speed <= 1e6):
		return fmt.Errorf("%w: --speed %g, want more than 0 and at most 1000000", errUsage, *speed)
	case *load < 0:
		return fmt.Errorf("%w: --load %g", errUsage, *load)
	}
	start := time.Now()
	cfg := upssim.Config{
		Baud: *baud, Nominal: *nominal, CapacityAh: *capacity, Load: *load, RatedPower: *rated,
		PerCell: *perCell, Online: *online,
		Now: func() time.Time { return start.Add(time.Duration(float64(time.Since(start)) * *speed)) },
	}
	if *baud == 0 {
		cfg.Baud = -1
	}
	if *echoFI {
		cfg.FI = upssim.FIEcho
	}
	sim, err := upssim.New(cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *load == 0 {
		if err := sim.SetLoad(0); err != nil {
			return err
		}
	}
	l, err := sim.Listen()
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Fprintf(e.stdout, "pty: %s\n", l.Path())
	// Serve until killed, whether or not stdin is still open.
	lines := simControlLines(ctx, e.stdin)
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: keep serving
				continue
			}
			q, err := sim.Control(line)
			if err != nil {
				fmt.Fprintln(e.stderr, err)
				continue
			}
			fmt.Fprintln(e.stdout, q)
		}
	}
}
