package web

import (
	"context"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
)

// ComponentOrder places the pages among the daemon's components: after
// the devices and the uplink, whose state they show, so they stop first.
const ComponentOrder = 90

func init() {
	daemon.Register("web", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, d.Cfg.Web)
	})
}

// NewComponent makes the pages of a daemon with the web section cfg: it
// mounts the public pages on d.Mux and adds a "web" status section; the
// status listener starts with the component.
func NewComponent(d *daemon.Daemon, cfg config.Web) (daemon.Component, error) {
	loc, err := d.Cfg.Location()
	if err != nil {
		return nil, err
	}
	var kiosks []string
	for _, k := range d.Cfg.Devices.Kiosks {
		kiosks = append(kiosks, k.ID)
	}
	cv := ""
	if d.Config != nil {
		cv = d.Config.ConfigVersion()
	}
	s, err := New(Options{
		Config: cfg, Gateway: d.Gateway, Health: d.Health, Status: d.Status,
		HallName: d.Cfg.Gateway.HallName, GatewayID: d.Cfg.Gateway.ID, Version: d.Version, ConfigVersion: cv,
		Started: d.Started, Kiosks: kiosks, UplinkCursor: daemon.UplinkCursor, Location: loc, Now: d.Now,
		Done: d.Ctx.Done(), Logger: d.Logger.With("part", "web"),
	})
	if err != nil {
		return nil, err
	}
	s.Register(d.Mux)
	d.AddStatus("web", func() any { return s.Info() })
	return component{s}, nil
}

type component struct{ s *Server }

func (c component) Start(ctx context.Context) error { return c.s.Start(ctx) }
func (c component) Stop(ctx context.Context) error  { return c.s.Stop(ctx) }
