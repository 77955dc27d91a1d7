package display

import (
	"time"

	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// StateDoc is what a display shows apart from the calls: the "state"
// message of the event stream. It carries no personal data.
type StateDoc struct {
	Hall string `json:"hall"`
	// Now is the hall's clock when the state was read; Day the business
	// day (a new day clears the calls).
	Now      time.Time    `json:"now"`
	Day      int          `json:"day"`
	Windows  []WindowDoc  `json:"windows"`
	Services []ServiceDoc `json:"services"`
	Notice   NoticeDoc    `json:"notice"`
	// Fresh marks the snapshot of a new connection: Calls then replaces
	// the calls the page shows.
	Fresh bool      `json:"fresh,omitempty"`
	Calls []CallDoc `json:"calls,omitempty"`
}

// WindowDoc is one window on the display.
type WindowDoc struct {
	ID     string `json:"id"`
	Number int    `json:"number"`
	Name   string `json:"name"`
	// State is open, paused or closed.
	State string `json:"state"`
	// Current is the number of the ticket at the window, "" when idle.
	Current string `json:"current,omitempty"`
}

// ServiceDoc is one service's queue on the display.
type ServiceDoc struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Prefix   string               `json:"prefix"`
	Waiting  int                  `json:"waiting"`
	Estimate *gateway.EstimateDoc `json:"estimate"`
}

// NoticeDoc is the broadcast notice: level clear, info or emergency.
type NoticeDoc struct {
	Level string `json:"level"`
	Text  string `json:"text,omitempty"`
}

// CallDoc is one call: the "call" message, and the calls of a snapshot.
type CallDoc struct {
	Seq          uint64    `json:"seq"`
	At           time.Time `json:"at"`
	Number       string    `json:"number"`
	Service      string    `json:"service"`
	ServiceName  string    `json:"service_name"`
	Window       string    `json:"window"`
	WindowNumber int       `json:"window_number"`
	WindowName   string    `json:"window_name"`
	// Recall is set when the ticket is called again.
	Recall bool `json:"recall,omitempty"`
}

func newNoticeDoc(n hall.NoticeView) NoticeDoc {
	if n.Level == hall.NoticeClear {
		return NoticeDoc{Level: n.Level.String()}
	}
	return NoticeDoc{Level: n.Level.String(), Text: n.Text}
}

// names are the windows and services of the hall's configuration, to name
// the calls.
type names struct {
	windows  map[string]hall.WindowView
	services map[string]string
}

func namesOf(h *hall.Hall) names {
	n := names{windows: map[string]hall.WindowView{}, services: map[string]string{}}
	for _, w := range h.Windows() {
		n.windows[w.ID] = w
	}
	for _, s := range h.Services() {
		n.services[s.ID] = s.Name
	}
	return n
}

// call returns the CallDoc of a call or recall event, false for any other
// event or a window unknown to n.
func (n names) call(c gateway.Committed) (CallDoc, bool) {
	e := c.Event
	if e.Type != hall.EvTicketCalled && e.Type != hall.EvTicketRecalled {
		return CallDoc{}, false
	}
	w, ok := n.windows[e.Window]
	if !ok {
		return CallDoc{}, false
	}
	return CallDoc{
		Seq: c.Seq, At: e.At.UTC(), Number: e.Number, Service: e.Service, ServiceName: n.services[e.Service],
		Window: e.Window, WindowNumber: w.Number, WindowName: w.Name, Recall: e.Type == hall.EvTicketRecalled,
	}, true
}

// stateOf reads what a display with filter f shows.
func stateOf(h *hall.Hall, hallName string, now time.Time, f Filter) StateDoc {
	day, _ := h.Day()
	st := StateDoc{Hall: hallName, Now: now.UTC(), Day: day, Notice: newNoticeDoc(h.Notice()),
		Windows: []WindowDoc{}, Services: []ServiceDoc{}}
	served := map[string]bool{}
	for _, w := range h.Windows() {
		if !f.Has(w.Number) {
			continue
		}
		st.Windows = append(st.Windows, WindowDoc{ID: w.ID, Number: w.Number, Name: w.Name, State: w.State.String(), Current: w.CurrentNumber})
		for _, s := range w.Services {
			served[s] = true
		}
	}
	for _, s := range h.Services() {
		if !f.All() && !served[s.ID] {
			continue
		}
		st.Services = append(st.Services, ServiceDoc{ID: s.ID, Name: s.Name, Prefix: s.Prefix, Waiting: s.Waiting,
			Estimate: gateway.NewEstimateDoc(s.Estimate)})
	}
	return st
}
