package main

import (
	"context"
	"fmt"

	"hallgw/firmware/install"
)

func init() {
	register(&command{
		name:    "install",
		summary: "lay hallgw down into a root (the device, or a mounted SD-card image)",
		run:     runInstall,
	})
}

func runInstall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "install")
	root := fs.String("root", "", "root `dir` to install into (/ on the device itself); required")
	binary := fs.String("binary", "", "daemon `file` to install (default: this executable)")
	ver := fs.String("version", version, "`version` recorded for the daemon")
	secVer := fs.Uint64("security-version", 0, "security `number` of the daemon")
	board := fs.String("board", "", "compatible board `string` update bundles must carry (required on a fresh root)")
	keys := fs.String("keys", "", "`dir` of trusted update keys (*.pub)")
	cfg := fs.String("config", "", "configuration `file` to install (default: the built-in default)")
	force := fs.Bool("force", false, "overwrite an existing /etc/hallgw/hallgw.yaml")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *root == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: give --root DIR and flags only", errUsage)
	}
	res, err := install.Install(install.Opts{
		Root: *root, Binary: *binary, Version: *ver, SecurityVersion: *secVer,
		Board: *board, KeysDir: *keys, ConfigFile: *cfg, Force: *force,
	})
	if err != nil {
		return err
	}
	for _, a := range res.Actions {
		fmt.Fprintf(e.stdout, "%-9s %s\n", a.What, a.Path)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(e.stdout, "daemon in slot %s; enable with: systemctl daemon-reload && systemctl start hallgw\n", res.Slot)
	return nil
}
