package uplink

import (
	"math/rand/v2"
	"time"
)

// Backoff computes jittered exponential reconnect delays: attempt n waits a
// random time in [d/2, d] with d = Min·2ⁿ capped at Max, so a hall full of
// gateways that lost the same broker does not come back in lockstep.
type Backoff struct {
	Min, Max time.Duration
	Rand     *rand.Rand // nil: a randomly seeded source
}

// Delay returns the wait before reconnect attempt n (0 for the first retry).
func (b *Backoff) Delay(n int) time.Duration {
	if b.Rand == nil {
		b.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(b.Rand.Int64N(int64(d-half)+1))
}
