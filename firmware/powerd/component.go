package powerd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/uplink"
)

// ComponentOrder places the power component among the devices: before the
// uplink, so the uplink stops first and the power records of a shutdown are
// committed before it goes.
const ComponentOrder = 20

// CmdBatteryTest is the platform command that starts (or stops) a battery
// test. Arguments: {"minutes": 40}, {"deep": true} or {"stop": true}; none
// means a 40-minute test.
const CmdBatteryTest = "ups_battery_test"

func init() {
	daemon.Register("power", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, config.PowerOf(d.Cfg), nil)
	})
	uplink.RegisterCommand(CmdBatteryTest, batteryTestCommand)
}

var running sync.Map // *daemon.Daemon → *Monitor

// For returns the power monitor of a running daemon, nil when it has none.
func For(d *daemon.Daemon) *Monitor {
	v, _ := running.Load(d)
	m, _ := v.(*Monitor)
	return m
}

// NewComponent watches the UPS configured in c for the daemon d. It returns
// nil, nil when c configures neither a UPS port nor a contact. o, when not
// nil, supplies what the daemon does not (a clock, fakes for tests); its
// configuration, hall, journal, health and logger are the daemon's.
func NewComponent(d *daemon.Daemon, c config.Power, o *Options) (daemon.Component, error) {
	if !c.Enabled() {
		return nil, nil
	}
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Config, opts.Hall, opts.Journal, opts.Health = c, d.Gateway, d.Journal, d.Health
	opts.Logger = d.Logger.With("part", "power")
	m, err := New(opts)
	if err != nil {
		return nil, err
	}
	running.Store(d, m)
	d.AddStatus("power", func() any { return m.Status() })
	return daemon.Loop(func(ctx context.Context) { m.Run(ctx) }, func() { running.Delete(d) }), nil
}

// testArgs are the arguments of CmdBatteryTest.
type testArgs struct {
	Minutes int  `json:"minutes"`
	Deep    bool `json:"deep"`
	Stop    bool `json:"stop"`
}

// TestReply is the result of CmdBatteryTest.
type TestReply struct {
	Test    *TestStatus `json:"test,omitempty"`
	Stopped bool        `json:"stopped,omitempty"`
}

// parseTestArgs decodes the arguments of CmdBatteryTest strictly: no
// unknown field, nothing after the object, stop alone.
func parseTestArgs(args []byte) (testArgs, error) {
	var a testArgs
	if len(bytes.TrimSpace(args)) == 0 {
		return a, nil
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return testArgs{}, fmt.Errorf("powerd: ups_battery_test: args: %w", err)
	}
	if dec.More() {
		return testArgs{}, errors.New("powerd: ups_battery_test: args: data after the object")
	}
	if a.Stop && (a.Minutes != 0 || a.Deep) {
		return testArgs{}, errors.New("powerd: ups_battery_test: stop takes no other argument")
	}
	return a, nil
}

func batteryTestCommand(ctx context.Context, d *daemon.Daemon, args json.RawMessage) (any, error) {
	a, err := parseTestArgs(args)
	if err != nil {
		return nil, &uplink.CommandError{Code: uplink.CodeInvalid, Msg: err.Error(), Err: err}
	}
	m := For(d)
	if m == nil {
		return nil, &uplink.CommandError{Code: uplink.CodeUnavailable, Msg: "this gateway watches no UPS"}
	}
	if a.Stop {
		if err := m.StopTest(ctx); err != nil {
			return nil, commandError(err)
		}
		return TestReply{Stopped: true, Test: m.Status().LastTest}, nil
	}
	ts, err := m.StartTest(ctx, TestRequest{Minutes: a.Minutes, Deep: a.Deep})
	if err != nil {
		return nil, commandError(err)
	}
	return TestReply{Test: &ts}, nil
}

func commandError(err error) error {
	code := uplink.CodeInvalid
	switch {
	case errors.Is(err, ErrNoSerialUPS):
		code = uplink.CodeUnavailable
	case errors.Is(err, ErrTestRunning), errors.Is(err, ErrNotOnMains), errors.Is(err, ErrUPSNotOpen),
		errors.Is(err, ErrNoTestToStop):
		code = uplink.CodeRejected
	}
	return &uplink.CommandError{Code: code, Msg: err.Error(), Err: err}
}
