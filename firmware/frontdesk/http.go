package frontdesk

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// maxBody bounds a kiosk request's body.
const maxBody = 4 << 10

// mount adds the kiosk service's endpoints (docs/kiosk.md) to the daemon's
// mux. The page's own routes (/kiosk/{id}/, kiosk.js, kiosk.css) are the
// web component's.
func (f *Frontdesk) mount() {
	mux := f.d.Mux
	mux.HandleFunc("GET /kiosk/{id}/api/services", f.kioskAPI(f.apiServices))
	mux.HandleFunc("POST /kiosk/{id}/api/tickets", f.kioskAPI(f.apiTickets))
	mux.HandleFunc("POST /kiosk/{id}/api/card", f.kioskAPI(f.apiCard))
	mux.HandleFunc("POST /kiosk/{id}/api/checkin", f.kioskAPI(f.apiCheckIn))
	mux.HandleFunc("POST /kiosk/{id}/api/reprint", f.kioskAPI(f.apiReprint))
}

// kioskAPI resolves the kiosk of a request and writes the handler's
// answer as JSON.
func (f *Frontdesk) kioskAPI(h func(k *Kiosk, r *http.Request) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k, ok := f.kiosks[r.PathValue("id")]
		if !ok {
			writeJSON(w, http.StatusNotFound, &Refusal{Message: "没有这台取号机", Code: "unknown_kiosk"})
			return
		}
		status, v := h(k, r)
		if status == 0 {
			return // the client has gone
		}
		writeJSON(w, status, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// answer turns an operation's result into a status and a body.
func answer(t IssuedTicket, err error, ok int) (int, any) {
	var rf *Refusal
	switch {
	case err == nil:
		return ok, t
	case errors.As(err, &rf):
		return rf.Status, rf
	}
	return refuseInternal.Status, refuseInternal
}

// ServicesDoc is the answer of GET api/services.
type ServicesDoc struct {
	Hall       string       `json:"hall"`
	Services   []ServiceDoc `json:"services"`
	Printer    PrinterDoc   `json:"printer"`
	CardReader bool         `json:"card_reader"`
}

// ServiceDoc is one service button.
type ServiceDoc struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Prefix   string               `json:"prefix"`
	Waiting  int                  `json:"waiting"`
	Estimate *gateway.EstimateDoc `json:"estimate"`
	Open     bool                 `json:"open"`
	CapLeft  *int                 `json:"cap_left"`
}

// PrinterDoc is the printer's state as the page shows it.
type PrinterDoc struct {
	CanPrint bool   `json:"can_print"`
	Message  string `json:"message,omitempty"`
}

// Services returns what the kiosk's start screen shows.
func (k *Kiosk) Services(ctx context.Context) (ServicesDoc, error) {
	doc := ServicesDoc{Hall: k.f.d.Cfg.Gateway.HallName, Services: []ServiceDoc{}, Printer: PrinterDoc{CanPrint: true}}
	err := k.f.gw.View(ctx, func(h *hall.Hall) {
		for _, s := range h.Services() {
			d := ServiceDoc{ID: s.ID, Name: s.Name, Prefix: s.Prefix, Waiting: s.Waiting,
				Estimate: gateway.NewEstimateDoc(s.Estimate), Open: s.OpenWindows > 0}
			if s.DailyCap > 0 {
				left := max(0, s.DailyCap-s.Issued)
				d.CapLeft = &left
			}
			doc.Services = append(doc.Services, d)
		}
	})
	if k.printer != nil {
		doc.Printer.CanPrint, doc.Printer.Message = k.printer.state()
	}
	doc.CardReader = k.card != nil && k.card.up()
	return doc, err
}

func (f *Frontdesk) apiServices(k *Kiosk, r *http.Request) (int, any) {
	doc, err := k.Services(r.Context())
	if err != nil {
		return refuseInternal.Status, refuseInternal
	}
	return http.StatusOK, doc
}

func (f *Frontdesk) apiTickets(k *Kiosk, r *http.Request) (int, any) {
	body, err := readBody(r)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	svc, err := DecodeTicketRequest(body)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	t, err := k.Issue(r.Context(), svc)
	return answer(t, err, http.StatusCreated)
}

func (f *Frontdesk) apiCheckIn(k *Kiosk, r *http.Request) (int, any) {
	body, err := readBody(r)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	appt, err := DecodeCheckInRequest(body)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	t, err := k.CheckIn(r.Context(), appt)
	return answer(t, err, http.StatusCreated)
}

func (f *Frontdesk) apiReprint(k *Kiosk, r *http.Request) (int, any) {
	if tok := string(f.d.Cfg.HTTP.Token); tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			return refuseUnauthorize.Status, refuseUnauthorize
		}
	}
	body, err := readBody(r)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	number, err := DecodeReprintRequest(body)
	if err != nil {
		return refuseBadRequest.Status, refuseBadRequest
	}
	t, err := k.Reprint(r.Context(), number)
	return answer(t, err, http.StatusOK)
}

// CardDoc is the answer of POST api/card: never the clear name or number.
type CardDoc struct {
	MaskedName   string           `json:"masked_name"`
	Age          int              `json:"age"`
	Green        bool             `json:"green"`
	Appointments []AppointmentDoc `json:"appointments"`
}

// AppointmentDoc is one of today's appointments of the card's holder.
type AppointmentDoc struct {
	ID      string    `json:"id"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

func (f *Frontdesk) apiCard(k *Kiosk, r *http.Request) (int, any) {
	doc, err := k.ReadCard(r.Context())
	var rf *Refusal
	switch {
	case err == nil:
		return http.StatusOK, doc
	case r.Context().Err() != nil:
		return 0, nil // the page dropped the request (返回)
	case errors.As(err, &rf):
		return rf.Status, rf
	}
	return refuseInternal.Status, refuseInternal
}

// ReadCard waits (Options.CardWait at most, or until ctx ends) for an ID
// card on the kiosk's reader and keeps it for the next ticket or
// check-in. It returns the masked name, the age, the green channel and the
// holder's appointments today.
func (k *Kiosk) ReadCard(ctx context.Context) (CardDoc, error) {
	if k.card == nil || !k.card.up() {
		return CardDoc{}, refuseNoReader
	}
	ctx, cancel := context.WithTimeout(ctx, k.f.o.CardWait)
	defer cancel()
	c, err := k.card.read(ctx)
	switch {
	case err == nil:
	case errors.Is(err, idcard.ErrInvalidText):
		return CardDoc{}, refuseBadCard
	case ctx.Err() != nil:
		return CardDoc{}, refuseNoCard
	default:
		return CardDoc{}, refuseNoReader
	}
	f := k.f
	hash := ""
	if f.keeper != nil {
		hash = f.keeper.HolderHash(c.Number)
	}
	now := f.d.Now()
	doc := CardDoc{MaskedName: idcard.MaskName(c.Name), Appointments: []AppointmentDoc{}}
	err = f.gw.View(ctx, func(h *hall.Hall) {
		cfg := h.Config()
		loc := cfg.Location
		if loc == nil {
			loc = time.UTC
		}
		doc.Age = c.Age(now, loc)
		doc.Green = cfg.Rules.ElderlyAge > 0 && doc.Age >= cfg.Rules.ElderlyAge
		if hash == "" {
			return
		}
		y, m, d := now.In(loc).Date()
		list, tickets := h.Appointments()
		for i, a := range list {
			ay, am, ad := a.Start.In(loc).Date()
			if a.HolderHash == hash && tickets[i] == 0 && ay == y && am == m && ad == d {
				doc.Appointments = append(doc.Appointments, AppointmentDoc{ID: a.ID, Service: a.Service, Start: a.Start.UTC(), End: a.End.UTC()})
			}
		}
	})
	if err != nil {
		return CardDoc{}, refuseInternal
	}
	k.card.reads.Add(1)
	k.holdCard(c, hash)
	return doc, nil
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBody+1))
}

var (
	serviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	apptIDPattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	numberPattern    = regexp.MustCompile(`^[A-Z]{1,3}[0-9]{1,6}$`)
)

// DecodeTicketRequest reads the body of POST api/tickets,
// {"service": "general"}, and returns the service id.
func DecodeTicketRequest(b []byte) (string, error) {
	var req struct {
		Service string `json:"service"`
	}
	if err := decodeBody(b, &req); err != nil {
		return "", err
	}
	if !serviceIDPattern.MatchString(req.Service) {
		return "", errors.New("frontdesk: ticket request: bad service id")
	}
	return req.Service, nil
}

// DecodeCheckInRequest reads the body of POST api/checkin,
// {"appointment": "YY20261128-0031"}; the id may be empty when an ID card
// names the holder.
func DecodeCheckInRequest(b []byte) (string, error) {
	var req struct {
		Appointment string `json:"appointment"`
	}
	if err := decodeBody(b, &req); err != nil {
		return "", err
	}
	if req.Appointment != "" && !apptIDPattern.MatchString(req.Appointment) {
		return "", errors.New("frontdesk: check-in request: bad appointment id")
	}
	return req.Appointment, nil
}

// DecodeReprintRequest reads the body of POST api/reprint,
// {"ticket": "A012"}, and returns the ticket number.
func DecodeReprintRequest(b []byte) (string, error) {
	var req struct {
		Ticket string `json:"ticket"`
	}
	if err := decodeBody(b, &req); err != nil {
		return "", err
	}
	if !numberPattern.MatchString(req.Ticket) {
		return "", errors.New("frontdesk: reprint request: bad ticket number")
	}
	return req.Ticket, nil
}

// decodeBody decodes one JSON object of at most maxBody bytes into v.
func decodeBody(b []byte, v any) error {
	if len(b) > maxBody {
		return fmt.Errorf("frontdesk: request body over %d bytes", maxBody)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("frontdesk: request body: %w", err)
	}
	if dec.More() {
		return errors.New("frontdesk: request body: trailing data")
	}
	return nil
}
