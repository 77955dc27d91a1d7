package otaupdate

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/daemon"
	"hallgw/firmware/update"
	"hallgw/firmware/uplink"
)

// ComponentOrder places the updater before the uplink (80), so that its
// status section is there for the uplink's first birth message. It finds
// the uplink's connection when it needs one.
const ComponentOrder = 75

// StatusSection is the daemon status section the updater contributes; the
// uplink publishes it in the birth message and the telemetry.
const StatusSection = "firmware"

func init() {
	daemon.Register("firmware-update", ComponentOrder, newComponent)
	uplink.RegisterCommand(Cmd, command)
}

// componentOpts tune the component's transport and retries; tests shorten
// them.
var componentOpts = struct {
	Transport          TransportOpts
	RetryMin, RetryMax time.Duration
}{Transport: DefaultTransportOpts, RetryMin: DefaultOpts.RetryMin, RetryMax: DefaultOpts.RetryMax}

var running sync.Map // *daemon.Daemon → *Updater

// For returns the updater of a running daemon, nil when it has none.
func For(d *daemon.Daemon) *Updater {
	v, _ := running.Load(d)
	u, _ := v.(*Updater)
	return u
}

// Root returns the slot root of a daemon: its Root, or "/".
func Root(d *daemon.Daemon) string {
	if d.Root == "" {
		return "/"
	}
	return filepath.Clean(d.Root)
}

// newComponent makes the updater of a daemon whose root holds firmware
// slots (laid down by hallgw install); without slots there is nothing to
// update and the command answers "unavailable".
func newComponent(d *daemon.Daemon) (daemon.Component, error) {
	slots := update.New(Root(d))
	if _, err := slots.Status(); errors.Is(err, update.ErrNotInstalled) {
		return nil, nil
	}
	root := uplink.NewTopics(d.Cfg.MQTT.TopicPrefix, d.Cfg.Gateway.HallID, d.Cfg.Gateway.ID).Root
	to := componentOpts.Transport
	t, err := NewTransport(func() mqtt.Client {
		if u := uplink.For(d); u != nil {
			return u.Client()
		}
		return nil
	}, root, &to)
	if err != nil {
		return nil, err
	}
	u, err := New(&Opts{
		Slots: slots, DataDir: d.DataDir(), Journal: d.Journal, GatewayID: d.Cfg.Gateway.ID, Link: t,
		Restart:  func(seq uint64) { restart(d, seq) },
		RetryMin: componentOpts.RetryMin, RetryMax: componentOpts.RetryMax,
		Logger: d.Logger.With("part", "firmware"),
	})
	if err != nil {
		return nil, err
	}
	d.AddStatus(StatusSection, func() any { return u.Status() })
	return &component{d: d, u: u, t: t}, nil
}

// restart stops the daemon so that systemd starts the trial, once the
// uplink has delivered the record seq (the platform then knows before the
// gateway goes), or after 5 s without (it is sent after the restart).
func restart(d *daemon.Daemon, seq uint64) {
	deadline := time.Now().Add(restartGrace)
	for time.Now().Before(deadline) {
		u := uplink.For(d)
		if u == nil || u.Acked() >= seq {
			break
		}
		select {
		case <-d.Ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.Fail(daemon.ErrRestart)
}

// restartGrace bounds the wait for the uplink before a restart.
const restartGrace = 5 * time.Second

type component struct {
	d *daemon.Daemon
	u *Updater
	t *Transport
}

func (c *component) Start(ctx context.Context) error {
	running.Store(c.d, c.u)
	return c.u.Start(ctx)
}

func (c *component) Stop(ctx context.Context) error {
	defer running.Delete(c.d)
	err := c.u.Stop(ctx)
	c.t.Close()
	return err
}

// command is the platform's update command: {"version","sha256","size",
// "chunk_size"}. It answers at once; the download, the install and the
// restart follow, each journaled as a firmware record.
func command(ctx context.Context, d *daemon.Daemon, args json.RawMessage) (any, error) {
	o, err := ParseArgs(args)
	if err != nil {
		return nil, &uplink.CommandError{Code: uplink.CodeInvalid, Msg: err.Error(), Err: err}
	}
	u := For(d)
	if u == nil {
		return nil, &uplink.CommandError{Code: uplink.CodeUnavailable, Msg: "this gateway has no firmware slots to update"}
	}
	a, err := u.Offer(ctx, o)
	switch {
	case err == nil:
		return a, nil
	case errors.Is(err, update.ErrTrialPending), errors.Is(err, ErrInstalling), errors.Is(err, ErrNoSpace):
		return nil, &uplink.CommandError{Code: uplink.CodeRejected, Msg: err.Error(), Err: err}
	case errors.Is(err, ErrWire):
		return nil, &uplink.CommandError{Code: uplink.CodeInvalid, Msg: err.Error(), Err: err}
	}
	return nil, err
}
