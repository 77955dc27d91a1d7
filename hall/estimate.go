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
	return estimateMilli(ahead, mean, int64(open)*1000)
}

// estimateMilli is estimateFor with the number of windows in thousandths,
// so that a window shared between several services counts for its share.
func estimateMilli(ahead int, mean time.Duration, milliServers int64) Estimate {
	if milliServers <= 0 {
		return Estimate{}
	}
	if ahead < 0 {
		ahead = 0
	}
	ahead = min(ahead, maxAhead)
	mean = min(max(mean, 0), maxServiceTime)
	// (ahead+1) × mean ÷ (milliServers/1000), without overflow: a tiny
	// share of one window would otherwise multiply past int64.
	x := int64(ahead+1) * int64(mean)
	var point time.Duration
	if q := x / milliServers; q > int64(maxWait)/1000 {
		point = maxWait
	} else {
		point = min(time.Duration(q*1000+x%milliServers*1000/milliServers), maxWait)
	}
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
	return estimateMilli(ahead, h.svcs[si].mean, h.servers(si, ahead))
}

// servers returns how many windows, in thousandths, will work on service si
// until a ticket with ahead people before it is called. A window that serves
// only si counts whole. A window that also serves other services splits its
// time: call-next spreads it over its queues by their pressure, so it gives
// si the share that si's work up to that ticket ((ahead+1) × the mean
// service time) is of all the work waiting for it (plus the other queues'
// tickets × their means). A shared window whose other queues are empty
// counts whole; one shared with an equally loaded queue counts half.
// Integer arithmetic keeps replays bit-identical.
func (h *Hall) servers(si, ahead int) int64 {
	id := h.cfg.Services[si].ID
	secs := func(sj int) int64 { return int64(max(h.svcs[sj].mean/time.Second, 1)) }
	mine := int64(min(max(ahead, 0), maxAhead)+1) * secs(si)
	var total int64
	for wi := range h.wins {
		if h.wins[wi].state != Open || !h.serves(wi, id) {
			continue
		}
		sum := mine
		for _, sid := range h.cfg.Windows[wi].Services {
			if sj, ok := h.svcIdx[sid]; ok && sj != si {
				sum += int64(len(h.svcs[sj].queue)) * secs(sj)
			}
		}
		total += max(mine*1000/sum, 1)
	}
	return total
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
