package powerd

import (
	"context"
	"errors"
	"fmt"

	"hallgw/drivers/serialio"
	"hallgw/drivers/ups"
)

// superviseUPS polls the serial UPS until ctx ends, opening its port again
// after every port error.
func (m *Monitor) superviseUPS(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		err := m.upsSession(ctx, &fails)
		if ctx.Err() != nil {
			return
		}
		fails++
		m.log.Warn("UPS port failed; reopening", "port", m.cfg.UPS.Port, "err", err, "in", m.o.Reopen)
		m.count(errKind(err))
		m.send(ctx, input{ups: &upsSample{at: m.clock.Now(), err: err, stale: fails >= m.staleAfter()}})
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(m.o.Reopen):
		}
	}
}

func (m *Monitor) staleAfter() int {
	if m.o.UPS != nil && m.o.UPS.StaleAfter > 0 {
		return m.o.UPS.StaleAfter
	}
	return ups.DefaultOpts.StaleAfter
}

// upsSession runs one opening of the port until a port error. fails counts
// the failed polls in a row, across sessions.
func (m *Monitor) upsSession(ctx context.Context, fails *int) error {
	port, err := m.o.OpenPort(m.cfg.UPS.Port, m.cfg.UPS.Baud)
	if err != nil {
		return fmt.Errorf("powerd: open %s: %w", m.cfg.UPS.Port, err)
	}
	defer port.Close()
	o := ups.DefaultOpts
	if m.o.UPS != nil {
		o = *m.o.UPS
	}
	o.Clock = m.clock
	o.BatteryNominal = m.cfg.UPS.BatteryNominal
	if o.Baud == 0 {
		o.Baud = m.cfg.UPS.Baud
	}
	dev, err := ups.New(port, &o)
	if err != nil {
		return err
	}
	if r := m.lastReport(); r != nil {
		dev.UseReport(*r)
	}
	defer func() {
		m.mu.Lock()
		m.dev = nil
		m.mu.Unlock()
		dev.Halt()
	}()
	ratings := m.cfg.UPS.BatteryNominal > 0 // the nominal voltage is known
	poll := m.clock.NewTicker(m.cfg.UPS.Poll.D())
	defer poll.Stop()
	for {
		if !ratings {
			// F is optional: a unit that echoes or ignores it gives no
			// battery.charge, and is not asked again this session.
			_, err := dev.Ratings()
			ratings = err == nil || errors.Is(err, ups.ErrUnsupported)
		}
		s, err := dev.Status()
		now := m.clock.Now()
		if err == nil {
			*fails = 0
			m.mu.Lock()
			m.dev = dev
			m.mu.Unlock()
			if m.o.Health != nil {
				m.o.Health.Seen(HealthID, HealthID)
			}
			m.send(ctx, input{ups: &upsSample{at: now, status: s}})
		} else {
			*fails++
			m.count(errKind(err))
			if !errors.Is(err, serialio.ErrTimeout) && !errors.Is(err, ups.ErrGarbled) {
				return err // the port itself failed: reopen it
			}
			m.send(ctx, input{ups: &upsSample{at: now, err: err, stale: *fails >= m.staleAfter()}})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.Chan():
		}
	}
}

func (m *Monitor) count(kind string) {
	if m.o.Health != nil {
		m.o.Health.Count(HealthID, HealthID, kind)
	}
}

// errKind names an error for the health counters.
func errKind(err error) string {
	switch {
	case errors.Is(err, ups.ErrGarbled):
		return "garbled"
	case errors.Is(err, serialio.ErrTimeout):
		return "timeout"
	}
	return "disconnect"
}
