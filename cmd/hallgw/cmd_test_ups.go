package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"hallgw/drivers/ups"
	"hallgw/firmware/probe"
	"hallgw/firmware/serialport"
)

func init() {
	register(&command{
		name:    "test ups",
		summary: "run a UPS battery test and say whether it carries the hall for 4 hours",
		run:     runTestUPS,
	})
}

func runTestUPS(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "test ups")
	port := fs.String("port", "", "serial port of the UPS: a path or usb:VID:PID[:SERIAL]")
	baud := fs.Int("baud", 2400, "line speed")
	minutes := fs.Int("minutes", 40, "length of a timed test, 1 to 99 minutes (the voltage slope gives the runtime)")
	deep := fs.Bool("deep", false, "run until battery low and time the runtime (drains the battery: outside opening hours)")
	nominal := fs.Float64("nominal", 0, "battery nominal voltage, V (0: from the UPS's F reply)")
	interval := fs.Duration("interval", 10*time.Second, "time between status samples")
	asJSON := fs.Bool("json", false, "print the report (samples included) as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw test ups --port P [--minutes N | --deep] [flags]")
		fmt.Fprintln(fs.Output(), "The UPS must be on mains. Stop the daemon first if it watches this UPS.")
		fmt.Fprintln(fs.Output(), "Exit status 0: the UPS meets the 4-hour requirement (DB43/T 2422.1 §6.1.1); 1: it does not or the test failed.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	minutesSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "minutes" {
			minutesSet = true
		}
	})
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *port == "":
		return fmt.Errorf("%w: --port is required", errUsage)
	case *deep && minutesSet:
		return fmt.Errorf("%w: --deep or --minutes, not both", errUsage)
	case !*deep && (*minutes < 1 || *minutes > 99):
		return fmt.Errorf("%w: --minutes %d: want 1 to 99", errUsage, *minutes)
	case *interval < 10*time.Millisecond || *interval > 10*time.Minute:
		return fmt.Errorf("%w: --interval %v: want 10ms to 10m", errUsage, *interval)
	case *nominal < 0:
		return fmt.Errorf("%w: --nominal %g", errUsage, *nominal)
	}
	p, err := serialport.Open(*port, serialport.Mode{Baud: *baud})
	if err != nil {
		return probe.OpenError(err)
	}
	defer p.Close()
	d, err := ups.New(p, &ups.Opts{BatteryNominal: *nominal})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *nominal == 0 {
		if _, err := d.Ratings(); err != nil && !errors.Is(err, ups.ErrUnsupported) {
			return err
		}
	}
	s, err := d.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "UPS on %s: %s", *port, s.UPSStatus())
	if v := s.BatteryVoltage; v != nil {
		fmt.Fprintf(e.stdout, ", battery %.2f V", *v)
	}
	if l := s.Load; l != nil {
		fmt.Fprintf(e.stdout, ", load %.0f %%", *l)
	}
	fmt.Fprintln(e.stdout)
	spec := ups.TestSpec{Interval: *interval}
	what := "deep test: until the battery is low"
	if !*deep {
		spec.Duration = time.Duration(*minutes) * time.Minute
		what = fmt.Sprintf("timed test of %d minutes", *minutes)
	}
	fmt.Fprintf(e.stdout, "Running a %s (Ctrl-C stops it and the UPS returns to mains).\n", what)

	pl := newProgressLine(e.stderr)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				pl.show(fmt.Sprintf("battery test: %v elapsed (%s)", time.Since(start).Round(time.Second), what))
			}
		}
	}()
	rep, err := d.BatteryTest(ctx, spec)
	close(done)
	pl.done()
	if errors.Is(err, ups.ErrInconclusive) {
		return fmt.Errorf("%w: the battery voltage fell too little in this test to estimate the runtime; "+
			"run a longer test (--minutes 60) or a deep test (--deep)", err)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "Runtime on a full battery at %.0f %% load: %v (%s)\n", rep.Load, rep.Runtime.Round(time.Minute), rep.Method)
		fmt.Fprintf(e.stdout, "Required: %v (DB43/T 2422.1 §6.1.1)\n", rep.Required)
	}
	if !rep.Meets4h {
		return fmt.Errorf("the UPS does NOT meet the %v requirement: %v at %.0f %% load", rep.Required, rep.Runtime.Round(time.Minute), rep.Load)
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "The UPS meets the %v requirement.\n", rep.Required)
	}
	return nil
}
