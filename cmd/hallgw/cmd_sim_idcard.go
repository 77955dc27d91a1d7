package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"hallgw/drivers/idcard/idcardsim"
)

func init() {
	register(&command{
		name:    "sim idcard",
		summary: "emulate an ID-card reader (SAM protocol) on a pseudo-terminal",
		run:     runSimIDCard,
	})
}

func runSimIDCard(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sim idcard")
	baud := fs.Int("baud", 115200, "line speed the emulator paces its replies at (0: as fast as the pty)")
	repeat := fs.Bool("repeat-find", false, "keep answering find card 9F while a card that was read stays on the reader")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw sim idcard [flags]")
		fmt.Fprintln(fs.Output(), "Prints \"pty: /dev/pts/N\" first, then serves until killed. Control lines on stdin:")
		fmt.Fprintln(fs.Output(), idcardsim.ControlHelp)
		fmt.Fprintln(fs.Output(), "Use made-up identities only, e.g. place 张三 00000019900101000X 19900101")
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
	}
	o := idcardsim.DefaultOpts
	o.Baud, o.RepeatFind = *baud, *repeat
	sim, err := idcardsim.Start(&o)
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Fprintf(e.stdout, "pty: %s\n", sim.Path())
	for line := range simControlLines(ctx, e.stdin) {
		out, err := sim.Control(line)
		switch {
		case err != nil:
			fmt.Fprintln(e.stderr, err)
		case out != "":
			fmt.Fprintln(e.stdout, out)
		}
	}
	<-ctx.Done() // stdin closed: keep serving until killed
	return nil
}

// simControlLines delivers the lines of r until r ends or ctx does. A nil r
// gives no lines.
func simControlLines(ctx context.Context, r io.Reader) <-chan string {
	ch := make(chan string)
	if r == nil {
		close(ch)
		return ch
	}
	// The scanner blocks in Read until a line comes; the relay below ends
	// the channel as soon as ctx is done, so a signal stops the command
	// even while stdin stays open and silent.
	raw := make(chan string)
	go func() {
		defer close(raw)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case raw <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(ch)
		for {
			select {
			case l, ok := <-raw:
				if !ok {
					return
				}
				select {
				case ch <- l:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
