package main

import (
	"context"
	"errors"
	"path/filepath"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/install"
	"hallgw/firmware/service"
	"hallgw/firmware/update"
)

// The daemon as a systemd service (Type=notify, WatchdogSec): it says ready
// once it serves, feeds the watchdog only while its main loop and journal are
// healthy, and, when it runs a firmware slot on trial, commits the slot once
// its health checks pass (or exits so systemd counts a failed try).
func init() {
	install.DefaultConfig = config.DefaultYAML
	readyHooks = append(readyHooks, func(d *daemon.Daemon) {
		n := service.NewNotifier()
		if err := n.Ready(); err != nil {
			d.Logger.Warn("systemd notify", "err", err)
		}
		go func() {
			<-d.Ctx.Done()
			n.Stopping()
		}()
		go func() {
			if err := n.Watchdog(d.Ctx, d.Healthy); err != nil && !errors.Is(err, context.Canceled) {
				d.Logger.Warn("systemd watchdog", "err", err)
			}
		}()
		root := d.Root
		if root == "" {
			root = "/"
		}
		slots := update.New(filepath.Clean(root))
		go func() {
			err := slots.GateCommit(d.Ctx, update.Gate{Check: func(ctx context.Context) error {
				if err := d.Healthy(); err != nil {
					return err
				}
				return d.DevicesAnswered()
			}})
			switch {
			case err == nil, errors.Is(err, context.Canceled):
			case errors.Is(err, update.ErrUnhealthy):
				d.Fail(err) // exit non-zero: systemd restarts, the slot loses a try
			default:
				d.Logger.Warn("firmware slot", "err", err)
			}
		}()
	})
}
