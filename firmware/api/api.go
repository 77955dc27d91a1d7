package api

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// Handler serves /api/v1/.
type Handler struct {
	gw    *gateway.Gateway
	token string
	mux   *http.ServeMux
}

// New returns the API over gw. When token is not empty, requests that change
// something must carry "Authorization: Bearer <token>".
func New(gw *gateway.Gateway, token string) *Handler {
	h := &Handler{gw: gw, token: token, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /api/v1/tickets", h.issue)
	h.mux.HandleFunc("POST /api/v1/checkin", h.checkIn)
	h.mux.HandleFunc("POST /api/v1/windows/{id}/{action}", h.window)
	h.mux.HandleFunc("POST /api/v1/tickets/{id}/priority", h.setPriority)
	h.mux.HandleFunc("GET /api/v1/state", h.state)
	h.mux.HandleFunc("GET /api/v1/tickets/{id}", h.ticket)
	h.mux.HandleFunc("GET /api/v1/stats", h.stats)
	h.mux.HandleFunc("GET /api/v1/digest", h.digest)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.authorized(r) {
		writeErr(w, http.StatusUnauthorized, "unauthorized", errors.New("api: missing or wrong token"))
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	if h.token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) == 1
}

// maxBody bounds a request body.
const maxBody = 64 << 10

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("api: bad request body: %w", err)
	}
	return nil
}

// IssueRequest asks for a ticket.
type IssueRequest struct {
	Service     string `json:"service"`
	Priority    string `json:"priority,omitempty"` // normal (default), green
	GreenReason string `json:"green_reason,omitempty"`
	Source      string `json:"source,omitempty"`
}

// Result answers a command: the committed events and, where there is one,
// the ticket as it stands afterwards.
type Result struct {
	Events []gateway.EventDoc `json:"events"`
	Ticket *TicketDoc         `json:"ticket,omitempty"`
	Window *WindowDoc         `json:"window,omitempty"`
}

func (h *Handler) issue(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	pr, err := parsePriority(req.Priority)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	if req.Source == "" {
		req.Source = "api"
	}
	h.do(w, r, hall.Command{Op: hall.OpIssue, Service: req.Service, Priority: pr, GreenReason: req.GreenReason, Source: req.Source}, http.StatusCreated)
}

func (h *Handler) checkIn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Appointment string `json:"appointment"`
		Source      string `json:"source,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	h.do(w, r, hall.Command{Op: hall.OpCheckIn, Appointment: req.Appointment, Source: orDefault(req.Source, "api")}, http.StatusCreated)
}

// WindowRequest carries the optional arguments of a window action.
type WindowRequest struct {
	Staff     string `json:"staff,omitempty"`
	Ticket    uint64 `json:"ticket,omitempty"`
	ToService string `json:"to_service,omitempty"`
	ToWindow  string `json:"to_window,omitempty"`
	Return    bool   `json:"return,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

var windowOps = map[string]hall.Op{
	"open": hall.OpOpenWindow, "close": hall.OpCloseWindow, "call-next": hall.OpCallNext,
	"call": hall.OpCall, "recall": hall.OpRecall, "start": hall.OpStart, "skip": hall.OpSkip,
	"reactivate": hall.OpReactivate, "transfer": hall.OpTransfer, "hold": hall.OpHold,
	"resume": hall.OpResume, "pause": hall.OpPause, "unpause": hall.OpUnpause, "finish": hall.OpFinish,
}

func (h *Handler) window(w http.ResponseWriter, r *http.Request) {
	op, ok := windowOps[r.PathValue("action")]
	if !ok {
		writeErr(w, http.StatusNotFound, "unknown_action", fmt.Errorf("api: unknown window action %q", r.PathValue("action")))
		return
	}
	var req WindowRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	h.do(w, r, hall.Command{
		Op: op, Window: r.PathValue("id"), Staff: req.Staff, Ticket: hall.TicketID(req.Ticket),
		ToService: req.ToService, ToWindow: req.ToWindow, Return: req.Return, Reason: req.Reason, Source: "api",
	}, http.StatusOK)
}

func (h *Handler) setPriority(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", fmt.Errorf("api: ticket id %q", r.PathValue("id")))
		return
	}
	var req struct {
		Window string `json:"window"`
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	h.do(w, r, hall.Command{Op: hall.OpSetPriority, Ticket: hall.TicketID(id), Window: req.Window, Priority: hall.Green, GreenReason: req.Reason, Source: "api"}, http.StatusOK)
}

func (h *Handler) do(w http.ResponseWriter, r *http.Request, cmd hall.Command, okStatus int) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	evs, err := h.gw.Do(ctx, cmd)
	if err != nil {
		status, code := ErrorCode(err)
		writeErr(w, status, code, err)
		return
	}
	res := Result{Events: make([]gateway.EventDoc, 0, len(evs))}
	var tid hall.TicketID
	for _, c := range evs {
		res.Events = append(res.Events, c.Doc())
		if c.Event.Ticket != 0 && (c.Event.Type != hall.EvTurnNear) {
			if tid == 0 || c.Event.Type != hall.EvTicketExpired {
				tid = c.Event.Ticket
			}
		}
	}
	_ = h.gw.View(ctx, func(hl *hall.Hall) {
		if tid != 0 {
			if tv, ok := hl.Ticket(tid); ok {
				d := NewTicketDoc(tv)
				res.Ticket = &d
			}
		}
		if cmd.Window != "" {
			if wv, ok := hl.Window(cmd.Window); ok {
				d := NewWindowDoc(wv)
				res.Window = &d
			}
		}
	})
	writeJSON(w, okStatus, res)
}

func (h *Handler) state(w http.ResponseWriter, r *http.Request) {
	var st StateDoc
	err := h.gw.View(r.Context(), func(hl *hall.Hall) { st = NewStateDoc(hl) })
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	var tv hall.TicketView
	var ok bool
	verr := h.gw.View(r.Context(), func(hl *hall.Hall) {
		if err == nil {
			tv, ok = hl.Ticket(hall.TicketID(id))
		} else {
			tv, ok = hl.TicketByNumber(r.PathValue("id"))
		}
	})
	if verr != nil {
		writeErr(w, http.StatusServiceUnavailable, "unavailable", verr)
		return
	}
	if !ok {
		writeErr(w, http.StatusNotFound, "unknown_ticket", fmt.Errorf("api: no ticket %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, NewTicketDoc(tv))
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	var st hall.Stats
	if err := h.gw.View(r.Context(), func(hl *hall.Hall) { st = hl.Stats() }); err != nil {
		writeErr(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, NewStatsDoc(st))
}

func (h *Handler) digest(w http.ResponseWriter, r *http.Request) {
	s, err := h.gw.Digest(r.Context())
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": s.Seq, "digest": hex.EncodeToString(s.Digest[:])})
}

func parsePriority(s string) (hall.Priority, error) {
	switch s {
	case "", "normal":
		return hall.Normal, nil
	case "green":
		return hall.Green, nil
	}
	return 0, fmt.Errorf("api: priority %q: want normal or green (appointments check in)", s)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ErrorDoc is the body of every error answer.
type ErrorDoc struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeErr(w http.ResponseWriter, status int, code string, err error) {
	writeJSON(w, status, ErrorDoc{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// errorCodes maps the hall's sentinel errors to stable codes and HTTP
// statuses.
var errorCodes = []struct {
	err    error
	code   string
	status int
}{
	{hall.ErrUnknownWindow, "unknown_window", http.StatusNotFound},
	{hall.ErrUnknownService, "unknown_service", http.StatusNotFound},
	{hall.ErrUnknownTicket, "unknown_ticket", http.StatusNotFound},
	{hall.ErrUnknownAppointment, "unknown_appointment", http.StatusNotFound},
	{hall.ErrWindowClosed, "window_closed", http.StatusConflict},
	{hall.ErrWindowPaused, "window_paused", http.StatusConflict},
	{hall.ErrWindowBusy, "window_busy", http.StatusConflict},
	{hall.ErrNoCurrent, "no_current_ticket", http.StatusConflict},
	{hall.ErrQueueEmpty, "queue_empty", http.StatusConflict},
	{hall.ErrDailyCap, "daily_cap_reached", http.StatusConflict},
	{hall.ErrRecallLimit, "recall_limit", http.StatusConflict},
	{hall.ErrRecallTooSoon, "recall_too_soon", http.StatusConflict},
	{hall.ErrBadState, "bad_state", http.StatusConflict},
	{hall.ErrAppointmentEarly, "appointment_early", http.StatusConflict},
	{hall.ErrAppointmentLate, "appointment_late", http.StatusConflict},
	{hall.ErrReactivateExpired, "reactivate_expired", http.StatusConflict},
	{hall.ErrInvalid, "invalid", http.StatusBadRequest},
	{hall.ErrIssuingSuspended, "issuing_suspended", http.StatusServiceUnavailable},
	{gateway.ErrClosed, "closed", http.StatusServiceUnavailable},
	{context.DeadlineExceeded, "timeout", http.StatusServiceUnavailable},
}

// ErrorCode returns the HTTP status and stable code for err.
func ErrorCode(err error) (int, string) {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.status, c.code
		}
	}
	return http.StatusInternalServerError, "internal"
}
