package main

import (
	"context"
	"os"

	"golang.org/x/sys/unix"

	"hallgw/firmware/demo"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "run a whole simulated hall on the built-in defaults",
		run:     runDemo,
	})
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	speed := fs.Float64("speed", 60, "simulated seconds per real second (1 = real time)")
	duration := fs.Duration("duration", 0, "stop after this much real time (0 = until Ctrl-C)")
	windows := fs.Int("windows", 0, "number of windows (0 = the default hall's 20)")
	data := fs.String("data", "", "keep the journal in `dir` (default: a temporary directory, removed at exit)")
	listen := fs.String("listen", "", "web server address (default 127.0.0.1:8080, or a free port)")
	seed := fs.Uint64("seed", 1, "random seed of the simulated people")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return demo.Run(ctx, demo.Options{
		Speed: *speed, Duration: *duration, Windows: *windows, DataDir: *data, Listen: *listen,
		Seed: *seed, Out: e.stdout, TTY: isTerminal(e.stdout), Version: version,
	})
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
