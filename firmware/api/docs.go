package api

import (
	"time"

	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// TicketDoc is the JSON form of a ticket. It carries no personal data.
type TicketDoc struct {
	ID          uint64               `json:"id"`
	Number      string               `json:"number"`
	Service     string               `json:"service"`
	Priority    string               `json:"priority"`
	GreenReason string               `json:"green_reason,omitempty"`
	State       string               `json:"state"`
	Window      string               `json:"window,omitempty"`
	IssuedAt    time.Time            `json:"issued_at"`
	CalledAt    *time.Time           `json:"called_at,omitempty"`
	Recalls     int                  `json:"recalls,omitempty"`
	Ahead       int                  `json:"ahead"`
	Estimate    *gateway.EstimateDoc `json:"estimate,omitempty"`
	Appointment string               `json:"appointment,omitempty"`
}

// NewTicketDoc converts a ticket view.
func NewTicketDoc(t hall.TicketView) TicketDoc {
	d := TicketDoc{
		ID: uint64(t.ID), Number: t.Number, Service: t.Service, Priority: t.Priority.String(),
		GreenReason: t.GreenReason, State: t.State.String(), Window: t.Window, IssuedAt: t.IssuedAt.UTC(),
		Recalls: t.Recalls, Ahead: t.Ahead, Estimate: gateway.NewEstimateDoc(t.Estimate), Appointment: t.Appointment,
	}
	if !t.CalledAt.IsZero() {
		c := t.CalledAt.UTC()
		d.CalledAt = &c
	}
	return d
}

// WindowDoc is the JSON form of a window.
type WindowDoc struct {
	ID            string   `json:"id"`
	Number        int      `json:"number"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	KindLabel     string   `json:"kind_label"`
	Services      []string `json:"services"`
	State         string   `json:"state"`
	PauseReason   string   `json:"pause_reason,omitempty"`
	Staff         string   `json:"staff,omitempty"`
	Current       uint64   `json:"current,omitempty"`
	CurrentNumber string   `json:"current_number,omitempty"`
	Held          []uint64 `json:"held,omitempty"`
	Served        int      `json:"served"`
}

// NewWindowDoc converts a window view.
func NewWindowDoc(w hall.WindowView) WindowDoc {
	d := WindowDoc{
		ID: w.ID, Number: w.Number, Name: w.Name, Kind: string(w.Kind), KindLabel: w.Kind.Label(),
		Services: w.Services, State: w.State.String(), PauseReason: w.PauseReason, Staff: w.Staff,
		Current: uint64(w.Current), CurrentNumber: w.CurrentNumber, Served: w.Served,
	}
	for _, id := range w.Held {
		d.Held = append(d.Held, uint64(id))
	}
	return d
}

// ServiceDoc is the JSON form of a service and its queue.
type ServiceDoc struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Prefix      string               `json:"prefix"`
	Waiting     int                  `json:"waiting"`
	Issued      int                  `json:"issued"`
	DailyCap    int                  `json:"daily_cap"`
	OpenWindows int                  `json:"open_windows"`
	MeanService int64                `json:"mean_service_s"`
	Estimate    *gateway.EstimateDoc `json:"estimate"`
}

// StateDoc is the hall at a glance.
type StateDoc struct {
	Day      int          `json:"day"`
	Services []ServiceDoc `json:"services"`
	Windows  []WindowDoc  `json:"windows"`
}

// NewStateDoc reads the hall.
func NewStateDoc(h *hall.Hall) StateDoc {
	day, _ := h.Day()
	st := StateDoc{Day: day}
	for _, s := range h.Services() {
		st.Services = append(st.Services, ServiceDoc{
			ID: s.ID, Name: s.Name, Prefix: s.Prefix, Waiting: s.Waiting, Issued: s.Issued, DailyCap: s.DailyCap,
			OpenWindows: s.OpenWindows, MeanService: int64(s.MeanServiceTime / time.Second), Estimate: gateway.NewEstimateDoc(s.Estimate),
		})
	}
	for _, w := range h.Windows() {
		st.Windows = append(st.Windows, NewWindowDoc(w))
	}
	return st
}

// CountersDoc is one row of statistics, times in seconds.
type CountersDoc struct {
	Issued      int        `json:"issued"`
	Called      int        `json:"called"`
	Served      int        `json:"served"`
	NoShows     int        `json:"no_shows"`
	Transferred int        `json:"transferred"`
	Recalls     int        `json:"recalls"`
	WaitAvg     int64      `json:"wait_avg_s"`
	WaitMax     int64      `json:"wait_max_s"`
	ServiceAvg  int64      `json:"service_avg_s"`
	ServiceMax  int64      `json:"service_max_s"`
	WaitBuckets [6]int     `json:"wait_buckets"`
	Ratings     RatingsDoc `json:"ratings"`
}

// RatingsDoc is the 好差评 count of one row: requested, given per grade
// (1 非常满意 … 5 非常不满意), not rated (未评), and the two rates the
// standard watches; a rate is null while it has no denominator.
type RatingsDoc struct {
	Requested        int      `json:"requested"`
	Grades           [5]int   `json:"grades"`
	NotRated         int      `json:"not_rated"`
	Bad              int      `json:"bad"`
	SatisfactionRate *float64 `json:"satisfaction_rate"`
	NotRatedRate     *float64 `json:"not_rated_rate"`
}

// NewRatingsDoc converts rating counts.
func NewRatingsDoc(c hall.RatingCounts) RatingsDoc {
	d := RatingsDoc{Requested: c.Requested, Grades: c.Grades, NotRated: c.NotRated, Bad: c.Bad()}
	if r, ok := c.SatisfactionRate(); ok {
		d.SatisfactionRate = &r
	}
	if r, ok := c.NotRatedRate(); ok {
		d.NotRatedRate = &r
	}
	return d
}

// StatsDoc is today's statistics per window, service and staff member.
type StatsDoc struct {
	Windows  map[string]CountersDoc `json:"windows"`
	Services map[string]CountersDoc `json:"services"`
	Staff    map[string]CountersDoc `json:"staff"`
	Accuracy struct {
		Samples int     `json:"samples"`
		MAE     int64   `json:"mae_s"`
		Under   int     `json:"under"`
		Within  int     `json:"within"`
		UnderPc float64 `json:"under_pct"`
	} `json:"estimate_accuracy"`
}

// NewStatsDoc converts statistics.
func NewStatsDoc(s hall.Stats) StatsDoc {
	conv := func(m map[string]*hall.Counters) map[string]CountersDoc {
		out := make(map[string]CountersDoc, len(m))
		for k, c := range m {
			d := CountersDoc{
				Issued: c.Issued, Called: c.Called, Served: c.Served, NoShows: c.NoShows, Transferred: c.Transferred,
				Recalls: c.Recalls, WaitMax: int64(c.WaitMax / time.Second), ServiceMax: int64(c.ServiceMax / time.Second),
				WaitBuckets: c.WaitBuckets, Ratings: NewRatingsDoc(c.Ratings),
			}
			if c.Called > 0 {
				d.WaitAvg = int64(c.WaitSum / time.Duration(c.Called) / time.Second)
			}
			if c.Served > 0 {
				d.ServiceAvg = int64(c.ServiceSum / time.Duration(c.Served) / time.Second)
			}
			out[k] = d
		}
		return out
	}
	d := StatsDoc{Windows: conv(s.Windows), Services: conv(s.Services), Staff: conv(s.Staff)}
	d.Accuracy.Samples = s.Accuracy.Samples
	d.Accuracy.MAE = int64(s.Accuracy.MAE() / time.Second)
	d.Accuracy.Under = s.Accuracy.Under
	d.Accuracy.Within = s.Accuracy.Within
	if s.Accuracy.Samples > 0 {
		d.Accuracy.UnderPc = float64(s.Accuracy.Under) * 100 / float64(s.Accuracy.Samples)
	}
	return d
}
