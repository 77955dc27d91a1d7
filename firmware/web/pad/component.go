package pad

import (
	"context"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
)

// ComponentOrder places the pad pages among the daemon's components.
const ComponentOrder = 60

// Settings are what the pad takes from the configuration.
type Settings struct {
	Staff  []config.Staff // the `staff:` section
	Thanks time.Duration  // ratings.thanks
	Token  string         // http.token
}

func init() {
	daemon.Register("pad", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, Settings{Staff: d.Cfg.Staff, Thanks: d.Cfg.Ratings.ThanksFor(), Token: string(d.Cfg.HTTP.Token)})
	})
}

// NewComponent mounts the pad pages on the daemon's web server.
func NewComponent(d *daemon.Daemon, s Settings) (daemon.Component, error) {
	h, err := New(Options{Gateway: d.Gateway, Staff: s.Staff, Path: d.Path, Thanks: s.Thanks, Token: s.Token,
		Logger: d.Logger.With("part", "pad")})
	if err != nil {
		return nil, err
	}
	d.Mux.Handle("/pad/", h)
	d.AddStatus("pads", func() any { return map[string]int{"connected": h.Connections()} })
	return component{}, nil
}

// component has nothing to start: the pages live on the daemon's server,
// which closes their connections when it stops.
type component struct{}

func (component) Start(context.Context) error { return nil }
func (component) Stop(context.Context) error  { return nil }
