package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	_ "time/tzdata" // the board may have no zoneinfo

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
)

// readyHooks run when the daemon serves (systemd notification, …); files
// that need one append to it in init.
var readyHooks []func(d *daemon.Daemon)

func init() {
	register(&command{
		name:    "run",
		summary: "run the gateway daemon on a configuration file",
		run:     runDaemon,
	})
}

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run")
	cfgPath := fs.String("config", "/etc/hallgw/hallgw.yaml", "configuration `file`")
	root := fs.String("root", "", "prefix every configured path with `dir` (tests, image builds)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `file` until the daemon stops (for go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logger, err := newLogger(e, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	err = daemon.Run(ctx, daemon.Options{
		Config: cfg, ConfigPath: *cfgPath, Root: *root, Logger: logger, Version: version,
		Ready: func(d *daemon.Daemon) {
			for _, h := range readyHooks {
				h(d)
			}
		},
	})
	if errors.Is(err, daemon.ErrRestart) {
		logger.Info("exiting to restart on the new configuration")
		return nil
	}
	return err
}

func newLogger(e *env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q", errUsage, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(e.stdout, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stdout, opts)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q: want text or json", errUsage, format)
}
