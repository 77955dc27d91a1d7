package uplink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
)

// ComponentOrder is the uplink's place among the daemon's components: after
// the devices, so it stops before them and sees their last health.
const ComponentOrder = 80

func init() {
	daemon.Register("uplink", ComponentOrder, newComponent)
}

var running sync.Map // *daemon.Daemon → *Uplink

// For returns the uplink of a running daemon, nil when it has none (no
// brokers configured).
func For(d *daemon.Daemon) *Uplink {
	v, _ := running.Load(d)
	u, _ := v.(*Uplink)
	return u
}

// PublishedSections are the daemon status sections (daemon.AddStatus) that
// the birth message and the telemetry carry in "extra".
var PublishedSections = []string{"ratings", "firmware", "power", "archive"}

func newComponent(d *daemon.Daemon) (daemon.Component, error) {
	m := d.Cfg.MQTT
	if len(m.Brokers) == 0 {
		return nil, nil
	}
	tc, err := TLSConfig(m.TLS, d.Path)
	if err != nil {
		return nil, err
	}
	cv := ""
	if d.Options.Config != nil {
		cv = d.Options.Config.ConfigVersion()
	}
	opts := Options{
		Brokers: m.Brokers, ClientID: m.ClientID, Username: m.Username, Password: string(m.Password),
		TLS: tc, Topics: NewTopics(m.TopicPrefix, d.Cfg.Gateway.HallID, d.Cfg.Gateway.ID),
		Inflight: m.Inflight, KeepAlive: m.KeepAlive.D(), ReconnectMin: m.ReconnectMin.D(),
		ReconnectMax: m.ReconnectMax.D(), TelemetryEvery: m.TelemetryEvery.D(),
		CommandToken: string(m.CommandToken),
		GatewayID:    d.Cfg.Gateway.ID, HallID: d.Cfg.Gateway.HallID, Journal: d.Journal,
		Cursor: daemon.UplinkCursor, Health: d.Health, Hall: d.Gateway, ApplyConfig: d.ApplyConfig,
		Firmware: d.Version, ConfigVersion: cv, Started: d.Started, DataDir: d.DataDir(),
		Now: d.Now, Logger: d.Logger.With("part", "uplink"),
		Extra: func() map[string]any {
			st := d.Status()
			out := map[string]any{}
			for _, k := range PublishedSections {
				if v, ok := st[k]; ok {
					out[k] = v
				}
			}
			return out
		},
	}
	if d.Gateway == nil {
		opts.Hall = nil
	}
	u, err := New(opts)
	if err != nil {
		return nil, err
	}
	d.OnAlarm(u.Alarm)
	return &component{u: u, d: d}, nil
}

// component keeps For's map in step with the uplink's life.
type component struct {
	u *Uplink
	d *daemon.Daemon
}

func (c *component) Start(ctx context.Context) error {
	running.Store(c.d, c.u)
	return c.u.Start(ctx)
}

func (c *component) Stop(ctx context.Context) error {
	defer running.Delete(c.d)
	return c.u.Stop(ctx)
}

// TLSConfig builds the client TLS configuration of the mqtt.tls section;
// path places the configured files under the daemon's root. It returns nil
// when the section is empty (ssl:// brokers then use the system's CAs).
func TLSConfig(t config.TLS, path func(string) string) (*tls.Config, error) {
	if t == (config.TLS{}) {
		return nil, nil
	}
	if path == nil {
		path = func(p string) string { return p }
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CA != "" {
		pem, err := os.ReadFile(path(t.CA))
		if err != nil {
			return nil, fmt.Errorf("uplink: tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("uplink: tls ca %s: no PEM certificate in it", t.CA)
		}
		tc.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		if t.Cert == "" || t.Key == "" {
			return nil, errors.New("uplink: tls cert and key go together")
		}
		cert, err := tls.LoadX509KeyPair(path(t.Cert), path(t.Key))
		if err != nil {
			return nil, fmt.Errorf("uplink: tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
