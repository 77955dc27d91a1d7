package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"hallgw/firmware/probe"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "find which device answers on which serial port, and at what speed",
		run:     runProbe,
	})
}

func runProbe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "probe")
	ports := fs.String("ports", "", "comma-separated ports to probe (default: every serial port the system lists)")
	asJSON := fs.Bool("json", false, "print the findings and the snippet as JSON")
	addrs := fs.Int("bus-addrs", 8, "window-bus addresses tried on each port: 1 to N")
	timeout := fs.Duration("timeout", 250*time.Millisecond, "wait for each reply once the request is sent")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw probe [--ports P1,P2] [--json] [--bus-addrs N] [--timeout D]")
		fmt.Fprintln(fs.Output(), "Stop the daemon first (systemctl stop hallgw): a port it holds cannot be probed.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *addrs < 1 || *addrs > 247:
		return fmt.Errorf("%w: --bus-addrs %d: want 1 to 247", errUsage, *addrs)
	case *timeout < 10*time.Millisecond || *timeout > 10*time.Second:
		return fmt.Errorf("%w: --timeout %v: want 10ms to 10s", errUsage, *timeout)
	}
	o := probe.Opts{BusAddrs: *addrs, Timeout: *timeout}
	if *ports != "" {
		for _, p := range strings.Split(*ports, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Ports = append(o.Ports, p)
			}
		}
	}
	pl := newProgressLine(e.stderr)
	o.Progress = func(p probe.Progress) {
		what := fmt.Sprintf("%s %d baud", p.Protocol, p.Baud)
		if p.Addr > 0 {
			what += fmt.Sprintf(" address %d", p.Addr)
		}
		pl.show(fmt.Sprintf("probing %d/%d ports: %s: %s", p.Done, p.Ports, p.Port, what))
	}
	findings, err := probe.Scan(ctx, o)
	pl.done()
	if err != nil && findings == nil {
		return err
	}
	if len(findings) == 0 {
		return errors.New("no serial ports found (name them with --ports)")
	}
	snippet := probe.Snippet(findings)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(struct {
			Ports   []probe.Finding `json:"ports"`
			Snippet string          `json:"snippet"`
		}{findings, snippet}); jerr != nil {
			return jerr
		}
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tUSB ID\tDEVICE\tPROTOCOL\tBAUD\tDETAIL")
	for _, f := range findings {
		usb, dev, proto, baud := dash(f.USBID()), dash(f.Device), dash(f.Protocol), "-"
		if f.Baud > 0 {
			baud = fmt.Sprint(f.Baud)
		}
		detail := f.Detail
		if f.Error != "" {
			detail += ": " + f.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, usb, dev, proto, baud, detail)
	}
	if ferr := tw.Flush(); ferr != nil {
		return ferr
	}
	if snippet != "" {
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(e.stdout, "# Configuration for /etc/hallgw/hallgw.yaml (check the windows of the bus terminals):")
		fmt.Fprint(e.stdout, snippet)
	}
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// progressLine shows what a long command is doing on one line of stderr:
// rewritten in place on a terminal, at most one line a second otherwise.
type progressLine struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	last time.Time
	n    int // length of the line on screen
}

func newProgressLine(w io.Writer) *progressLine {
	pl := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			pl.tty = true
		}
	}
	return pl
}

func (pl *progressLine) show(s string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.tty {
		if time.Since(pl.last) < time.Second {
			return
		}
		pl.last = time.Now()
		fmt.Fprintln(pl.w, s)
		return
	}
	pad := ""
	if len(s) < pl.n {
		pad = strings.Repeat(" ", pl.n-len(s))
	}
	fmt.Fprint(pl.w, "\r"+s+pad)
	pl.n = len(s)
}

// done clears the line on a terminal.
func (pl *progressLine) done() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.tty && pl.n > 0 {
		fmt.Fprint(pl.w, "\r"+strings.Repeat(" ", pl.n)+"\r")
		pl.n = 0
	}
}
