package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"hallgw/hall"
)

// HallConfig returns the queue rules, services and windows in the form the
// hall package takes.
func (c *Config) HallConfig() (hall.Config, error) { return c.hallConfig() }

func (c *Config) hallConfig() (hall.Config, error) {
	loc, err := c.Location()
	if err != nil {
		return hall.Config{}, err
	}
	q := c.Queue
	hc := hall.Config{
		Location: loc,
		Rules: hall.Rules{
			ResetAt:          q.ResetAt.D(),
			NumberWidth:      q.NumberWidth,
			PriorityRatio:    q.PriorityRatio,
			ElderlyAge:       q.ElderlyAge,
			RecallMax:        q.RecallMax,
			RecallMinGap:     q.RecallMinGap.D(),
			TurnNearAhead:    q.TurnNearAhead,
			AppointmentEarly: q.AppointmentEarly.D(),
			AppointmentLate:  q.AppointmentLate.D(),
			ReactivateWithin: q.ReactivateWithin.D(),
			EWMAWeight:       q.EWMAWeight,
			CarryOver:        q.CarryOver,
		},
	}
	hc.Ratings = c.Ratings.HallRules()
	for _, s := range c.Services {
		hc.Services = append(hc.Services, hall.ServiceConfig{
			ID: s.ID, Name: s.Name, Prefix: s.Prefix, DailyCap: s.DailyCap, ServiceTime: s.ServiceTime.D(),
		})
	}
	for _, w := range c.Windows {
		hc.Windows = append(hc.Windows, hall.WindowConfig{
			ID: w.ID, Number: w.Number, Name: w.Name, Kind: hall.WindowKind(w.Kind),
			Services: append([]string(nil), w.Services...),
		})
	}
	return hc, nil
}

// hallFieldError maps the hall package's field path ("rules.x") onto the
// file's ("queue.x").
func hallFieldError(err error) *FieldError {
	var ce *hall.ConfigError
	if errors.As(err, &ce) {
		p := ce.Field
		if rest, ok := strings.CutPrefix(p, "rules."); ok {
			p = "queue." + rest
		} else if p == "rules" {
			p = "queue"
		}
		return &FieldError{Path: p, Msg: ce.Msg}
	}
	return &FieldError{Msg: err.Error()}
}

// ResizeWindows returns n windows: the first ones as given, more made by
// repeating their kinds and services (numbered on), for sizing a hall in
// the demo and the footprint benchmark.
func ResizeWindows(ws []Window, n int) []Window {
	if n <= len(ws) {
		return append([]Window(nil), ws[:n]...)
	}
	out := append([]Window(nil), ws...)
	for i := len(ws); i < n; i++ {
		src := ws[i%len(ws)]
		num := i + 1
		out = append(out, Window{
			ID: strconv.Itoa(num), Number: num, Name: fmt.Sprintf("%s%d", src.Name, num), Kind: src.Kind,
			Services: append([]string(nil), src.Services...),
		})
	}
	return out
}
