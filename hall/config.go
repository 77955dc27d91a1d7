package hall

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// ServiceConfig is one service (事项类别) tickets are issued for.
type ServiceConfig struct {
	ID, Name, Prefix string        // Prefix: 1–3 upper-case letters, e.g. "A"
	DailyCap         int           // 0 = no cap (限号); counts walk-in tickets, not appointments
	ServiceTime      time.Duration // initial mean service time for the estimate (> 0)
}

// WindowConfig is one window (窗口).
type WindowConfig struct {
	ID       string
	Number   int    // shown and spoken: "请 A012 到 3 号窗口"
	Name     string //
	Kind     WindowKind
	Services []string // IDs of the services it serves, in preference order
}

// Rules are the hall-wide queueing rules.
type Rules struct {
	ResetAt          time.Duration // local time of day at which numbering resets (4h = 04:00)
	NumberWidth      int           // digits after the prefix (3 → A001), 1–6
	PriorityRatio    int           // max consecutive priority calls per window while normal tickets wait (≥ 1)
	ElderlyAge       int           // green channel from this age (from the ID card's birth date); 0 = off
	RecallMax        int           // max recalls per call
	RecallMinGap     time.Duration // min time between two calls of the same ticket
	TurnNearAhead    int           // emit EvTurnNear when people ahead reaches this; 0 = off
	AppointmentEarly time.Duration // check-in allowed this long before the slot starts
	AppointmentLate  time.Duration // … and this long after it ends; later → a normal ticket
	ReactivateWithin time.Duration // a no-show may be reactivated within this time; 0 = always (that day)
	EWMAWeight       int           // percent weight of the newest service time in the EWMA, 1–100
	CarryOver        bool          // keep waiting, called and held tickets across the daily reset
}

// Config is the configuration of a hall.
type Config struct {
	Services []ServiceConfig
	Windows  []WindowConfig
	Rules    Rules
	// Location is the hall's time zone (day boundary, reset time, ages);
	// nil means UTC. It must be loadable by name with time.LoadLocation
	// (e.g. "Asia/Shanghai") so that a replay on another machine sees the
	// same zone; time.Local and fixed zones are refused.
	Location *time.Location
	// Ratings configure the 好差评 requests (rating.go); the zero value
	// requests none.
	Ratings RatingRules
}

// DefaultRules returns the rules a hall starts from: reset at 04:00, three
// digits, two priority calls per normal one, green channel from 60, three
// recalls at least 30 s apart, SMS at three people ahead, check-in from 30
// minutes before the slot to 15 minutes after it, no-shows reactivated
// within 30 minutes, EWMA weight 20 %, no carry-over.
func DefaultRules() Rules {
	return Rules{
		ResetAt:          4 * time.Hour,
		NumberWidth:      3,
		PriorityRatio:    2,
		ElderlyAge:       60,
		RecallMax:        3,
		RecallMinGap:     30 * time.Second,
		TurnNearAhead:    3,
		AppointmentEarly: 30 * time.Minute,
		AppointmentLate:  15 * time.Minute,
		ReactivateWithin: 30 * time.Minute,
		EWMAWeight:       20,
	}
}

// isZero reports whether c is the empty configuration New accepts for a
// hall that will be configured by its first event.
func (c Config) isZero() bool {
	return len(c.Services) == 0 && len(c.Windows) == 0 && c.Rules == (Rules{}) && c.Location == nil &&
		c.Ratings.isZero()
}

const maxServiceTime = 24 * time.Hour

// Validate checks the configuration and returns a *ConfigError naming the
// first offending field, or nil.
func (c Config) Validate() error {
	if err := checkLocation(c.Location); err != nil {
		return err
	}
	svc := make(map[string]bool, len(c.Services))
	prefixes := make(map[string]int, len(c.Services))
	for i, s := range c.Services {
		f := "services[" + strconv.Itoa(i) + "]"
		switch {
		case s.ID == "":
			return cfgErr(f+".id", "empty")
		case svc[s.ID]:
			return cfgErr(f+".id", "duplicate service %q", s.ID)
		case s.Name == "":
			return cfgErr(f+".name", "empty")
		case !validPrefix(s.Prefix):
			return cfgErr(f+".prefix", "%q is not 1–3 upper-case letters A–Z", s.Prefix)
		case s.DailyCap < 0:
			return cfgErr(f+".daily_cap", "negative (%d)", s.DailyCap)
		case s.ServiceTime <= 0 || s.ServiceTime > maxServiceTime:
			return cfgErr(f+".service_time", "%v is not in (0, 24h]", s.ServiceTime)
		}
		if j, dup := prefixes[s.Prefix]; dup {
			return cfgErr(f+".prefix", "%q already used by services[%d]", s.Prefix, j)
		}
		svc[s.ID] = true
		prefixes[s.Prefix] = i
	}
	wins := make(map[string]bool, len(c.Windows))
	numbers := make(map[int]int, len(c.Windows))
	for i, w := range c.Windows {
		f := "windows[" + strconv.Itoa(i) + "]"
		switch {
		case w.ID == "":
			return cfgErr(f+".id", "empty")
		case wins[w.ID]:
			return cfgErr(f+".id", "duplicate window %q", w.ID)
		case w.Number <= 0 || w.Number > 9999:
			return cfgErr(f+".number", "%d is not in 1–9999", w.Number)
		case !w.Kind.Valid():
			return cfgErr(f+".kind", "unknown kind %q", w.Kind)
		}
		if j, dup := numbers[w.Number]; dup {
			return cfgErr(f+".number", "%d already used by windows[%d]", w.Number, j)
		}
		seen := make(map[string]bool, len(w.Services))
		for k, id := range w.Services {
			sf := f + ".services[" + strconv.Itoa(k) + "]"
			if !svc[id] {
				return cfgErr(sf, "unknown service %q", id)
			}
			if seen[id] {
				return cfgErr(sf, "service %q listed twice", id)
			}
			seen[id] = true
		}
		wins[w.ID] = true
		numbers[w.Number] = i
	}
	r := c.Rules
	switch {
	case r.ResetAt < 0 || r.ResetAt >= 24*time.Hour:
		return cfgErr("rules.reset_at", "%v is not a time of day in [0, 24h)", r.ResetAt)
	case r.NumberWidth < 1 || r.NumberWidth > 6:
		return cfgErr("rules.number_width", "%d is not in 1–6", r.NumberWidth)
	case r.PriorityRatio < 1 || r.PriorityRatio > 1000:
		return cfgErr("rules.priority_ratio", "%d is not in 1–1000", r.PriorityRatio)
	case r.ElderlyAge < 0 || r.ElderlyAge > 150:
		return cfgErr("rules.elderly_age", "%d is not in 0–150", r.ElderlyAge)
	case r.RecallMax < 0 || r.RecallMax > 100:
		return cfgErr("rules.recall_max", "%d is not in 0–100", r.RecallMax)
	case r.RecallMinGap < 0 || r.RecallMinGap > time.Hour:
		return cfgErr("rules.recall_min_gap", "%v is not in [0, 1h]", r.RecallMinGap)
	case r.TurnNearAhead < 0 || r.TurnNearAhead > 1000:
		return cfgErr("rules.turn_near_ahead", "%d is not in 0–1000", r.TurnNearAhead)
	case r.AppointmentEarly < 0 || r.AppointmentEarly > 24*time.Hour:
		return cfgErr("rules.appointment_early", "%v is not in [0, 24h]", r.AppointmentEarly)
	case r.AppointmentLate < 0 || r.AppointmentLate > 24*time.Hour:
		return cfgErr("rules.appointment_late", "%v is not in [0, 24h]", r.AppointmentLate)
	case r.ReactivateWithin < 0 || r.ReactivateWithin > 24*time.Hour:
		return cfgErr("rules.reactivate_within", "%v is not in [0, 24h]", r.ReactivateWithin)
	case r.EWMAWeight < 1 || r.EWMAWeight > 100:
		return cfgErr("rules.ewma_weight", "%d is not in 1–100", r.EWMAWeight)
	}
	return c.Ratings.validate()
}

func validPrefix(p string) bool {
	if len(p) < 1 || len(p) > 3 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'A' || p[i] > 'Z' {
			return false
		}
	}
	return true
}

func checkLocation(loc *time.Location) error {
	if loc == nil || loc == time.UTC {
		return nil
	}
	name := loc.String()
	if loc == time.Local || name == "Local" {
		return cfgErr("location", "the machine's local zone cannot be replayed elsewhere; name the zone, e.g. Asia/Shanghai")
	}
	if _, err := loadLocation(name); err != nil {
		return cfgErr("location", "%q is not a loadable time zone name", name)
	}
	return nil
}

// zones caches the locations loaded by name: replays and restores decode
// the configuration often, and loading a zone reads the zone database.
var zones sync.Map // string → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, errors.New("local zone refused")
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// clone returns a deep copy of c.
func (c Config) clone() Config {
	out := c
	out.Services = append([]ServiceConfig(nil), c.Services...)
	out.Windows = make([]WindowConfig, len(c.Windows))
	for i, w := range c.Windows {
		w.Services = append([]string(nil), w.Services...)
		out.Windows[i] = w
	}
	if len(c.Windows) == 0 {
		out.Windows = nil
	}
	out.Ratings = c.Ratings.clone()
	return out
}

const configVersion = 1

// MarshalBinary encodes the configuration deterministically (the payload of
// EvConfigApplied). The location is stored by name.
func (c Config) MarshalBinary() ([]byte, error) {
	if err := checkLocation(c.Location); err != nil {
		return nil, err
	}
	w := &wbuf{b: make([]byte, 0, 128)}
	c.encode(w)
	return w.b, w.err
}

func (c Config) encode(w *wbuf) {
	ratings := !c.Ratings.isZero()
	if ratings {
		w.byte(ratingsVersion) // the rating rules follow the windows
	} else {
		w.byte(configVersion)
	}
	name := ""
	if c.Location != nil && c.Location != time.UTC && c.Location.String() != "UTC" {
		name = c.Location.String()
	}
	w.str(name)
	r := c.Rules
	w.dur(r.ResetAt)
	w.int(r.NumberWidth)
	w.int(r.PriorityRatio)
	w.int(r.ElderlyAge)
	w.int(r.RecallMax)
	w.dur(r.RecallMinGap)
	w.int(r.TurnNearAhead)
	w.dur(r.AppointmentEarly)
	w.dur(r.AppointmentLate)
	w.dur(r.ReactivateWithin)
	w.int(r.EWMAWeight)
	w.bool(r.CarryOver)
	w.uvarint(uint64(len(c.Services)))
	for _, s := range c.Services {
		w.str(s.ID)
		w.str(s.Name)
		w.str(s.Prefix)
		w.int(s.DailyCap)
		w.dur(s.ServiceTime)
	}
	w.uvarint(uint64(len(c.Windows)))
	for _, win := range c.Windows {
		w.str(win.ID)
		w.int(win.Number)
		w.str(win.Name)
		w.str(string(win.Kind))
		w.uvarint(uint64(len(win.Services)))
		for _, s := range win.Services {
			w.str(s)
		}
	}
	if ratings {
		c.Ratings.encode(w)
	}
}

// UnmarshalBinary decodes what MarshalBinary wrote. It does not validate;
// call Validate.
func (c *Config) UnmarshalBinary(data []byte) error {
	r := &rbuf{b: data}
	out, err := decodeConfig(r)
	if err != nil {
		return err
	}
	*c = out
	return nil
}

func decodeConfig(r *rbuf) (Config, error) {
	var c Config
	version := r.byte()
	if r.err == nil && version != configVersion && version != ratingsVersion {
		return c, fmt.Errorf("hall: config encoding version %d not supported", version)
	}
	name := r.str()
	c.Rules.ResetAt = r.dur()
	c.Rules.NumberWidth = r.int()
	c.Rules.PriorityRatio = r.int()
	c.Rules.ElderlyAge = r.int()
	c.Rules.RecallMax = r.int()
	c.Rules.RecallMinGap = r.dur()
	c.Rules.TurnNearAhead = r.int()
	c.Rules.AppointmentEarly = r.dur()
	c.Rules.AppointmentLate = r.dur()
	c.Rules.ReactivateWithin = r.dur()
	c.Rules.EWMAWeight = r.int()
	c.Rules.CarryOver = r.bool()
	if n := r.count(5); n > 0 {
		c.Services = make([]ServiceConfig, n)
		for i := range c.Services {
			s := &c.Services[i]
			s.ID = r.str()
			s.Name = r.str()
			s.Prefix = r.str()
			s.DailyCap = r.int()
			s.ServiceTime = r.dur()
		}
	}
	if n := r.count(5); n > 0 {
		c.Windows = make([]WindowConfig, n)
		for i := range c.Windows {
			w := &c.Windows[i]
			w.ID = r.str()
			w.Number = r.int()
			w.Name = r.str()
			w.Kind = WindowKind(r.str())
			if k := r.count(1); k > 0 {
				w.Services = make([]string, k)
				for j := range w.Services {
					w.Services[j] = r.str()
				}
			}
		}
	}
	if version == ratingsVersion {
		c.Ratings = decodeRatingRules(r)
		if r.err == nil && c.Ratings.isZero() {
			return Config{}, errors.New("hall: bad config encoding: version 2 without rating rules")
		}
	}
	if r.err != nil {
		return Config{}, fmt.Errorf("hall: bad config encoding: %w", r.err)
	}
	if name != "" {
		loc, err := loadLocation(name)
		if err != nil {
			return Config{}, fmt.Errorf("hall: config location %q: %w", name, err)
		}
		c.Location = loc
	}
	return c, nil
}
