package hall

import "time"

// Bounds that keep the integer arithmetic far from overflow.
const (
	maxAhead = 10000
	maxWait  = 30 * 24 * time.Hour
)

// estimateFor returns the queue-length estimate for a ticket with ahead
// people before it in a queue of mean service time mean served by open
// windows: (ahead+1) × mean ÷ open, as a range of whole minutes (±20 %,
// rounded outward, at least one minute).
func estimateFor(ahead int, mean time.Duration, open int) Estimate {
	if open <= 0 {
		return Estimate{}
	}
	if ahead < 0 {
		ahead = 0
	}
	ahead = min(ahead, maxAhead)
	mean = min(max(mean, 0), maxServiceTime)
	point := time.Duration(ahead+1) * mean / time.Duration(open)
	lo := (point - point/5).Truncate(time.Minute)
	hi := point + point/5
	if r := hi.Truncate(time.Minute); r != hi {
		hi = r + time.Minute
	}
	lo = max(lo, time.Minute)
	hi = max(hi, lo)
	return Estimate{Point: point, Lo: lo, Hi: hi, Known: true}
}

// estimate returns the estimate for ahead people before a ticket in the
// queue of service si.
func (h *Hall) estimate(si, ahead int) Estimate {
	return estimateFor(ahead, h.svcs[si].mean, h.openWindows(si))
}

// estimateAddressed returns the estimate for a ticket addressed to window
// wi, served there in service svc.
func (h *Hall) estimateAddressed(wi int, svc string, ahead int) Estimate {
	if h.wins[wi].state != Open {
		return Estimate{}
	}
	mean := maxServiceTime
	if si, ok := h.svcIdx[svc]; ok {
		mean = h.svcs[si].mean
	} else if len(h.svcs) > 0 {
		mean = h.svcs[0].mean
	}
	return estimateFor(ahead, mean, 1)
}

// ewma returns old + (x−old)·w/100 with x clamped to [0, 24h].
func ewma(old, x time.Duration, w int) time.Duration {
	x = min(max(x, 0), maxServiceTime)
	return old + (x-old)*time.Duration(w)/100
}

// boundaryOn returns the reset instant on the local date y-m-d (d may
// overflow; time.Date normalises it).
func boundaryOn(y int, m time.Month, d int, loc *time.Location, resetAt time.Duration) time.Time {
	hh, mm, ss := int(resetAt/time.Hour), int(resetAt%time.Hour/time.Minute), int(resetAt%time.Minute/time.Second)
	return time.Date(y, m, d, hh, mm, ss, int(resetAt%time.Second), loc)
}

// nextBoundary returns the first instant strictly after t at which the
// local wall clock shows resetAt.
func nextBoundary(t time.Time, loc *time.Location, resetAt time.Duration) time.Time {
	y, m, d := t.In(loc).Date()
	for i := 0; i < 3; i++ {
		if b := boundaryOn(y, m, d+i, loc, resetAt); b.After(t) {
			return b.UTC()
		}
	}
	return t.Add(24 * time.Hour).UTC() // unreachable: some day within three is after t
}

// lastBoundary returns the last instant at or before t at which the local
// wall clock showed resetAt: when the business day containing t began.
func lastBoundary(t time.Time, loc *time.Location, resetAt time.Duration) time.Time {
	y, m, d := t.In(loc).Date()
	for i := 0; i < 3; i++ {
		if b := boundaryOn(y, m, d-i, loc, resetAt); !b.After(t) {
			return b.UTC()
		}
	}
	return t.Add(-24 * time.Hour).UTC() // unreachable
}

// ageAt returns the age in whole years on the local date of now of someone
// born on the calendar date of birth.
func ageAt(birth, now time.Time, loc *time.Location) int {
	by, bm, bd := birth.Date()
	ny, nm, nd := now.In(loc).Date()
	age := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		age--
	}
	return age
}

// bucket returns the index of the wait bucket (3-minute steps, 15+ last).
func bucket(wait time.Duration) int {
	return int(min(max(wait, 0)/(3*time.Minute), 5))
}

func clampWait(d time.Duration) time.Duration { return min(max(d, 0), maxWait) }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
