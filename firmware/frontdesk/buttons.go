package frontdesk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/gpiokey"
	"hallgw/drivers/windowbus"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
)

// gpioID is the health id of the GPIO buttons.
const gpioID = "gpio"

// buttons are the push buttons on the gateway's GPIO pins: call buttons
// that act as a window's keys, and kiosk buttons that take a ticket.
type buttons struct {
	f      *Frontdesk
	groups []buttonGroup
	names  []string
}

// buttonGroup is one gpiokey.Dev: buttons that share their wiring.
type buttonGroup struct {
	activeHigh bool
	specs      []buttonSpec
}

// buttonSpec is one button: a window's key, or a kiosk's service.
type buttonSpec struct {
	pin      string
	window   string // call button
	key, alt windowbus.Key
	kiosk    *Kiosk // kiosk button
	service  string
}

var buttonKeys = map[string]windowbus.Key{
	"call": windowbus.KeyCall, "recall": windowbus.KeyRecall, "skip": windowbus.KeySkip,
	"hold": windowbus.KeyHold, "pause": windowbus.KeyPause, "resume": windowbus.KeyResume,
	"finish": windowbus.KeyFinish,
}

func newButtons(f *Frontdesk, dv config.Devices, numbers map[string]int) (*buttons, error) {
	b := &buttons{f: f}
	low, high := buttonGroup{}, buttonGroup{activeHigh: true}
	for _, c := range dv.CallButtons {
		if _, ok := numbers[c.Window]; !ok {
			return nil, fmt.Errorf("frontdesk: call button %s: unknown window %q", c.Pin, c.Window)
		}
		key := windowbus.KeyCall
		if c.Key != "" {
			k, ok := buttonKeys[c.Key]
			if !ok {
				return nil, fmt.Errorf("frontdesk: call button %s: unknown key %q", c.Pin, c.Key)
			}
			key = k
		}
		s := buttonSpec{pin: c.Pin, window: c.Window, key: key}
		if c.LongKey != "" {
			s.alt = buttonKeys[c.LongKey]
		}
		if c.ActiveHigh {
			high.specs = append(high.specs, s)
		} else {
			low.specs = append(low.specs, s)
		}
	}
	for _, kc := range dv.Kiosks {
		for _, kb := range kc.Buttons {
			low.specs = append(low.specs, buttonSpec{pin: kb.Pin, kiosk: f.kiosks[kc.ID], service: kb.Service, key: windowbus.KeyCall})
		}
	}
	for _, g := range []buttonGroup{low, high} {
		if len(g.specs) > 0 {
			b.groups = append(b.groups, g)
			for _, s := range g.specs {
				b.names = append(b.names, s.pin)
			}
		}
	}
	if len(b.groups) == 0 {
		return nil, nil
	}
	return b, nil
}

// run opens the pins and watches them until ctx ends. Pins that cannot be
// opened are reported down and tried again every 10 s.
func (b *buttons) run(ctx context.Context) {
	f := b.f
	for ctx.Err() == nil {
		err := b.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("gpio buttons down", "err", err)
		f.d.Health.Update(gpioID, "button", func(d *health.Device) { d.State, d.Reason = health.Down, err.Error() })
		select {
		case <-ctx.Done():
		case <-f.clock.After(10 * time.Second):
		}
	}
}

func (b *buttons) watch(ctx context.Context) error {
	f := b.f
	pins, err := f.o.OpenPins(b.names)
	if err != nil {
		return err
	}
	if len(pins) != len(b.names) {
		return errors.New("frontdesk: gpio: pins missing")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(b.groups))
	i := 0
	for _, g := range b.groups {
		var bs []gpiokey.Button
		for j, s := range g.specs {
			// Window numbers the buttons inside their group.
			bs = append(bs, gpiokey.Button{Pin: pins[i], Window: j + 1, Key: s.key, LongKey: s.alt})
			i++
		}
		o := gpiokey.DefaultOpts
		o.ActiveHigh = g.activeHigh
		if g.activeHigh {
			o.Pull = gpio.PullDown
		}
		dev, err := gpiokey.New(bs, &o)
		if err != nil {
			return err
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			errc <- dev.Run(ctx)
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case p := <-dev.Presses():
					b.pressed(ctx, g.specs[p.Window-1], p)
				}
			}
		}()
	}
	f.d.Health.Update(gpioID, "button", func(d *health.Device) {
		d.State, d.Reason = health.Up, ""
		d.Detail = map[string]any{"buttons": len(b.names)}
	})
	err = <-errc
	cancel()
	wg.Wait()
	if ctx.Err() != nil && err == nil {
		err = ctx.Err()
	}
	return err
}

// pressed acts on a button press.
func (b *buttons) pressed(ctx context.Context, s buttonSpec, p windowbus.Press) {
	f := b.f
	f.d.Health.Update(gpioID, "button", func(d *health.Device) { d.LastSeen = f.d.Now() })
	if s.kiosk != nil {
		if _, err := s.kiosk.Issue(ctx, s.service); err != nil {
			f.log.Info("kiosk button: no ticket", "kiosk", s.kiosk.cfg.ID, "service", s.service, "err", err)
		}
		return
	}
	f.dispatch(ctx, pressJob{p: p, window: s.window})
}
