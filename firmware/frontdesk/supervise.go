package frontdesk

import (
	"context"
	"errors"
	"io"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/drivers/idcard"
	"hallgw/drivers/serialio"
	"hallgw/drivers/windowbus"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
)

// Reopen back-off bounds: the first retry after a failure waits MinBackoff,
// then the wait doubles up to MaxBackoff, so a device that comes back is
// opened again within MaxBackoff (plus its first exchange).
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = time.Second
)

// serialDev is one supervised serial device.
type serialDev struct {
	id   string // health id, e.g. "kiosk-1/printer"
	kind string // health kind: printer, idcard, barcode, bus
	name string // the configured port: a path or usb:VID:PID[:SERIAL]
	mode serialport.Mode
}

func openSerial(name string, mode serialport.Mode) (io.ReadWriteCloser, error) {
	return serialport.Open(name, mode)
}

// session runs a driver on an open port until the port fails or ctx ends.
// It calls up once the device has answered.
type session func(ctx context.Context, rw io.ReadWriteCloser, up func()) error

// supervise opens dev's port again and again until ctx is done, running
// run on each opening. A failed opening or a session that ends marks the
// device down with the reason; the next opening follows after a back-off
// that is reset once a session has reached its device.
func (f *Frontdesk) supervise(ctx context.Context, dev serialDev, run session) {
	backoff := f.o.Backoff
	var downAt time.Time // real time the current outage began
	for ctx.Err() == nil {
		reached := false
		rw, err := f.o.Open(dev.name, dev.mode)
		if err == nil {
			err = run(ctx, rw, func() {
				reached = true
				if !downAt.IsZero() {
					f.log.Info("device back", "device", dev.id, "port", dev.name,
						"gap", f.clock.Since(downAt).Round(time.Millisecond))
					downAt = time.Time{}
				}
				f.setHealth(dev, func(d *health.Device) {
					if d.State == health.Unknown || d.State == health.Down {
						d.State, d.Reason = health.Up, ""
					}
					d.LastSeen = f.d.Now()
				})
			})
			rw.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if reached {
			backoff = f.o.Backoff
		}
		if err == nil {
			err = errors.New("frontdesk: session ended")
		}
		if downAt.IsZero() {
			downAt = f.clock.Now()
			f.log.Warn("device down; reopening", "device", dev.id, "port", dev.name, "err", err)
		}
		f.setHealth(dev, func(d *health.Device) {
			d.State, d.Reason = health.Down, err.Error()
			if reached {
				count(d, errKind(err))
			}
		})
		select {
		case <-ctx.Done():
			return
		case <-f.clock.After(backoff):
		}
		backoff = min(2*backoff, f.o.MaxBackoff)
	}
}

// setHealth updates dev's health entry.
func (f *Frontdesk) setHealth(dev serialDev, fn func(d *health.Device)) {
	f.d.Health.Update(dev.id, dev.kind, func(d *health.Device) {
		d.Port = dev.name
		fn(d)
	})
}

// count adds n to a device's error counter what.
func count(d *health.Device, what string) { countN(d, what, 1) }

func countN(d *health.Device, what string, n uint64) {
	if n == 0 {
		return
	}
	if d.Errors == nil {
		d.Errors = map[string]uint64{}
	}
	d.Errors[what] += n
}

// errKind names an error for the health counters.
func errKind(err error) string {
	switch {
	case errors.Is(err, serialport.ErrNotFound):
		return "not_found"
	case errors.Is(err, escpos.ErrTimeout), errors.Is(err, windowbus.ErrTimeout), errors.Is(err, serialio.ErrTimeout):
		return "timeout"
	case errors.Is(err, escpos.ErrGarbled), errors.Is(err, windowbus.ErrGarbled),
		errors.Is(err, idcard.ErrFrame), errors.Is(err, idcard.ErrShortFrame):
		return "garbled"
	case errors.Is(err, windowbus.ErrChecksum), errors.Is(err, idcard.ErrChecksum):
		return "crc"
	case errors.Is(err, idcard.ErrSAM):
		return "sam"
	}
	return "disconnect"
}
