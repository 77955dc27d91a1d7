package display

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/firmware/web/assets"
	"hallgw/firmware/web/sse"
	"hallgw/hall"
)

// Defaults of Options.
const (
	DefaultCalls = 6
	// lookback bounds the journal records a new connection reads for the
	// day's latest calls.
	lookback = 3000
)

// Options configure the display pages.
type Options struct {
	Gateway *gateway.Gateway
	// HallName heads the page.
	HallName string
	// Calls is how many of the latest calls are listed (default 6).
	Calls int
	// Location is the hall's time zone, for the clock (default UTC).
	Location *time.Location
	// Done, when closed, ends the event streams (the daemon stops).
	Done <-chan struct{}
	// Heartbeat of the event streams (default sse.DefaultHeartbeat).
	Heartbeat time.Duration
}

//go:embed static
var static embed.FS

//go:embed display.html
var pageHTML string

var page = template.Must(template.New("display").Parse(pageHTML))

// Handler serves the display: the page, its files and its events.
type Handler struct {
	o      Options
	files  fs.FS
	ver    string
	stream *sse.Stream
}

// New returns the display pages of o.Gateway.
func New(o Options) (*Handler, error) {
	if o.Gateway == nil {
		return nil, errors.New("display: no gateway")
	}
	if o.Calls <= 0 {
		o.Calls = DefaultCalls
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, files: files, ver: assets.Version(files, "display.css", "display.js")}
	h.stream = &sse.Stream{
		Feed: o.Gateway.Feed(), Journal: o.Gateway.Journal(), Done: o.Done, Heartbeat: o.Heartbeat,
		Open: h.open,
	}
	return h, nil
}

// Register adds the display's routes to mux: GET /display/ (the page; /display
// redirects there), /display/events (the event stream) and
// /display/static/ (its files).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /display/{$}", h.page)
	mux.HandleFunc("GET /display", func(w http.ResponseWriter, r *http.Request) {
		u := "/display/"
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, u, http.StatusMovedPermanently)
	})
	mux.Handle("GET /display/events", h.stream)
	mux.Handle("GET /display/static/", http.StripPrefix("/display/static", assets.Static(h.files)))
}

// Clients returns the number of displays connected.
func (h *Handler) Clients() int { return h.stream.Clients() }

type pageData struct {
	Hall, Windows, TZ, Events string
	Calls                     int
	BaseCSS, BaseJS, CSS, JS  string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query().Get("windows"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	events := "events"
	if !f.All() {
		events += "?windows=" + f.String()
	}
	d := pageData{
		Hall: h.o.HallName, Windows: f.String(), TZ: h.o.Location.String(), Events: events, Calls: h.o.Calls,
		BaseCSS: assets.URL("hallgw.css"), BaseJS: assets.URL("hallgw.js"),
		CSS: "static/display.css?v=" + h.ver, JS: "static/display.js?v=" + h.ver,
	}
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		http.Error(w, "display: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// source makes the messages of one display's stream.
type source struct {
	h     *Handler
	f     Filter
	names names
}

func (h *Handler) open(r *http.Request) (sse.Source, error) {
	f, err := ParseFilter(r.URL.Query().Get("windows"))
	if err != nil {
		return nil, err
	}
	return &source{h: h, f: f}, nil
}

func jsonEvent(typ string, v any) sse.Event {
	b, err := json.Marshal(v)
	if err != nil {
		// The documents are plain structs: this cannot happen.
		panic("display: " + err.Error())
	}
	return sse.Event{Type: typ, Data: b}
}

// read reads the state under the hall's lock, with the committed sequence
// number: every hall event up to it is in the state, none after it.
func (s *source) read(ctx context.Context) (StateDoc, uint64, time.Time, error) {
	var st StateDoc
	var seq uint64
	var dayStart time.Time
	gw := s.h.o.Gateway
	err := gw.View(ctx, func(hl *hall.Hall) {
		seq = gw.Journal().Committed()
		st = stateOf(hl, s.h.o.HallName, gw.Now(), s.f)
		s.names = namesOf(hl)
		_, dayStart = hl.Day()
	})
	return st, seq, dayStart, err
}

// Start sends the state with the day's latest calls.
func (s *source) Start(ctx context.Context) (uint64, sse.Event, error) {
	st, seq, dayStart, err := s.read(ctx)
	if err != nil {
		return 0, sse.Event{}, err
	}
	st.Fresh = true
	st.Calls, err = s.recentCalls(seq, dayStart)
	if err != nil {
		return 0, sse.Event{}, err
	}
	return seq, jsonEvent("state", st), nil
}

// recentCalls returns the latest calls of the day up to seq, oldest first.
func (s *source) recentCalls(seq uint64, dayStart time.Time) ([]CallDoc, error) {
	j := s.h.o.Gateway.Journal()
	from := max(j.First(), 1)
	if seq > lookback && seq-lookback+1 > from {
		from = seq - lookback + 1
	}
	errEnd := errors.New("end")
	calls := []CallDoc{}
	err := j.Scan(from, func(r journal.Record) error {
		if r.Seq > seq {
			return errEnd
		}
		if r.Kind != gateway.KindHall {
			return nil
		}
		var ev hall.Event
		if ev.UnmarshalBinary(r.Data) != nil {
			return nil // the feed logs undecodable events; a display skips them
		}
		if ev.Type == hall.EvDayReset {
			calls = calls[:0]
			return nil
		}
		c, ok := s.names.call(gateway.Committed{Seq: r.Seq, Event: ev})
		if !ok || ev.At.Before(dayStart) || !s.f.Has(c.WindowNumber) {
			return nil
		}
		calls = append(calls, c)
		if len(calls) > 2*s.h.o.Calls {
			calls = append(calls[:0], calls[len(calls)-s.h.o.Calls:]...)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnd) {
		return nil, err
	}
	return calls[max(0, len(calls)-s.h.o.Calls):], nil
}

// Event sends calls and notices as they happen; every other event only
// leads to a refresh of the state.
func (s *source) Event(ctx context.Context, c gateway.Committed) (sse.Event, bool) {
	switch c.Event.Type {
	case hall.EvNotice:
		lv := hall.NoticeLevel(c.Event.Count)
		n := NoticeDoc{Level: lv.String()}
		if lv != hall.NoticeClear {
			n.Text = c.Event.Reason
		}
		return jsonEvent("notice", n), true
	case hall.EvTicketCalled, hall.EvTicketRecalled:
		if _, ok := s.names.windows[c.Event.Window]; !ok {
			// A window added since the names were read.
			if _, _, _, err := s.read(ctx); err != nil {
				return sse.Event{}, false
			}
		}
		call, ok := s.names.call(c)
		if !ok || !s.f.Has(call.WindowNumber) {
			return sse.Event{}, false
		}
		return jsonEvent("call", call), true
	}
	return sse.Event{}, false
}

// Refresh sends the state after a burst of events.
func (s *source) Refresh(ctx context.Context) (sse.Event, error) {
	st, _, _, err := s.read(ctx)
	if err != nil {
		return sse.Event{}, err
	}
	return jsonEvent("state", st), nil
}
