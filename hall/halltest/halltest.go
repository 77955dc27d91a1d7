// Package halltest provides a sample hall configuration and a simulated
// journal of realistic business days, for the tests and benchmarks of hall
// and of the packages built on it.
package halltest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"hallgw/hall"
)

// Location returns the zone of the sample hall, Asia/Shanghai. It panics if
// the zone database is missing (Go ships one in its own tree).
func Location() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic("halltest: " + err.Error())
	}
	return loc
}

// Config returns a sample hall: six services and eight windows of several
// kinds, the default rules, in Asia/Shanghai.
func Config() hall.Config {
	return hall.Config{
		Services: []hall.ServiceConfig{
			{ID: "social", Name: "社保医保", Prefix: "A", DailyCap: 300, ServiceTime: 6 * time.Minute},
			{ID: "household", Name: "户籍办理", Prefix: "B", DailyCap: 200, ServiceTime: 8 * time.Minute},
			{ID: "business", Name: "商事登记", Prefix: "C", ServiceTime: 12 * time.Minute},
			{ID: "tax", Name: "税务办理", Prefix: "D", ServiceTime: 10 * time.Minute},
			{ID: "delivery", Name: "综合出件", Prefix: "E", ServiceTime: 3 * time.Minute},
			{ID: "unresolved", Name: "办不成事反映", Prefix: "F", DailyCap: 50, ServiceTime: 15 * time.Minute},
		},
		Windows: []hall.WindowConfig{
			{ID: "w1", Number: 1, Name: "综合受理一", Kind: hall.KindIntake, Services: []string{"social", "household"}},
			{ID: "w2", Number: 2, Name: "综合受理二", Kind: hall.KindIntake, Services: []string{"social", "household", "tax"}},
			{ID: "w3", Number: 3, Name: "综合受理三", Kind: hall.KindIntake, Services: []string{"household", "social"}},
			{ID: "w4", Number: 4, Name: "商事税务", Kind: hall.KindDomain, Services: []string{"business", "tax"}},
			{ID: "w5", Number: 5, Name: "商事登记", Kind: hall.KindDomain, Services: []string{"business"}},
			{ID: "w6", Number: 6, Name: "综合出件", Kind: hall.KindDelivery, Services: []string{"delivery"}},
			{ID: "w7", Number: 7, Name: "帮办代办", Kind: hall.KindAssisted, Services: []string{"social", "household", "business"}},
			{ID: "w8", Number: 8, Name: "办不成事", Kind: hall.KindUnresolved, Services: []string{"unresolved"}},
		},
		Rules:    hall.DefaultRules(),
		Location: Location(),
	}
}

// Start is the morning the simulated journal begins: Monday 2 March 2026,
// 07:00 in the sample hall.
func Start() time.Time { return time.Date(2026, 3, 2, 7, 0, 0, 0, Location()) }

// Journal simulates days business days of the sample hall from Start and
// returns every event, beginning with EvConfigApplied. The same seed gives
// the same journal. About 350 tickets a day go through issue, appointment
// check-in, call, recall, start, skip, reactivation, transfer (with and
// without return), hold and resume, pauses and priority changes.
func Journal(days int, seed uint64) ([]hall.Event, error) {
	cfg := Config()
	h, err := hall.New(hall.Config{})
	if err != nil {
		return nil, err
	}
	s := &sim{h: h, cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x68616c6c))}
	if err := s.do(hall.Command{Op: hall.OpApplyConfig, Config: &cfg, Source: "sim"}, Start()); err != nil {
		return nil, err
	}
	for d := 0; d < days; d++ {
		if err := s.day(Start().AddDate(0, 0, d)); err != nil {
			return nil, fmt.Errorf("halltest: day %d: %w", d+1, err)
		}
	}
	return s.events, nil
}

type winSim struct {
	until time.Time // next action of the window
	phase int
}

const (
	phIdle = iota
	phCalled
	phServing
	phPaused
)

type sim struct {
	h      *hall.Hall
	cfg    hall.Config
	rng    *rand.Rand
	events []hall.Event
	now    time.Time
	win    map[string]*winSim
}

// do runs a command; refusals the rules foresee are not errors of the
// simulation, anything else is.
func (s *sim) do(cmd hall.Command, at time.Time) error {
	evs, err := s.h.Do(cmd, at)
	if err != nil {
		var he *hall.Error
		if errors.As(err, &he) && !errors.Is(err, hall.ErrInvalid) && he.Msg[:min(len(he.Msg), 8)] != "internal" {
			return nil
		}
		return fmt.Errorf("%v at %v: %w", cmd.Op, at, err)
	}
	s.events = append(s.events, evs...)
	return nil
}

func (s *sim) day(morning time.Time) error {
	y, m, d := morning.Date()
	at := func(hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, s.cfg.Location) }
	r := s.rng
	// The platform sends the day's appointments.
	var appts []hall.Appointment
	for i := 0; i < 30; i++ {
		start := at(9, 0).Add(time.Duration(r.IntN(15)) * 30 * time.Minute)
		appts = append(appts, hall.Appointment{
			ID: fmt.Sprintf("%04d%02d%02d-%02d", y, m, d, i), Service: s.cfg.Services[r.IntN(4)].ID,
			Start: start, End: start.Add(30 * time.Minute), HolderHash: "holder-" + strconv.Itoa(r.IntN(1e6)),
		})
	}
	if err := s.do(hall.Command{Op: hall.OpLoadAppointments, Appointments: appts, Source: "platform"}, at(8, 0)); err != nil {
		return err
	}
	type pending struct {
		at  time.Time
		cmd hall.Command
	}
	var todo []pending
	for _, a := range appts {
		switch p := r.IntN(10); {
		case p == 0: // never comes
		case p == 1: // comes late
			todo = append(todo, pending{a.End.Add(20 * time.Minute), hall.Command{Op: hall.OpCheckIn, Appointment: a.ID, Source: "kiosk"}})
		default:
			todo = append(todo, pending{a.Start.Add(-time.Duration(r.IntN(25)) * time.Minute), hall.Command{Op: hall.OpCheckIn, HolderHash: a.HolderHash, Source: "kiosk"}})
		}
	}
	s.win = map[string]*winSim{}
	for i, w := range s.cfg.Windows {
		open := at(8, 50)
		if i == 6 {
			open = at(10, 0) // the assisted window opens later
		}
		s.win[w.ID] = &winSim{until: open, phase: -1}
	}
	const step = 15 * time.Second
	weights := []int{30, 25, 12, 12, 15, 2}
	for now := at(8, 45); now.Before(at(17, 45)); now = now.Add(step) {
		s.now = now
		// Arrivals 09:00–16:30, about 45 an hour.
		if !now.Before(at(9, 0)) && now.Before(at(16, 30)) && r.IntN(16) < 3 {
			cmd := hall.Command{Op: hall.OpIssue, Service: s.cfg.Services[pick(r, weights)].ID, Source: "kiosk"}
			switch p := r.IntN(100); {
			case p < 8:
				cmd.BirthDate = time.Date(1950+r.IntN(10), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
			case p < 11:
				cmd.Priority, cmd.GreenReason = hall.Green, "disabled"
			}
			if r.IntN(16) < 3 {
				cmd.Personal = []byte("sealed:" + strconv.Itoa(r.IntN(1e9)))
			}
			if err := s.do(cmd, now.Add(time.Duration(r.IntN(15))*time.Second)); err != nil {
				return err
			}
		}
		for len(todo) > 0 {
			i := slices.IndexFunc(todo, func(p pending) bool { return !p.at.After(now) })
			if i < 0 {
				break
			}
			if err := s.do(todo[i].cmd, now); err != nil {
				return err
			}
			todo = slices.Delete(todo, i, i+1)
		}
		for _, w := range s.cfg.Windows {
			if err := s.window(w, now, at(17, 0)); err != nil {
				return err
			}
		}
		if now.Second() == 0 && now.Minute()%5 == 0 {
			if err := s.do(hall.Command{Op: hall.OpTick}, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func pick(r *rand.Rand, weights []int) int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	n := r.IntN(sum)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func (s *sim) window(w hall.WindowConfig, now, closing time.Time) error {
	ws := s.win[w.ID]
	if now.Before(ws.until) {
		return nil
	}
	r := s.rng
	cmd := func(op hall.Op) hall.Command { return hall.Command{Op: op, Window: w.ID, Source: "window"} }
	view, _ := s.h.Window(w.ID)
	switch {
	case ws.phase == -1: // not yet open today
		c := cmd(hall.OpOpenWindow)
		c.Staff = "staff-" + w.ID
		ws.phase = phIdle
		return s.do(c, now)
	case view.State == hall.Closed:
		return nil
	case ws.phase == phPaused:
		ws.phase = phIdle
		return s.do(cmd(hall.OpUnpause), now)
	case view.Current == 0:
		if !now.Before(closing) {
			if len(view.Held) > 0 {
				c := cmd(hall.OpResume)
				c.Ticket = view.Held[0]
				ws.phase, ws.until = phCalled, now.Add(20*time.Second)
				return s.do(c, now)
			}
			return s.do(cmd(hall.OpCloseWindow), now)
		}
		if len(view.Held) > 0 && r.IntN(20) == 0 {
			c := cmd(hall.OpResume)
			c.Ticket = view.Held[0]
			ws.phase, ws.until = phCalled, now.Add(20*time.Second)
			return s.do(c, now)
		}
		if r.IntN(200) == 0 {
			c := cmd(hall.OpPause)
			c.Reason = "break"
			ws.phase, ws.until = phPaused, now.Add(time.Duration(5+r.IntN(10))*time.Minute)
			return s.do(c, now)
		}
		if r.IntN(100) == 0 {
			if q := s.h.Queue(w.Services[0]); len(q) > 2 && q[len(q)-1].Priority == hall.Normal {
				c := cmd(hall.OpSetPriority)
				c.Ticket, c.Priority = q[len(q)-1].ID, hall.Green
				if err := s.do(c, now); err != nil {
					return err
				}
			}
		}
		if r.IntN(40) == 0 {
			if err := s.reactivate(w, now); err != nil {
				return err
			}
		}
		ws.phase, ws.until = phCalled, now.Add(time.Duration(10+r.IntN(50))*time.Second)
		return s.do(cmd(hall.OpCallNext), now)
	case ws.phase == phCalled || view.State == hall.Open && ws.phase == phIdle:
		t, _ := s.h.Ticket(view.Current)
		if t.State == hall.Serving {
			ws.phase = phServing
			return nil
		}
		switch p := r.IntN(20); {
		case p == 0 && t.Recalls < 3:
			ws.until = now.Add(40 * time.Second)
			return s.do(cmd(hall.OpRecall), now)
		case p == 1:
			ws.phase, ws.until = phIdle, now
			c := cmd(hall.OpSkip)
			c.Reason = "absent"
			return s.do(c, now)
		}
		ws.phase = phServing
		mean := 6 * time.Minute
		for _, sc := range s.cfg.Services {
			if sc.ID == t.Service {
				mean = sc.ServiceTime
			}
		}
		ws.until = now.Add(mean/2 + time.Duration(r.Int64N(int64(mean))))
		return s.do(cmd(hall.OpStart), now)
	default: // serving, time is up
		ws.phase, ws.until = phIdle, now
		switch p := r.IntN(100); {
		case p < 3 && now.Before(closing):
			return s.do(cmd(hall.OpHold), now)
		case p < 6 && now.Before(closing):
			c := cmd(hall.OpTransfer)
			c.Return = r.IntN(3) == 0
			if cur, _ := s.h.Ticket(view.Current); r.IntN(2) == 0 && cur.Service != "delivery" {
				c.ToService = "delivery"
			} else {
				c.ToWindow = "w6"
				if w.ID == "w6" {
					c.ToWindow = "w1"
				}
			}
			return s.do(c, now)
		}
		return s.do(cmd(hall.OpFinish), now)
	}
}

// reactivate brings back a no-show of a service the window serves.
func (s *sim) reactivate(w hall.WindowConfig, now time.Time) error {
	for _, t := range s.h.Tickets() {
		if t.State == hall.NoShow && slices.Contains(w.Services, t.Service) {
			c := hall.Command{Op: hall.OpReactivate, Window: w.ID, Ticket: t.ID, Source: "window"}
			return s.do(c, now)
		}
	}
	return nil
}
