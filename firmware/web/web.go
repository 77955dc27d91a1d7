package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/web/assets"
	"hallgw/firmware/web/display"
	"hallgw/firmware/web/kiosk"
	"hallgw/firmware/web/status"
)

// Options are what the pages need from the gateway.
type Options struct {
	// Config is the web section; WithDefaults is applied.
	Config  config.Web
	Gateway *gateway.Gateway
	Health  *health.Registry
	// Status returns the daemon's status sections (the uplink's among
	// them); nil shows none.
	Status func() map[string]any
	// Identity, shown on the pages.
	HallName, GatewayID, Version, ConfigVersion string
	Started                                     time.Time
	// Kiosks are the configured kiosk ids; empty accepts any.
	Kiosks []string
	// UplinkCursor names the uplink's journal cursor ("" leaves the lag
	// out).
	UplinkCursor string
	// Location is the hall's zone; Now its clock (nil: time.Now).
	Location *time.Location
	Now      func() time.Time
	// Done ends the event streams when closed (the daemon stops).
	Done   <-chan struct{}
	Logger *slog.Logger
	// StatusListener, when set, is used instead of listening on
	// Config.StatusListen.
	StatusListener net.Listener
	// SampleEvery is how often the chart looks at the hall's clock for a
	// new minute (default 1 s).
	SampleEvery time.Duration
}

// Server is the pages of one gateway.
type Server struct {
	o       Options
	display *display.Handler
	kiosk   *kiosk.Handler
	status  *status.Handler
	chart   *status.Chart

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes the pages; Register mounts the public ones and Start starts
// the status listener and the chart.
func New(o Options) (*Server, error) {
	if o.Gateway == nil || o.Health == nil {
		return nil, errors.New("web: a gateway and a health registry are needed")
	}
	o.Config = o.Config.WithDefaults()
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = time.Second
	}
	s := &Server{o: o, chart: status.NewChart(o.Location)}
	var err error
	s.display, err = display.New(display.Options{Gateway: o.Gateway, HallName: o.HallName, Calls: o.Config.DisplayCalls,
		Location: o.Location, Done: o.Done})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.kiosk, err = kiosk.New(kiosk.Options{HallName: o.HallName, Kiosks: o.Kiosks, Return: o.Config.KioskReturn.D(), Location: o.Location})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.status, err = status.New(status.Options{
		Gateway: o.Gateway, Health: o.Health, Status: o.Status, Tests: Tests, Chart: s.chart,
		Metrics: status.NewRegistry(status.MetricsOptions{Gateway: o.Gateway, Health: o.Health, UplinkCursor: o.UplinkCursor,
			Version: o.Version, GatewayID: o.GatewayID, Now: o.Now, Runtime: true}),
		User: o.Config.StatusUser, Password: string(o.Config.StatusPassword),
		HallName: o.HallName, GatewayID: o.GatewayID, Version: o.Version, ConfigVersion: o.ConfigVersion,
		Started: o.Started, UplinkCursor: o.UplinkCursor, Location: o.Location, Now: o.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return s, nil
}

// Register mounts the public pages on mux: /display/, /kiosk/{id}/ and the
// shared files under /static/web/.
func (s *Server) Register(mux *http.ServeMux) {
	s.display.Register(mux)
	s.kiosk.Register(mux)
	mux.Handle("GET "+assets.Prefix, assets.Handler())
}

// StatusHandler returns the status page with /metrics, behind its guard.
func (s *Server) StatusHandler() http.Handler { return s.status }

// Chart returns the day's chart.
func (s *Server) Chart() *status.Chart { return s.chart }

// Start draws the day so far from the journal, starts sampling the hall
// every minute of hall time and, unless web.status_listen is off, serves
// the status page.
func (s *Server) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	if err := s.chart.Backfill(ctx, s.o.Gateway); err != nil {
		s.o.Logger.Warn("the status chart starts empty", "err", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.chart.Run(ctx, s.o.Gateway, s.o.SampleEvery)
	}()
	ln := s.o.StatusListener
	if ln == nil {
		if !s.o.Config.StatusEnabled() {
			return nil
		}
		var err error
		if ln, err = net.Listen("tcp", s.o.Config.StatusListen); err != nil {
			cancel()
			s.wg.Wait()
			return fmt.Errorf("web: status listener: %w", err)
		}
	}
	if s.o.Config.StatusPassword == "" {
		s.o.Logger.Warn("the status page has no password: it answers loopback clients on a loopback address only (set web.status_password)",
			"addr", ln.Addr().String())
	}
	srv := &http.Server{Handler: s.status, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	s.mu.Lock()
	s.ln, s.srv = ln, srv
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.o.Logger.Error("status listener", "err", err)
		}
	}()
	s.o.Logger.Info("status page serving", "addr", ln.Addr().String())
	return nil
}

// StatusAddr returns the status listener's address, "" when it does not
// run.
func (s *Server) StatusAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Info is the web section of the gateway's status.
type Info struct {
	StatusAddr string `json:"status_addr,omitempty"`
	Displays   int    `json:"displays"`
	Tests      int    `json:"self_tests"`
}

// Info returns the pages' own state.
func (s *Server) Info() Info {
	return Info{StatusAddr: s.StatusAddr(), Displays: s.display.Clients(), Tests: len(Tests())}
}

// Stop stops the status listener and the chart, within ctx.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv, cancel := s.srv, s.cancel
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	return err
}
