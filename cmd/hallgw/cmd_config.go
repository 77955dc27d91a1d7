package main

import (
	"context"
	"fmt"

	"hallgw/firmware/config"
)

func init() {
	register(&command{
		name:    "config check",
		summary: "check a configuration file; errors name the file, line and field",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "config check")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() != 1 {
				return fmt.Errorf("%w: want one FILE", errUsage)
			}
			c, err := config.Load(fs.Arg(0))
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: ok — gateway %s, hall %s, %d services, %d windows, version %s\n",
				fs.Arg(0), c.Gateway.ID, c.Gateway.HallName, len(c.Services), len(c.Windows), c.ConfigVersion())
			return nil
		},
	})
	register(&command{
		name:    "config default",
		summary: "print the built-in default configuration (the demo hall)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "config default")
			windows := fs.Int("windows", 0, "give the hall this many windows (more repeat the default ones' kinds and services); 0 = the default 20")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if *windows == 0 {
				_, err := e.stdout.Write(config.DefaultYAML())
				return err
			}
			if *windows < 1 || *windows > 999 {
				return fmt.Errorf("%w: --windows %d: want 1…999", errUsage, *windows)
			}
			c := config.Default()
			c.Windows = config.ResizeWindows(c.Windows, *windows)
			out, err := config.Marshal(c)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(out)
			return err
		},
	})
}
