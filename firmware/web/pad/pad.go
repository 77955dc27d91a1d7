package pad

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/hall"
)

//go:embed assets
var assets embed.FS

// Options configure the pad pages.
type Options struct {
	Gateway *gateway.Gateway
	// Staff is the roster (the configuration's `staff:` section): the pad
	// shows the name, number and photo of the staff member signed in.
	Staff []config.Staff
	// Path places a configured photo path under the daemon's root; nil
	// leaves it as it is.
	Path func(string) string
	// Thanks is how long the pad thanks the citizen before it shows the
	// staff card again (default config.DefaultRatingThanks).
	Thanks time.Duration
	// Token, when set (the configuration's http.token), must be given as
	// ?token= on the page's address: the page passes it to its WebSocket,
	// which refuses ratings without it. A tablet is set up with the
	// address and token once.
	Token string
	// Ping is the WebSocket keep-alive period (default 30 s).
	Ping   time.Duration
	Logger *slog.Logger
}

// Handler serves the pad pages under /pad/.
type Handler struct {
	o   Options
	mux *http.ServeMux

	mu    sync.Mutex
	conns int
}

// New returns the handler of the pad pages:
//
//	GET /pad/{window}/         the page (a tablet at the window opens it)
//	GET /pad/{window}/ws       its WebSocket
//	GET /pad/{window}/photo    ?staff=ID: the photo of a staff member
//	GET /pad/{window}/pad.js, pad.css
func New(opts Options) (*Handler, error) {
	if opts.Gateway == nil {
		return nil, errors.New("pad: no gateway")
	}
	if err := config.ValidateStaff(opts.Staff); err != nil {
		return nil, fmt.Errorf("pad: %w", err)
	}
	if opts.Path == nil {
		opts.Path = func(p string) string { return p }
	}
	if opts.Thanks <= 0 {
		opts.Thanks = config.DefaultRatingThanks
	}
	if opts.Ping <= 0 {
		opts.Ping = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /pad/{window}/{$}", h.page)
	h.mux.HandleFunc("GET /pad/{window}/ws", h.socket)
	h.mux.HandleFunc("GET /pad/{window}/photo", h.photo)
	h.mux.HandleFunc("GET /pad/{window}/pad.js", h.asset("pad.js"))
	h.mux.HandleFunc("GET /pad/{window}/pad.css", h.asset("pad.css"))
	h.mux.HandleFunc("GET /pad/{window}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/pad/"+url.PathEscape(r.PathValue("window"))+"/", http.StatusMovedPermanently)
	})
	return h, nil
}

// ServeHTTP serves the pad pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Connections returns how many pads are connected now.
func (h *Handler) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// knownWindow answers 404 for a window the hall does not have.
func (h *Handler) knownWindow(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("window")
	ok := false
	err := h.o.Gateway.View(r.Context(), func(hl *hall.Hall) { _, ok = hl.Window(id) })
	if err != nil {
		http.Error(w, "pad: hall unavailable", http.StatusServiceUnavailable)
		return "", false
	}
	if !ok {
		http.Error(w, "pad: no window "+id, http.StatusNotFound)
		return "", false
	}
	return id, true
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.knownWindow(w, r); !ok {
		return
	}
	h.serveAsset(w, "index.html")
}

func (h *Handler) asset(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.serveAsset(w, name) }
}

func (h *Handler) serveAsset(w http.ResponseWriter, name string) {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(filepath.Ext(name)))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// photo serves the photo of a staff member of the roster; nothing else is
// ever read from disk.
func (h *Handler) photo(w http.ResponseWriter, r *http.Request) {
	s, ok := config.FindStaff(h.o.Staff, r.URL.Query().Get("staff"))
	if !ok || s.Photo == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(h.o.Path(s.Photo))
	if err != nil {
		h.o.Logger.Warn("pad: staff photo", "staff", s.ID, "err", err)
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	if ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(s.Photo))); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// socket runs one pad's WebSocket: the state now, then the window's rating
// requests and outcomes as they are committed; ratings from the pad become
// OpRate.
func (h *Handler) socket(w http.ResponseWriter, r *http.Request) {
	if h.o.Token != "" && subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(h.o.Token)) != 1 {
		http.Error(w, "pad: token required", http.StatusUnauthorized)
		return
	}
	window, ok := h.knownWindow(w, r)
	if !ok {
		return
	}
	// Accept checks that the page comes from this server (Origin).
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer c.CloseNow()
	h.mu.Lock()
	h.conns++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.conns--
		h.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s := &session{h: h, c: c, window: window}
	st, from, err := h.snapshot(ctx, window)
	if err != nil {
		c.Close(websocket.StatusInternalError, "hall unavailable")
		return
	}
	if err := s.send(ctx, st); err != nil {
		return
	}
	go func() {
		defer cancel()
		err := h.o.Gateway.Feed().Follow(ctx, from, func(cm gateway.Committed) error { return s.event(ctx, cm) })
		if err != nil && ctx.Err() == nil {
			h.o.Logger.Warn("pad: feed", "window", window, "err", err)
		}
	}()
	go s.keepAlive(ctx, cancel)
	for {
		var m clientMsg
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return
		}
		if m.Type == "rate" {
			if err := s.send(ctx, h.rate(ctx, window, &m)); err != nil {
				return
			}
		}
	}
}

type session struct {
	h      *Handler
	c      *websocket.Conn
	window string
	wmu    sync.Mutex
}

func (s *session) send(ctx context.Context, v any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return wsjson.Write(wctx, s.c, v)
}

func (s *session) keepAlive(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(s.h.o.Ping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, s.h.o.Ping)
			err := s.c.Ping(pctx)
			pcancel()
			if err != nil {
				cancel()
				return
			}
		}
	}
}

// event tells the pad what a committed event changes at its window.
func (s *session) event(ctx context.Context, cm gateway.Committed) error {
	e := &cm.Event
	switch e.Type {
	case hall.EvRatingRequested:
		if e.Window != s.window {
			return nil
		}
		var d ratingDoc
		err := s.h.o.Gateway.View(ctx, func(hl *hall.Hall) {
			d = s.h.ratingDoc(hl, hall.RatingView{ID: e.Rating, Number: e.Number, Service: e.Service, Due: e.Due})
		})
		if err != nil {
			return err
		}
		return s.send(ctx, requestMsg{Type: "request", Rating: d})
	case hall.EvRatingGiven, hall.EvRatingNotRated:
		if e.Window != s.window {
			return nil
		}
		out := "given"
		if e.Type == hall.EvRatingNotRated {
			out = "not_rated"
		}
		return s.send(ctx, closedMsg{Type: "closed", Rating: uint64(e.Rating), Outcome: out})
	case hall.EvWindowOpened, hall.EvWindowClosed, hall.EvWindowPaused, hall.EvWindowUnpaused:
		if e.Window != s.window {
			return nil
		}
	case hall.EvConfigApplied:
	default:
		return nil
	}
	st, _, err := s.h.snapshot(ctx, s.window)
	if err != nil {
		return err
	}
	return s.send(ctx, st)
}

// snapshot returns the pad's state and the journal seq to follow from: the
// hall as of every event up to from−1.
func (h *Handler) snapshot(ctx context.Context, window string) (stateMsg, uint64, error) {
	var st stateMsg
	var from uint64
	err := h.o.Gateway.View(ctx, func(hl *hall.Hall) {
		from = h.o.Gateway.Journal().Committed() + 1
		st = h.state(hl, window)
	})
	return st, from, err
}

func (h *Handler) state(hl *hall.Hall, window string) stateMsg {
	cfg := hl.Config()
	st := stateMsg{Type: "state", ThanksMS: h.o.Thanks.Milliseconds(), Ratings: cfg.Ratings.Timeout > 0,
		Reasons: []reasonDoc{}}
	for g := hall.GradeVerySatisfied; g <= hall.GradeVeryDissatisfied; g++ {
		st.Grades = append(st.Grades, gradeDoc{Grade: int(g), Label: g.Label(), Bad: g.Bad()})
	}
	for _, x := range cfg.Ratings.Reasons {
		st.Reasons = append(st.Reasons, reasonDoc{Code: x.Code, Label: x.Label})
	}
	v, ok := hl.Window(window)
	if !ok {
		st.Window = windowDoc{ID: window, State: "closed"}
		return st
	}
	st.Window = windowDoc{ID: v.ID, Number: v.Number, Name: v.Name, State: v.State.String(), PauseReason: v.PauseReason}
	if v.Staff != "" {
		sd := staffDoc{ID: v.Staff, Number: v.Staff}
		if s, ok := config.FindStaff(h.o.Staff, v.Staff); ok {
			sd.Name, sd.Number = s.Name, s.Number
			if s.Photo != "" {
				sd.Photo = "photo?staff=" + url.QueryEscape(s.ID)
			}
		}
		st.Staff = &sd
	}
	if p, ok := hl.PendingRating(window); ok {
		d := h.ratingDoc(hl, p)
		st.Pending = &d
	}
	return st
}

func (h *Handler) ratingDoc(hl *hall.Hall, p hall.RatingView) ratingDoc {
	d := ratingDoc{ID: uint64(p.ID), Number: p.Number, Service: p.Service, ServiceName: p.Service,
		RemainingMS: max(p.Due.Sub(h.o.Gateway.Now()).Milliseconds(), 0)}
	for _, s := range hl.Services() {
		if s.ID == p.Service {
			d.ServiceName = s.Name
		}
	}
	return d
}

// rate turns a pad's rating into OpRate and says how it went.
func (h *Handler) rate(ctx context.Context, window string, m *clientMsg) resultMsg {
	res := resultMsg{Type: "result", Rating: m.Rating}
	if m.Grade < 1 || m.Grade > int(hall.GradeVeryDissatisfied) {
		res.Code, res.Error = "invalid", "请选择评价等级"
		return res
	}
	_, err := h.o.Gateway.Do(ctx, hall.Command{Op: hall.OpRate, Window: window, Rating: hall.RatingID(m.Rating),
		Grade: hall.Grade(m.Grade), Reasons: m.Reasons, Source: hall.PadTablet})
	switch {
	case err == nil:
		res.OK = true
	case errors.Is(err, hall.ErrRatingClosed):
		res.Code, res.Error = "rating_closed", "本次服务已评价"
	case errors.Is(err, hall.ErrNoRating):
		res.Code, res.Error = "no_rating", "评价已超时"
	case errors.Is(err, hall.ErrInvalid):
		res.Code, res.Error = "invalid", "请选择评价等级；不满意时请选择原因"
	default:
		h.o.Logger.Warn("pad: rating refused", "window", window, "err", err)
		res.Code, res.Error = "failed", "评价未能提交，请稍后再试"
	}
	return res
}

// The messages of the pad's WebSocket (docs/ratings.md).
type (
	stateMsg struct {
		Type     string      `json:"type"` // "state"
		Window   windowDoc   `json:"window"`
		Staff    *staffDoc   `json:"staff"` // null: nobody signed in
		Ratings  bool        `json:"ratings"`
		Grades   []gradeDoc  `json:"grades"`
		Reasons  []reasonDoc `json:"reasons"`
		Pending  *ratingDoc  `json:"pending"` // the open request, or null
		ThanksMS int64       `json:"thanks_ms"`
	}
	windowDoc struct {
		ID          string `json:"id"`
		Number      int    `json:"number"`
		Name        string `json:"name"`
		State       string `json:"state"` // open, paused, closed
		PauseReason string `json:"pause_reason,omitempty"`
	}
	staffDoc struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Number string `json:"number"`
		Photo  string `json:"photo,omitempty"` // relative URL
	}
	gradeDoc struct {
		Grade int    `json:"grade"`
		Label string `json:"label"`
		Bad   bool   `json:"bad"`
	}
	reasonDoc struct {
		Code  string `json:"code"`
		Label string `json:"label"`
	}
	ratingDoc struct {
		ID          uint64 `json:"id"`
		Number      string `json:"number"`
		Service     string `json:"service"`
		ServiceName string `json:"service_name"`
		RemainingMS int64  `json:"remaining_ms"`
	}
	requestMsg struct {
		Type   string    `json:"type"` // "request"
		Rating ratingDoc `json:"rating"`
	}
	closedMsg struct {
		Type    string `json:"type"` // "closed"
		Rating  uint64 `json:"rating"`
		Outcome string `json:"outcome"` // given, not_rated
	}
	resultMsg struct {
		Type   string `json:"type"` // "result"
		Rating uint64 `json:"rating"`
		OK     bool   `json:"ok"`
		Code   string `json:"code,omitempty"`
		Error  string `json:"error,omitempty"`
	}
	clientMsg struct {
		Type    string   `json:"type"` // "rate"
		Rating  uint64   `json:"rating"`
		Grade   int      `json:"grade"`
		Reasons []string `json:"reasons"`
	}
)
