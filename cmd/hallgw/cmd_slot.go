package main

import (
	"context"
	"fmt"

	"hallgw/firmware/update"
)

func init() {
	register(&command{
		name:    "slot select",
		summary: "choose the slot this start runs (systemd ExecStartPre; counts trial starts, rolls back)",
		run:     runSlotSelect,
	})
	register(&command{
		name:    "slot mark-good",
		summary: "commit the update on trial by hand, as its health gate would",
		run:     runSlotMarkGood,
	})
}

func runSlotSelect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "slot select")
	root := fs.String("root", "/", "root `dir` of the device")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	sel, err := update.New(*root).Select()
	if err != nil {
		return err
	}
	if sel.Reason != "" {
		fmt.Fprintf(e.stderr, "hallgw slot select: %s\n", sel.Reason)
	}
	if sel.Warning != "" {
		fmt.Fprintf(e.stderr, "hallgw slot select: warning: %s\n", sel.Warning)
	}
	if sel.Trial {
		fmt.Fprintf(e.stdout, "slot %s: version %s on trial (tries left after this start: %d)\n", sel.Slot, sel.Version, sel.TriesLeft)
	} else {
		fmt.Fprintf(e.stdout, "slot %s: version %s\n", sel.Slot, sel.Version)
	}
	return nil
}

func runSlotMarkGood(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "slot mark-good")
	root := fs.String("root", "/", "root `dir` of the device")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	ok, err := update.New(*root).MarkGood()
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(e.stdout, "no update on trial was started: nothing to commit")
		return nil
	}
	rep, err := update.Status(*root)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "committed slot %s (version %s)\n", rep.Active, rep.Version)
	return nil
}
