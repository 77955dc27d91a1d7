package gateway

import (
	"time"

	"hallgw/hall"
)

// EventDoc is the JSON form of a committed hall event, shared by the local
// API, the pages and the uplink. It never carries personal data: the
// event's sealed personal blob stays in the journal.
type EventDoc struct {
	ID          string       `json:"id"`
	Seq         uint64       `json:"seq"`
	Type        string       `json:"type"`
	At          time.Time    `json:"at"`
	Ticket      uint64       `json:"ticket,omitempty"`
	Number      string       `json:"number,omitempty"`
	Service     string       `json:"service,omitempty"`
	Window      string       `json:"window,omitempty"`
	ToService   string       `json:"to_service,omitempty"`
	ToWindow    string       `json:"to_window,omitempty"`
	Staff       string       `json:"staff,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Appointment string       `json:"appointment,omitempty"`
	Source      string       `json:"source,omitempty"`
	Priority    string       `json:"priority,omitempty"`
	Return      bool         `json:"return,omitempty"`
	Count       int          `json:"count,omitempty"`
	Ahead       *int         `json:"ahead,omitempty"`
	Estimate    *EstimateDoc `json:"estimate,omitempty"`
	Appts       int          `json:"appointments,omitempty"`
	Case        string       `json:"case,omitempty"`
	Rating      uint64       `json:"rating,omitempty"`
	Grade       int          `json:"grade,omitempty"` // 1 非常满意 … 5 非常不满意
	Reasons     []string     `json:"reasons,omitempty"`
	Due         *time.Time   `json:"due,omitempty"`
}

// EstimateDoc is a wait estimate in whole seconds.
type EstimateDoc struct {
	Known bool  `json:"known"`
	Point int64 `json:"point_s"`
	Lo    int64 `json:"lo_s"`
	Hi    int64 `json:"hi_s"`
}

// NewEstimateDoc converts an estimate.
func NewEstimateDoc(e hall.Estimate) *EstimateDoc {
	return &EstimateDoc{Known: e.Known, Point: int64(e.Point / time.Second), Lo: int64(e.Lo / time.Second), Hi: int64(e.Hi / time.Second)}
}

// Doc returns the JSON form of c.
func (c Committed) Doc() EventDoc {
	e := c.Event
	d := EventDoc{
		ID: c.ID, Seq: c.Seq, Type: e.Type.String(), At: e.At.UTC(),
		Ticket: uint64(e.Ticket), Number: e.Number, Service: e.Service, Window: e.Window,
		ToService: e.ToService, ToWindow: e.ToWindow, Staff: e.Staff, Reason: e.Reason,
		Appointment: e.Appointment, Source: e.Source, Return: e.Return, Count: e.Count,
		Appts: len(e.Appointments), Case: e.Case, Rating: uint64(e.Rating), Grade: int(e.Grade),
		Reasons: e.Reasons,
	}
	if !e.Due.IsZero() {
		due := e.Due.UTC()
		d.Due = &due
	}
	if e.Ticket != 0 {
		d.Priority = e.Priority.String()
	}
	switch e.Type {
	case hall.EvTicketIssued, hall.EvTurnNear:
		a := e.Ahead
		d.Ahead = &a
	}
	if e.Type == hall.EvTicketIssued {
		d.Estimate = NewEstimateDoc(e.Estimate)
	}
	return d
}
