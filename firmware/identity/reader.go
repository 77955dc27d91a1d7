package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/drivers/serialio"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
)

// ReaderOpts configure the supervision of one window's card reader.
type ReaderOpts struct {
	Window string
	// Port and Baud name the serial port (a path or usb:VID:PID[:SERIAL]).
	Port string
	Baud int
	// Poll is the interval between "find card" requests; 0 means 500 ms.
	Poll time.Duration
	// Open opens the port; nil means serialport.Open.
	Open func(name string, baud int) (io.ReadWriteCloser, error)
	// Reopen is the pause after an error before the port is opened again;
	// 0 means 1 s. It may not exceed MaxReopen.
	Reopen time.Duration
	// Driver are the reader's options (timeouts, retries); nil means
	// idcard.DefaultOpts.
	Driver *idcard.Opts
	// Health, when set, receives the reader's health as HealthID(Window).
	Health *health.Registry
}

// MaxReopen is the longest pause before a failed reader is opened again.
const MaxReopen = 2 * time.Second

// HealthID returns the health id of a window's reader.
func HealthID(window string) string { return "window-" + window + "/reader" }

func openSerial(name string, baud int) (io.ReadWriteCloser, error) {
	return serialport.Open(name, serialport.Mode{Baud: baud})
}

// RunReader watches the card reader of one window until ctx ends: every
// card laid on it is a Swipe. On an error the port is closed, the health
// goes down with the reason, and the port is opened again after
// o.Reopen. It returns ctx's error.
func (d *Desk) RunReader(ctx context.Context, o ReaderOpts) error {
	if o.Window == "" || o.Port == "" {
		return errors.New("identity: reader without window or port")
	}
	if o.Baud == 0 {
		o.Baud = 115200
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Open == nil {
		o.Open = openSerial
	}
	if o.Reopen <= 0 {
		o.Reopen = time.Second
	}
	o.Reopen = min(o.Reopen, MaxReopen)
	for {
		err := d.session(ctx, o)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Warn("window card reader failed; reopening", "window", o.Window, "port", o.Port, "err", err, "in", o.Reopen)
		d.health(o, func(dv *health.Device) { dv.State, dv.Reason = health.Down, err.Error() })
		d.count(o, errKind(err))
		t := time.NewTimer(o.Reopen)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// session runs one opening of the port until an error.
func (d *Desk) session(ctx context.Context, o ReaderOpts) error {
	port, err := o.Open(o.Port, o.Baud)
	if err != nil {
		return fmt.Errorf("identity: open %s: %w", o.Port, err)
	}
	defer port.Close()
	// Bytes left on the line from before (a reply cut off by the failure
	// that made us reopen) would be taken for the first answer.
	serialio.Drain(port, 200*time.Millisecond, nil)
	r, err := idcard.New(port, o.Driver)
	if err != nil {
		return err
	}
	if err := r.SAMStatus(ctx); err != nil {
		return err
	}
	d.health(o, func(dv *health.Device) { dv.State, dv.Reason, dv.LastSeen = health.Up, "", d.o.Now() })
	for {
		card, err := r.Poll(ctx, o.Poll)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, idcard.ErrInvalidText):
			d.count(o, "invalid_card")
			d.Unreadable(o.Window)
		case err != nil:
			return err
		default:
			d.health(o, func(dv *health.Device) { dv.State, dv.Reason, dv.LastSeen = health.Up, "", d.o.Now() })
			d.Swipe(ctx, o.Window, card)
		}
	}
}

func (d *Desk) health(o ReaderOpts, fn func(*health.Device)) {
	if o.Health == nil {
		return
	}
	o.Health.Update(HealthID(o.Window), "idcard", func(dv *health.Device) {
		dv.Port = o.Port
		fn(dv)
	})
}

func (d *Desk) count(o ReaderOpts, what string) {
	if o.Health != nil {
		o.Health.Count(HealthID(o.Window), "idcard", what)
	}
}

// errKind names an error for the health counters.
func errKind(err error) string {
	var se *idcard.StatusError
	switch {
	case errors.Is(err, idcard.ErrSAM):
		return "sam"
	case errors.As(err, &se):
		return "status"
	case errors.Is(err, idcard.ErrChecksum), errors.Is(err, idcard.ErrShortFrame), errors.Is(err, idcard.ErrFrame):
		return "garbled"
	case errors.Is(err, serialio.ErrTimeout):
		return "timeout"
	}
	return "disconnect"
}
