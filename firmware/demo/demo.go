package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/hall"
)

// Part is one piece of the simulated hall's equipment (emulated printers,
// the window bus, the embedded MQTT broker, …). Parts register themselves
// with RegisterPart from their own files.
type Part interface {
	// Setup starts what the part emulates and points cfg at it (for
	// example a pty path as a printer port), before the daemon starts.
	Setup(ctx context.Context, env *Env) error
	// People may wrap how the simulated people act, once the daemon runs,
	// so that they act through the emulated devices.
	People(d *daemon.Daemon, p People) People
	// Lines adds lines to the screen; nil for none.
	Lines() []string
	Close() error
}

// Env is what parts may use and change during Setup.
type Env struct {
	Cfg     *config.Config
	DataDir string
	Logger  *slog.Logger
	Clock   *Clock
	// Out is the demo's screen, for parts that print a line on start.
	Out io.Writer
}

type partReg struct {
	name  string
	order int
	f     func() Part
}

var (
	partMu sync.Mutex
	parts  []partReg
)

// RegisterPart adds a part to every demo; parts set up in ascending order.
func RegisterPart(name string, order int, f func() Part) {
	partMu.Lock()
	defer partMu.Unlock()
	parts = append(parts, partReg{name, order, f})
}

// Options configure a demo run.
type Options struct {
	Speed    float64       // simulated seconds per real second
	Duration time.Duration // real time to run; 0 = until ctx is done
	Windows  int           // number of windows; 0 = the default hall's 20
	DataDir  string        // keep the journal here; "" = a temporary directory
	Listen   string        // web server address; "" = 127.0.0.1:8080, or any free port
	Seed     uint64
	Start    time.Time // simulated start; zero = today 08:30 hall time
	Out      io.Writer // the screen
	TTY      bool      // Out is a terminal: redraw in place
	Version  string
	// Ready is called once everything runs (tests use it).
	Ready func(d *daemon.Daemon)
}

// Run runs the simulated hall until ctx is done or the duration passes.
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Speed <= 0 {
		o.Speed = 60
	}
	cfg := config.Default()
	if o.Windows > 0 {
		cfg.Windows = config.ResizeWindows(cfg.Windows, o.Windows)
	}
	data := o.DataDir
	if data == "" {
		tmp, err := os.MkdirTemp("", "hallgw-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		data = tmp
	}
	data, _ = filepath.Abs(data)
	if err := os.MkdirAll(data, 0o750); err != nil {
		return err
	}
	cfg.Gateway.DataDir = data
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	if o.Start.IsZero() {
		t := time.Now().In(loc)
		o.Start = time.Date(t.Year(), t.Month(), t.Day(), 8, 30, 0, 0, loc)
	}
	clock := NewClock(o.Start, o.Speed)

	logf, err := os.OpenFile(filepath.Join(data, "hallgw.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	defer logf.Close()
	logger := slog.New(slog.NewTextHandler(logf, nil))

	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}

	env := &Env{Cfg: cfg, DataDir: data, Logger: logger, Clock: clock, Out: o.Out}
	partMu.Lock()
	regs := append([]partReg(nil), parts...)
	partMu.Unlock()
	sort.SliceStable(regs, func(i, j int) bool { return regs[i].order < regs[j].order })
	var active []Part
	defer func() {
		for i := len(active) - 1; i >= 0; i-- {
			active[i].Close()
		}
	}()
	for _, r := range regs {
		p := r.f()
		if err := p.Setup(ctx, env); err != nil {
			return fmt.Errorf("demo: %s: %w", r.name, err)
		}
		active = append(active, p)
	}

	// Whatever the parts changed must still be a valid configuration.
	yml, err := config.Marshal(cfg)
	if err != nil {
		return err
	}
	loaded, err := config.Parse("demo.yaml", yml)
	if err != nil {
		return fmt.Errorf("demo: configuration: %w", err)
	}
	if err := os.WriteFile(filepath.Join(data, "demo.yaml"), yml, 0o640); err != nil {
		return err
	}

	ln, err := listen(o.Listen)
	if err != nil {
		return err
	}
	screen := &Screen{HallName: cfg.Gateway.HallName, Speed: o.Speed, Loc: loc, Started: time.Now()}
	var d *daemon.Daemon
	ready := make(chan struct{})
	runErr := make(chan error, 1)
	runCtx, stopDaemon := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDaemon()
	go func() {
		runErr <- daemon.Run(runCtx, daemon.Options{
			Config: loaded, Now: clock.Now, Logger: logger, Listener: ln, Demo: true, Version: o.Version,
			Ready: func(dd *daemon.Daemon) { d = dd; close(ready) },
		})
	}()
	select {
	case <-ready:
	case err := <-runErr:
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(o.Out, "hallgw demo: %d windows, ×%g speed, data in %s\n", len(cfg.Windows), o.Speed, data)
	fmt.Fprintf(o.Out, "web: http://%s/   API: http://%s/api/v1/state   log: %s\n", d.Addr, d.Addr, filepath.Join(data, "hallgw.log"))

	var people People = Direct{GW: d.Gateway}
	for _, p := range active {
		people = p.People(d, people)
	}
	screen.Extra = func() []string {
		var out []string
		for _, p := range active {
			out = append(out, p.Lines()...)
		}
		return out
	}
	sim := &Sim{Cfg: cfg, People: people, Clock: clock, Loc: loc, Day: DefaultDay, Mix: DefaultMix,
		Behaviour: DefaultBehaviour, Seed: o.Seed, Logger: logger}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(ctx) }()
	if o.Ready != nil {
		o.Ready(d)
	}

	frame := func() (Frame, bool) {
		f := Frame{Now: clock.Now(), Arrivals: sim.Arrivals.Load(), Refused: sim.Refused.Load()}
		vctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := d.Gateway.View(vctx, func(h *hall.Hall) {
			f.Services, f.Windows, f.Stats = h.Services(), h.Windows(), h.Stats()
		})
		f.Usage = d.Journal.Usage()
		return f, err == nil
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastLine := time.Time{}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-runErr:
			return fmt.Errorf("demo: daemon stopped: %w", err)
		case <-tick.C:
			f, ok := frame()
			if !ok {
				continue
			}
			if o.TTY {
				io.WriteString(o.Out, "\x1b[H\x1b[2J")
				screen.Render(o.Out, f)
			} else if time.Since(lastLine) >= 5*time.Second {
				lastLine = time.Now()
				fmt.Fprintln(o.Out, screen.Line(f))
			}
		}
	}
	<-simDone
	f, ok := frame()
	stopDaemon()
	err = <-runErr
	if ok {
		if o.TTY {
			io.WriteString(o.Out, "\x1b[H\x1b[2J")
		}
		screen.Render(o.Out, f)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if o.DataDir != "" {
		fmt.Fprintf(o.Out, "stopped cleanly; journal kept in %s\n", data)
	} else {
		fmt.Fprintln(o.Out, "stopped cleanly")
	}
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", addr)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		return ln, nil
	}
	return net.Listen("tcp", "127.0.0.1:0")
}
