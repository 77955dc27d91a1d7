package ratings

import (
	"context"
	"sync"

	"hallgw/firmware/daemon"
)

// ComponentOrder places the signer among the daemon's components: early,
// so the uplink (80) finds it when it publishes the birth message.
const ComponentOrder = 30

func init() {
	daemon.Register("ratings", ComponentOrder, newComponent)
}

var running sync.Map // *daemon.Daemon → *Signer

// For returns the signer of a running daemon, nil before it started. The
// uplink publishes its PublicKey in the birth message and its Head in the
// telemetry.
func For(d *daemon.Daemon) *Signer {
	v, _ := running.Load(d)
	s, _ := v.(*Signer)
	return s
}

func newComponent(d *daemon.Daemon) (daemon.Component, error) {
	log := d.Logger.With("part", "ratings")
	key, created, err := LoadOrCreateKey(d.DataDir(), nil)
	if err != nil {
		return nil, err
	}
	s, err := New(Options{Journal: d.Journal, Feed: d.Gateway.Feed(), GatewayID: d.Cfg.Gateway.ID, Key: key, Logger: log})
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("rating key generated", "key_id", s.KeyID(), "public_key_file", PublicKeyFile)
	}
	d.AddStatus("ratings", s.Status)
	return &component{s: s, d: d}, nil
}

type component struct {
	s      *Signer
	d      *daemon.Daemon
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *component) Start(ctx context.Context) error {
	running.Store(c.d, c.s)
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		if err := c.s.Run(ctx); err != nil {
			c.d.Fail(err)
		}
	}()
	return nil
}

func (c *component) Stop(ctx context.Context) error {
	defer running.Delete(c.d)
	c.cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
