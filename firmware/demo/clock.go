package demo

import (
	"context"
	"time"
)

// Clock is simulated time running Speed times faster than real time from
// Start.
type Clock struct {
	Start     time.Time // simulated time at the beginning
	Speed     float64
	realStart time.Time
}

// NewClock starts a clock at start running speed× real time.
func NewClock(start time.Time, speed float64) *Clock {
	if speed <= 0 {
		speed = 1
	}
	return &Clock{Start: start, Speed: speed, realStart: time.Now()}
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	el := time.Since(c.realStart)
	return c.Start.Add(time.Duration(float64(el) * c.Speed))
}

// Real converts a simulated span into real time.
func (c *Clock) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Speed)
}

// SleepUntil waits until simulated time t, or ctx is done.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) error {
	d := c.Real(t.Sub(c.Now()))
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sleep waits for a simulated span.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}
