package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/drivers/scanner"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
)

// ComponentOrder places the archive after the privacy keeper and before
// the uplink.
const ComponentOrder = 50

// UplinkClient returns the uplink's current MQTT client of a daemon, nil
// while it has none. The wiring sets it (the uplink owns the connection);
// while it is nil, files wait on disk.
var UplinkClient func(d *daemon.Daemon) mqtt.Client

var running sync.Map // *daemon.Daemon → *Archive

// For returns the archive of a running daemon, nil when it has none.
func For(d *daemon.Daemon) *Archive {
	v, _ := running.Load(d)
	a, _ := v.(*Archive)
	return a
}

// TopicRoot returns the gateway's MQTT topic root as the uplink names it:
// <prefix>/<hall id>/<gateway id>.
func TopicRoot(prefix, hallID, gatewayID string) string {
	prefix = strings.Trim(prefix, "/")
	root := hallID + "/" + gatewayID
	if prefix != "" {
		root = prefix + "/" + root
	}
	return root
}

// ScannerOpts turns a configured scanner into driver options.
func ScannerOpts(ac config.Archive, s config.Scanner, path func(string) string) scanner.Opts {
	ac, s = ac.WithDefaults(), s.WithDefaults()
	o := scanner.Opts{
		Program: ac.Program, Device: s.Device, Resolution: s.Resolution, Mode: s.Mode,
		Format: scanner.Format(s.Format), MaxPages: s.MaxPages, Timeout: s.Timeout.D(),
	}
	if ac.SANEConfigDir != "" {
		o.ConfigDir = ac.SANEConfigDir
		if path != nil {
			o.ConfigDir = path(ac.SANEConfigDir)
		}
	}
	switch s.Source {
	case "adf":
		o.Source, o.Feeder = scanner.ADF, true
	case "flatbed":
		o.Source = scanner.Flatbed
	}
	if s.SourceName != "" {
		o.Source = s.SourceName
	}
	return o
}

// NewComponent opens the archive in <data>/cases with the configured
// scanners and pedals, follows the hall to end the windows' cases, and
// delivers files over the uplink's connection (UplinkClient). It returns
// nil, nil when no scanner is configured and no case waits for delivery.
func NewComponent(d *daemon.Daemon, ac config.Archive, scanners []config.Scanner) (daemon.Component, error) {
	root := filepath.Join(d.DataDir(), "cases")
	if len(scanners) == 0 && !hasCases(root) {
		return nil, nil
	}
	ac = ac.WithDefaults()
	devs := map[string]Device{}
	for _, s := range scanners {
		dev, err := scanner.New(ptr(ScannerOpts(ac, s, d.Path)))
		if err != nil {
			return nil, fmt.Errorf("archive: window %s: %w", s.Window, err)
		}
		devs[s.Window] = dev
	}
	o := Opts{
		Root: root, GatewayID: d.Cfg.Gateway.ID, Devices: devs, Journal: d.Journal, Health: d.Health,
		MaxBytes: int64(ac.MaxBytes), MinFree: int64(ac.MinFree), ChunkSize: int(ac.ChunkSize),
		AckTimeout: ac.AckTimeout.D(), DeliverWithin: ac.DeliverWithin.D(), Now: d.Now,
		Logger: d.Logger.With("part", "archive"),
	}
	if d.Gateway != nil {
		o.Hall = d.Gateway
	}
	t, err := NewMQTTTransport(MQTTOptions{
		Client: func() mqtt.Client {
			if UplinkClient == nil {
				return nil
			}
			return UplinkClient(d)
		},
		Root: TopicRoot(d.Cfg.MQTT.TopicPrefix, d.Cfg.Gateway.HallID, d.Cfg.Gateway.ID),
	})
	if err != nil {
		return nil, err
	}
	o.Transport = t
	a, err := Open(d.Ctx, o)
	if err != nil {
		return nil, err
	}
	running.Store(d, a)
	d.AddStatus("archive", func() any { return a.Status() })
	return &component{d: d, a: a, scanners: scanners}, nil
}

func ptr[T any](v T) *T { return &v }

func hasCases(root string) bool {
	ents, err := os.ReadDir(root)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.IsDir() && ValidCase(e.Name()) {
			return true
		}
	}
	return false
}

type component struct {
	d        *daemon.Daemon
	a        *Archive
	scanners []config.Scanner
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	pedals   []*scanner.Pedal
}

func (c *component) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.a.Run(ctx)
	}()
	if g := c.d.Gateway; g != nil {
		from := g.Journal().Committed() + 1 // no event between Start and the goroutine is missed
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			err := g.Feed().Follow(ctx, from, func(ev gateway.Committed) error {
				c.a.Observe(ev.Event)
				return nil
			})
			if err != nil && ctx.Err() == nil && !errors.Is(err, gateway.ErrClosed) {
				c.a.log.Warn("archive: hall feed", "err", err)
			}
		}()
	}
	for _, s := range c.scanners {
		if s.Pedal == "" {
			continue
		}
		c.startPedal(ctx, s)
	}
	return nil
}

// startPedal watches a scanner's foot pedal; a pedal that cannot be opened
// is reported in health and does not stop the gateway.
func (c *component) startPedal(ctx context.Context, s config.Scanner) {
	id := "window-" + s.Window + "/pedal"
	fail := func(err error) {
		c.a.log.Error("foot pedal unavailable", "window", s.Window, "pin", s.Pedal, "err", err)
		c.d.Health.Update(id, "pedal", func(dv *health.Device) { dv.State, dv.Reason, dv.Port = health.Down, err.Error(), s.Pedal })
	}
	pin, err := scanner.OpenPin(s.Pedal)
	if err != nil {
		fail(err)
		return
	}
	p, err := scanner.NewPedal(pin, &scanner.PedalOpts{ActiveHigh: s.PedalActiveHigh})
	if err != nil {
		fail(err)
		return
	}
	c.pedals = append(c.pedals, p)
	c.d.Health.Update(id, "pedal", func(dv *health.Device) { dv.State, dv.Reason, dv.Port = health.Up, "", s.Pedal })
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := p.Run(ctx, func(time.Time) { c.a.Trigger(ctx, s.Window) })
		if err != nil && ctx.Err() == nil && !errors.Is(err, scanner.ErrHalted) {
			fail(err)
		}
	}()
}

func (c *component) Stop(ctx context.Context) error {
	defer running.Delete(c.d)
	if c.cancel != nil {
		c.cancel()
	}
	for _, p := range c.pedals {
		p.Halt()
	}
	for _, dev := range c.a.o.Devices {
		if h, ok := dev.(interface{ Halt() error }); ok {
			h.Halt()
		}
	}
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.a.Close()
}
