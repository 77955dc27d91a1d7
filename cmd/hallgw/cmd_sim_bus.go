package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
)

func init() {
	register(&command{
		name:    "sim bus",
		summary: "emulate a window bus (terminals, hall displays) on a pseudo-terminal",
		run:     runSimBus,
	})
}

const simBusHelp = `commands (one per line on stdin):
  press ADDR KEY [ARG]   press a key: call recall skip transfer hold pause resume finish rate1..rate5
  mute ADDR | unmute ADDR
  garble ADDR | drop ADDR N | noise ADDR N | clear ADDR
  reboot ADDR
  text ADDR | state ADDR
  help | quit`

// runSimBus serves emulated devices on a new pty until interrupted or
// "quit". It prints the pty path first, then every display change.
func runSimBus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sim bus")
	baud := fs.Int("baud", 9600, "line speed whose timing to emulate")
	terminals := fs.Int("terminals", 40, "window terminals, at addresses 1..N")
	displays := fs.Int("displays", 1, "hall displays, at addresses 201 upwards")
	proto := fs.String("protocol", "modbus", "wire protocol: modbus or vendor")
	trace := fs.Bool("trace", false, "print every frame received (rx) and sent (tx)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *baud < 1200 || *baud > 921600:
		return fmt.Errorf("%w: --baud %d out of range 1200–921600", errUsage, *baud)
	case *terminals < 0 || *terminals > 200:
		return fmt.Errorf("%w: --terminals %d out of range 0–200", errUsage, *terminals)
	case *displays < 0 || *displays > 47:
		return fmt.Errorf("%w: --displays %d out of range 0–47", errUsage, *displays)
	case *terminals+*displays == 0:
		return fmt.Errorf("%w: no devices", errUsage)
	case *proto != "modbus" && *proto != "vendor":
		return fmt.Errorf("%w: --protocol %q: want modbus or vendor", errUsage, *proto)
	}

	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(e.stdout, format+"\n", a...)
	}
	o := bussim.Opts{Baud: *baud, Protocol: *proto,
		OnShow: func(c bussim.Change) { say("show %d %q", c.Addr, c.Text) }}
	for a := 1; a <= *terminals; a++ {
		o.Terminals = append(o.Terminals, windowbus.Addr(a))
	}
	for i := 0; i < *displays; i++ {
		o.Displays = append(o.Displays, windowbus.Addr(201+i))
	}
	if *trace {
		o.Trace = func(rx bool, b []byte) {
			dir := "tx"
			if rx {
				dir = "rx"
			}
			say("%s % X", dir, b)
		}
	}
	p, err := simwire.OpenPTY()
	if err != nil {
		return err
	}
	defer p.Close()
	sim, err := bussim.New(p, o)
	if err != nil {
		return err
	}
	say("pty: %s", p.Path)
	say("%s bus at %d baud: terminals 1–%d, hall displays %d from 201; type help", *proto, *baud, *terminals, *displays)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simErr := make(chan error, 1)
	go func() { simErr <- sim.Run(ctx) }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(e.stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-simErr:
			return err
		case line, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: serve until interrupted
				continue
			}
			quit, err := simBusCommand(sim, line, say)
			if err != nil {
				say("error: %v", err)
			}
			if quit {
				return nil
			}
		}
	}
}

// simBusCommand runs one control line.
func simBusCommand(sim *bussim.Sim, line string, say func(string, ...any)) (quit bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, nil
	}
	num := func(i int, what string) (int, error) {
		if len(f) <= i {
			return 0, fmt.Errorf("%s: missing %s", f[0], what)
		}
		n, err := strconv.ParseUint(f[i], 0, 16)
		if err != nil {
			return 0, fmt.Errorf("%s: %s %q is not a number", f[0], what, f[i])
		}
		return int(n), nil
	}
	addr := func() (windowbus.Addr, error) {
		n, err := num(1, "address")
		if err != nil {
			return 0, err
		}
		if n < 1 || n > int(windowbus.MaxAddr) {
			return 0, fmt.Errorf("%s: address %d out of range", f[0], n)
		}
		return windowbus.Addr(n), nil
	}
	fault := func(fl bussim.Fault) error {
		a, err := addr()
		if err != nil {
			return err
		}
		return sim.SetFault(a, fl)
	}
	switch f[0] {
	case "quit", "exit":
		return true, nil
	case "help":
		say("%s", simBusHelp)
		return false, nil
	case "press":
		a, err := addr()
		if err != nil {
			return false, err
		}
		if len(f) < 3 {
			return false, fmt.Errorf("press: missing key")
		}
		k, err := windowbus.ParseKey(f[2])
		if err != nil {
			return false, err
		}
		arg := 0
		if len(f) > 3 {
			if arg, err = num(3, "argument"); err != nil {
				return false, err
			}
		}
		seq, _, err := sim.Press(a, k, uint16(arg))
		if err != nil {
			return false, err
		}
		say("pressed %d %s arg %d seq %d", a, k, arg, seq)
		return false, nil
	case "mute":
		return false, fault(bussim.Fault{Mute: true})
	case "unmute", "clear":
		return false, fault(bussim.Fault{})
	case "garble":
		return false, fault(bussim.Fault{Garble: true})
	case "drop", "noise":
		n, err := num(2, "count")
		if err != nil {
			return false, err
		}
		if f[0] == "drop" {
			return false, fault(bussim.Fault{DropReplies: n})
		}
		return false, fault(bussim.Fault{Noise: n})
	case "reboot":
		a, err := addr()
		if err != nil {
			return false, err
		}
		return false, sim.Reboot(a)
	case "text", "state":
		a, err := addr()
		if err != nil {
			return false, err
		}
		st, ok := sim.State(a)
		if !ok {
			return false, fmt.Errorf("%s: no device at address %d", f[0], a)
		}
		if f[0] == "text" {
			say("text %d %q", a, st.Text)
		} else {
			say("state %d: kind %s boot %#04x text %q mode %d brightness %d pending %d acked %d beeps %d requests %d crc-errors %d",
				a, st.Identity.Kind, st.Identity.Boot, st.Text, st.Settings.Mode, st.Settings.Brightness,
				st.Pending, st.Acked, len(st.Beeps), st.Requests, st.Counters.ChecksumErrors)
		}
		return false, nil
	}
	return false, fmt.Errorf("unknown command %q (type help)", f[0])
}
