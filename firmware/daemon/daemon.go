package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"hallgw/firmware/api"
	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
)

// UplinkCursor names the journal cursor of the MQTT uplink: business events
// after it have not been acknowledged by the platform's broker.
const UplinkCursor = "uplink"

// Component is an optional part of the daemon.
type Component interface {
	// Start begins the component's work; long-running work goes in
	// goroutines that end when ctx is done.
	Start(ctx context.Context) error
	// Stop ends it, within ctx's deadline.
	Stop(ctx context.Context) error
}

// Factory makes a component for d, or returns (nil, nil) when the
// configuration does not ask for it.
type Factory func(d *Daemon) (Component, error)

type registration struct {
	name  string
	order int
	f     Factory
}

var (
	regMu sync.Mutex
	regs  []registration
)

// Register adds a component factory. Components start in ascending order
// and stop in reverse; equal orders start by name.
func Register(name string, order int, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, r := range regs {
		if r.name == name {
			panic("daemon: component registered twice: " + name)
		}
	}
	regs = append(regs, registration{name, order, f})
}

// Options are what the caller decides beyond the configuration file.
type Options struct {
	Config *config.Loaded
	// ConfigPath is the file Config came from; a configuration pushed by
	// the platform replaces it atomically. Empty in the demo.
	ConfigPath string
	// Root is prepended to every path of the configuration (data dir, key
	// files), so a test or an image build can run in a directory.
	Root string
	// Now is the clock; nil means time.Now. The demo passes a faster one.
	Now    func() time.Time
	Logger *slog.Logger
	// Listener, when set, is used instead of listening on http.listen.
	Listener net.Listener
	// Demo marks the simulated hall, for components that behave
	// differently there (embedded broker, emulated devices).
	Demo bool
	// Version is the firmware version reported upstream.
	Version string
	// Ready is called once the daemon serves (systemd notify, the demo's
	// screen).
	Ready func(*Daemon)
}

// Daemon is a running gateway.
type Daemon struct {
	Options
	Cfg     *config.Config
	Journal *journal.Journal
	Gateway *gateway.Gateway
	Health  *health.Registry
	// Mux serves the local web server; components add pages to it.
	Mux     *http.ServeMux
	Started time.Time
	// Addr is where the web server listens.
	Addr string

	// Ctx is done when the daemon is asked to stop.
	Ctx context.Context

	comps []namedComponent
	srv   *http.Server
	errc  chan error

	lastTick      atomic.Int64 // unix nanos (real time) of the last tick
	journalFailed atomic.Bool

	alarmMu sync.Mutex
	alarms  []func(journal.Alarm)

	statusMu sync.Mutex
	status   map[string]func() any
}

type namedComponent struct {
	name string
	c    Component
}

// DataDir returns the data directory under the root.
func (d *Daemon) DataDir() string { return d.Path(d.Cfg.Gateway.DataDir) }

// Path places a configured path under the root.
func (d *Daemon) Path(p string) string {
	if d.Root == "" || p == "" {
		return p
	}
	return filepath.Join(d.Root, p)
}

// OnAlarm adds a receiver of journal space alarms (the uplink publishes
// them, the status page shows them).
func (d *Daemon) OnAlarm(fn func(journal.Alarm)) {
	d.alarmMu.Lock()
	d.alarms = append(d.alarms, fn)
	d.alarmMu.Unlock()
}

func (d *Daemon) alarm(a journal.Alarm) {
	d.Logger.Warn("journal alarm", "kind", a.Kind, "msg", a.Msg)
	switch a.Kind {
	case journal.AlarmWriteFailed:
		d.journalFailed.Store(true)
	case journal.AlarmRecovered:
		d.journalFailed.Store(false)
	}
	d.alarmMu.Lock()
	fns := append([]func(journal.Alarm){}, d.alarms...)
	d.alarmMu.Unlock()
	for _, fn := range fns {
		fn(a)
	}
}

// Fail reports a fatal component error: Run returns it.
func (d *Daemon) Fail(err error) {
	select {
	case d.errc <- err:
	default:
	}
}

// Run starts the daemon and blocks until ctx is done or a component fails,
// then shuts down cleanly: components stop, the hall is snapshotted, the
// journal is flushed and closed.
func Run(ctx context.Context, opts Options) error {
	// Components and open connections (display streams) follow this
	// context; it ends on every way out, not only when the caller's does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d, err := start(ctx, opts)
	if err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-d.errc:
		d.Logger.Error("stopping after a fatal error", "err", runErr)
	}
	cancel()
	stopCtx, stop := context.WithTimeout(context.Background(), 15*time.Second)
	defer stop()
	if err := d.shutdown(stopCtx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func start(ctx context.Context, opts Options) (d *Daemon, err error) {
	if opts.Config == nil {
		return nil, errors.New("daemon: no configuration")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stdout, nil))
	}
	d = &Daemon{
		Options: opts, Cfg: opts.Config.Config, Health: health.NewRegistry(opts.Now),
		Mux: http.NewServeMux(), Started: opts.Now(), errc: make(chan error, 1), Ctx: ctx,
	}
	d.lastTick.Store(time.Now().UnixNano())
	started := d // a failing return sets d to nil
	defer func() {
		if err != nil {
			// Stop what did start; the caller gets the error, not a half
			// daemon.
			started.shutdown(context.Background())
		}
	}()
	if err := os.MkdirAll(d.DataDir(), 0o750); err != nil {
		return nil, fmt.Errorf("daemon: data dir: %w", err)
	}
	jpath := filepath.Join(d.DataDir(), "journal.db")
	if _, err := journal.CompactIfBloated(jpath); err != nil {
		d.Logger.Warn("journal compaction skipped", "err", err)
	}
	d.Journal, err = journal.Open(journal.Options{
		Path: jpath, GatewayID: d.Cfg.Gateway.ID,
		BusinessLimit: int64(d.Cfg.Journal.BusinessLimit), TelemetryLimit: int64(d.Cfg.Journal.TelemetryLimit),
		Now: opts.Now, Logger: d.Logger.With("part", "journal"), OnAlarm: d.alarm,
	})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	// Business events are reclaimed only once delivered upstream, even
	// while no broker is configured yet.
	d.Journal.Hold(UplinkCursor)
	hc, err := d.Cfg.HallConfig()
	if err != nil {
		return nil, err
	}
	d.Gateway, err = gateway.Open(ctx, gateway.Options{
		Journal: d.Journal, GatewayID: d.Cfg.Gateway.ID, Hall: hc, Now: opts.Now,
		SnapshotEvery: d.Cfg.Journal.SnapshotEvery, Logger: d.Logger.With("part", "gateway"),
	})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d.Mux.Handle("/api/v1/", api.New(d.Gateway, string(d.Cfg.HTTP.Token)))

	// Components.
	regMu.Lock()
	rs := append([]registration(nil), regs...)
	regMu.Unlock()
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].order != rs[j].order {
			return rs[i].order < rs[j].order
		}
		return rs[i].name < rs[j].name
	})
	for _, r := range rs {
		c, err := r.f(d)
		if err != nil {
			return nil, fmt.Errorf("daemon: %s: %w", r.name, err)
		}
		if c == nil {
			continue
		}
		if err := c.Start(ctx); err != nil {
			return nil, fmt.Errorf("daemon: start %s: %w", r.name, err)
		}
		d.comps = append(d.comps, namedComponent{r.name, c})
		d.Logger.Debug("component started", "name", r.name)
	}

	// Web server.
	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", d.Cfg.HTTP.Listen)
		if err != nil {
			return nil, fmt.Errorf("daemon: http: %w", err)
		}
	}
	d.Addr = ln.Addr().String()
	d.srv = &http.Server{Handler: d.Mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.Fail(fmt.Errorf("daemon: http: %w", err))
		}
	}()

	go d.tick(ctx)
	d.Logger.Info("gateway serving", "gateway", d.Cfg.Gateway.ID, "hall", d.Cfg.Gateway.HallName,
		"http", d.Addr, "config_version", opts.Config.ConfigVersion(), "last_seq", d.Journal.Committed())
	if opts.Ready != nil {
		opts.Ready(d)
	}
	return d, nil
}

// tick lets time-driven rules (the daily reset) run.
func (d *Daemon) tick(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.Gateway.Tick(ctx); err != nil && ctx.Err() == nil {
				d.Logger.Warn("tick", "err", err)
				continue
			}
			d.lastTick.Store(time.Now().UnixNano())
		}
	}
}

// Healthy reports whether the daemon's main loop runs and its journal
// commits: the systemd watchdog is fed only while it returns nil. It is
// cheap and never blocks.
func (d *Daemon) Healthy() error {
	if age := time.Since(time.Unix(0, d.lastTick.Load())); age > 10*time.Second {
		return fmt.Errorf("daemon: main loop stalled for %v", age.Round(time.Second))
	}
	if d.journalFailed.Load() {
		return errors.New("daemon: journal cannot write")
	}
	return nil
}

// DevicesAnswered reports whether every device the health registry knows
// has answered at least once and none is down: the health gate of a new
// firmware on trial.
func (d *Daemon) DevicesAnswered() error {
	for _, dev := range d.Health.All() {
		if dev.State == health.Down || dev.State == health.Unknown {
			return fmt.Errorf("daemon: device %s is %s: %s", dev.ID, dev.State, dev.Reason)
		}
	}
	return nil
}

func (d *Daemon) shutdown(ctx context.Context) error {
	var errs []error
	if d.srv != nil {
		if err := d.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(d.comps) - 1; i >= 0; i-- {
		if err := d.comps[i].c.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", d.comps[i].name, err))
		}
	}
	if d.Gateway != nil {
		if err := d.Gateway.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if d.Journal != nil {
		if err := d.Journal.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		d.Logger.Info("gateway stopped cleanly")
	}
	return errors.Join(errs...)
}
