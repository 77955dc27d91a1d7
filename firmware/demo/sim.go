package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hallgw/firmware/config"
	"hallgw/hall"
)

// Day is the shape of the simulated day, in local time of day.
type Day struct {
	Open, Close           time.Duration // windows open and close
	FirstArrival, LastArr time.Duration
	// Rate is arrivals per hour for each hour of the day (index = hour).
	Rate [24]float64
}

// DefaultDay is a county hall's weekday: a morning peak, a lunch dip and a
// smaller afternoon peak, about 750 citizens, which keeps the default 20
// windows busy without an endless queue.
var DefaultDay = Day{
	Open: 9 * time.Hour, Close: 17*time.Hour + 30*time.Minute,
	FirstArrival: 8*time.Hour + 40*time.Minute, LastArr: 17 * time.Hour,
	Rate: [24]float64{8: 45, 9: 115, 10: 125, 11: 95, 12: 45, 13: 60, 14: 110, 15: 95, 16: 65},
}

// Mix is the share of arrivals per service id; services not listed share
// what is left equally.
var DefaultMix = map[string]float64{
	"general": 0.38, "estate": 0.09, "social": 0.17, "business": 0.05, "fund": 0.07,
	"delivery": 0.15, "assisted": 0.03, "crossregion": 0.02, "unresolved": 0.02, "complaint": 0.02,
}

// Behaviour holds the odds of what people do.
type Behaviour struct {
	GreenShare    float64 // elderly or disabled citizens
	NoShow        float64 // called citizen never comes
	Transfer      float64 // sent on to another service after this one
	Hold          float64 // sent to fetch a missing document
	ShortBreak    float64 // staff step away after a service
	ServiceSpread float64 // sigma of the log-normal service time
}

// DefaultBehaviour is what a hall sees on an ordinary day.
var DefaultBehaviour = Behaviour{GreenShare: 0.08, NoShow: 0.04, Transfer: 0.04, Hold: 0.02, ShortBreak: 0.02, ServiceSpread: 0.45}

// Sim runs simulated citizens and staff against People.
type Sim struct {
	Cfg       *config.Config
	People    People
	Clock     *Clock
	Loc       *time.Location
	Day       Day
	Mix       map[string]float64
	Behaviour Behaviour
	Seed      uint64
	Logger    *slog.Logger

	// Counters of what the simulation did, for the screen.
	Arrivals, Refused, Presses, Rejected atomic.Int64
}

// midnight returns the start of the local day containing t.
func (s *Sim) midnight(t time.Time) time.Time {
	lt := t.In(s.Loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.Loc)
}

// Run simulates until ctx is done. At the end of the simulated day it starts
// the next one.
func (s *Sim) Run(ctx context.Context) error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.arrivals(ctx) }()
	for i, w := range s.Cfg.Windows {
		wg.Add(1)
		go func() { defer wg.Done(); s.staff(ctx, i, w) }()
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.Canceled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil
	}
	return ctx.Err()
}

func (s *Sim) services() ([]string, []float64) {
	var ids []string
	var w []float64
	left, unlisted := 1.0, 0
	for _, sv := range s.Cfg.Services {
		if m, ok := s.Mix[sv.ID]; ok {
			left -= m
		} else {
			unlisted++
		}
	}
	for _, sv := range s.Cfg.Services {
		ids = append(ids, sv.ID)
		if m, ok := s.Mix[sv.ID]; ok {
			w = append(w, m)
		} else if unlisted > 0 && left > 0 {
			w = append(w, left/float64(unlisted))
		} else {
			w = append(w, 0)
		}
	}
	return ids, w
}

// arrivals is a non-homogeneous Poisson process following Day.Rate.
func (s *Sim) arrivals(ctx context.Context) {
	rng := rand.New(rand.NewPCG(s.Seed, 1))
	ids, weights := s.services()
	var total float64
	for _, w := range weights {
		total += w
	}
	maxRate := 0.0
	for _, r := range s.Day.Rate {
		maxRate = math.Max(maxRate, r)
	}
	if maxRate == 0 || total == 0 {
		return
	}
	// Arrival times follow an absolute timeline, so the time spent issuing
	// a ticket (a journal fsync) never thins the arrivals at high speed.
	next := s.Clock.Now()
	for ctx.Err() == nil {
		day := s.midnight(next)
		first, last := day.Add(s.Day.FirstArrival), day.Add(s.Day.LastArr)
		if next.Before(first) {
			next = first
		}
		if !next.Before(last) {
			next = day.Add(24*time.Hour + s.Day.FirstArrival)
			continue
		}
		// Thinning: draw at the peak rate, keep with rate(t)/peak.
		next = next.Add(time.Duration(rng.ExpFloat64() / maxRate * float64(time.Hour)))
		if s.Clock.SleepUntil(ctx, next) != nil {
			return
		}
		if rng.Float64() > s.Day.Rate[next.In(s.Loc).Hour()]/maxRate {
			continue
		}
		svc := pick(rng, ids, weights, total)
		green := rng.Float64() < s.Behaviour.GreenShare
		s.Arrivals.Add(1)
		if err := s.People.TakeTicket(ctx, svc, green); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Refused.Add(1)
			s.Logger.Debug("ticket refused", "service", svc, "err", err)
		}
	}
}

func pick(rng *rand.Rand, ids []string, w []float64, total float64) string {
	x := rng.Float64() * total
	for i, v := range w {
		if x < v {
			return ids[i]
		}
		x -= v
	}
	return ids[len(ids)-1]
}

// staff is one window's member of staff through the day.
func (s *Sim) staff(ctx context.Context, idx int, w config.Window) {
	rng := rand.New(rand.NewPCG(s.Seed, uint64(idx)+100))
	staffID := fmt.Sprintf("S%03d", w.Number)
	means := map[string]time.Duration{}
	for _, sv := range s.Cfg.Services {
		means[sv.ID] = sv.ServiceTime.D()
	}
	press := func(p Press) (Outcome, error) {
		if err := ctx.Err(); err != nil {
			return Outcome{}, err // the demo is stopping: nobody presses anything
		}
		p.Window = w.ID
		s.Presses.Add(1)
		o, err := s.People.Press(ctx, p)
		if err != nil && ctx.Err() == nil {
			s.Rejected.Add(1)
			s.Logger.Debug("key refused", "window", w.ID, "key", p.Key, "err", err)
		}
		return o, err
	}
	jitter := func(d time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(d) + 1)) }
	for ctx.Err() == nil {
		now := s.Clock.Now()
		day := s.midnight(now)
		open := day.Add(s.Day.Open - 5*time.Minute + jitter(10*time.Minute))
		closeAt := day.Add(s.Day.Close)
		lunch := day.Add(11*time.Hour + 45*time.Minute + jitter(90*time.Minute))
		lunchDone := false
		if !now.Before(closeAt) {
			s.Clock.SleepUntil(ctx, day.Add(24*time.Hour))
			continue
		}
		if now.Before(open) {
			if s.Clock.SleepUntil(ctx, open) != nil {
				return
			}
		}
		for try := 0; try < 3; try++ {
			_, err := press(Press{Key: KeyOpen, Staff: staffID})
			if err == nil || errors.Is(err, hall.ErrBadState) || errors.Is(err, hall.ErrWindowBusy) {
				break // open now, or already open
			}
			if s.Clock.Sleep(ctx, time.Minute) != nil {
				return
			}
		}
		var held []hall.TicketID
		for ctx.Err() == nil && s.Clock.Now().Before(closeAt) {
			// Lunch break, once, between services.
			if !lunchDone && !s.Clock.Now().Before(lunch) {
				lunchDone = true
				if _, err := press(Press{Key: KeyPause, Reason: "午休"}); err == nil {
					s.Clock.Sleep(ctx, 30*time.Minute+jitter(20*time.Minute))
					press(Press{Key: KeyUnpause})
				}
			}
			// A parked citizen who is back goes first.
			if len(held) > 0 && rng.Float64() < 0.3 {
				t := held[0]
				held = held[1:]
				if _, err := press(Press{Key: KeyResume, Ticket: t}); err == nil {
					s.serve(ctx, rng, press, means, w, &held)
					continue
				}
			}
			o, err := press(Press{Key: KeyCallNext})
			if err != nil || o.Ticket == 0 {
				s.Clock.Sleep(ctx, 20*time.Second+jitter(20*time.Second))
				continue
			}
			s.serve(ctx, rng, press, means, w, &held)
		}
		if ctx.Err() != nil {
			return // the demo is stopping, not the hall closing
		}
		// Closing time; whatever is parked expires at the daily reset.
		press(Press{Key: KeyClose})
		s.Clock.SleepUntil(ctx, day.Add(24*time.Hour))
	}
}

// Grades is the share of citizens giving each grade (1 非常满意 … 5 非常不满意);
// the rest do not rate.
var Grades = [5]float64{0.62, 0.26, 0.06, 0.02, 0.01}

// rate has the citizen press a key on the window's pad, or walk away.
func (s *Sim) rate(ctx context.Context, rng *rand.Rand, window string) {
	x := rng.Float64()
	for i, p := range Grades {
		if x < p {
			s.Clock.Sleep(ctx, 5*time.Second+time.Duration(rng.Int64N(int64(20*time.Second))))
			reason := 0
			if i >= 3 {
				reason = 1 + rng.IntN(3)
			}
			if err := s.People.Rate(ctx, window, i+1, reason); err != nil && ctx.Err() == nil {
				s.Rejected.Add(1)
				s.Logger.Debug("rating refused", "window", window, "err", err)
			}
			return
		}
		x -= p
	}
}

// serve handles the window's current ticket from its call to its end.
func (s *Sim) serve(ctx context.Context, rng *rand.Rand, press func(Press) (Outcome, error), means map[string]time.Duration, w config.Window, held *[]hall.TicketID) {
	b := s.Behaviour
	// Walk to the window, or never come.
	if rng.Float64() < b.NoShow {
		for i := 0; i < 2; i++ {
			s.Clock.Sleep(ctx, 40*time.Second)
			press(Press{Key: KeyRecall})
		}
		s.Clock.Sleep(ctx, 40*time.Second)
		press(Press{Key: KeySkip})
		return
	}
	s.Clock.Sleep(ctx, 20*time.Second+time.Duration(rng.Int64N(int64(40*time.Second))))
	o, err := press(Press{Key: KeyStart})
	if err != nil {
		return
	}
	mean := means[w.Services[0]]
	if m, ok := means[o.Service]; ok {
		mean = m
	} else if o.Number != "" {
		for _, sv := range s.Cfg.Services {
			if len(o.Number) > len(sv.Prefix) && o.Number[:len(sv.Prefix)] == sv.Prefix {
				mean = means[sv.ID]
			}
		}
	}
	sigma := b.ServiceSpread
	mu := math.Log(float64(mean)) - sigma*sigma/2
	d := time.Duration(math.Exp(mu + sigma*rng.NormFloat64()))
	if d < 30*time.Second {
		d = 30 * time.Second
	}
	x := rng.Float64()
	switch {
	case x < b.Hold:
		s.Clock.Sleep(ctx, d/3)
		if _, err := press(Press{Key: KeyHold}); err == nil {
			*held = append(*held, o.Ticket)
			return
		}
	case x < b.Hold+b.Transfer:
		s.Clock.Sleep(ctx, d/2)
		to := "delivery"
		if w.Services[0] == "delivery" {
			to = "general"
		}
		if _, err := press(Press{Key: KeyTransfer, To: to}); err == nil {
			return
		}
	}
	s.Clock.Sleep(ctx, d)
	if _, err := press(Press{Key: KeyFinish}); err == nil {
		s.rate(ctx, rng, w.ID)
	}
	if rng.Float64() < b.ShortBreak {
		if _, err := press(Press{Key: KeyPause, Reason: "临时离开"}); err == nil {
			s.Clock.Sleep(ctx, 5*time.Minute+time.Duration(rng.Int64N(int64(10*time.Minute))))
			press(Press{Key: KeyUnpause})
		}
	}
}
