package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"hallgw/drivers/escpos/escpossim"
)

func init() {
	register(&command{
		name:    "sim printer",
		summary: "emulate an ESC/POS ticket printer on a pseudo-terminal",
		run:     runSimPrinter,
	})
}

// simPrinterOut serialises lines written from the emulator and the control
// loop.
type simPrinterOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *simPrinterOut) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

func runSimPrinter(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sim printer")
	baud := fs.Int("baud", 9600, "line speed the emulator paces its wire at (0: as fast as the pty)")
	width := fs.Int("width", 80, "paper width in mm: 58 or 80")
	paper := fs.String("paper", "ok", "paper roll at start: ok, near or end")
	save := fs.String("save", "", "directory that receives every printed ticket as ticket-NNNN.txt")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw sim printer [flags]")
		fmt.Fprintln(fs.Output(), "Prints \"pty: /dev/pts/N\" first, then every ticket as text, until killed.")
		fmt.Fprintln(fs.Output(), "Control lines on stdin: paper ok|near|end, cover open|closed, offline on|off,")
		fmt.Fprintln(fs.Output(), "cutter error|ok, unplug, replug.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *width != 58 && *width != 80:
		return fmt.Errorf("%w: --width %d: want 58 or 80", errUsage, *width)
	case *baud < 0:
		return fmt.Errorf("%w: --baud %d", errUsage, *baud)
	}
	pp, err := escpossim.ParsePaper(*paper)
	if err != nil {
		return fmt.Errorf("%w: --paper: %v", errUsage, err)
	}
	if *save != "" {
		if err := os.MkdirAll(*save, 0o755); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	out := &simPrinterOut{w: e.stdout}
	sim, err := escpossim.NewPTY(escpossim.Opts{
		Baud:   *baud,
		Width:  *width,
		Paper:  pp,
		Logger: log,
		OnTicket: func(t escpossim.RenderedTicket) {
			state := "complete"
			if !t.Complete {
				state = fmt.Sprintf("incomplete, %d lines lost", t.Dropped)
			}
			text := t.Text()
			out.printf("--- ticket %d (%s) ---\n%s--- end of ticket %d ---\n", t.Seq, state, text, t.Seq)
			if *save != "" {
				name := filepath.Join(*save, fmt.Sprintf("ticket-%04d.txt", t.Seq))
				if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
					log.Error("save ticket", "err", err)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	out.printf("pty: %s\n", sim.Path())
	if e.stdin != nil {
		go simPrinterControl(sim, e.stdin, out, log)
	}
	return sim.Run(ctx)
}

// simPrinterControl applies the control lines read from r.
func simPrinterControl(sim *escpossim.Printer, r io.Reader, out *simPrinterOut, log *slog.Logger) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		arg := ""
		if len(f) > 1 {
			arg = f[1]
		}
		switch cmd := f[0] + " " + arg; cmd {
		case "paper ok", "paper near", "paper end":
			p, _ := escpossim.ParsePaper(arg)
			sim.SetPaper(p)
		case "cover open", "cover closed":
			sim.SetCoverOpen(arg == "open")
		case "offline on", "offline off":
			sim.SetOffline(arg == "on")
		case "cutter error", "cutter ok":
			sim.SetCutterError(arg == "error")
		case "unplug ":
			if err := sim.Unplug(); err != nil {
				log.Error("unplug", "err", err)
			}
		case "replug ":
			path, err := sim.Replug()
			if err != nil {
				log.Error("replug", "err", err)
				continue
			}
			out.printf("pty: %s\n", path)
			continue
		default:
			log.Warn("unknown control line", "line", sc.Text())
			continue
		}
		out.printf("ok: %s\n", strings.TrimSpace(strings.Join(f[:min(len(f), 2)], " ")))
	}
}
