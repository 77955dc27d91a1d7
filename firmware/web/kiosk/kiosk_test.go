package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallgw/firmware/gateway"
	"hallgw/firmware/web/assets"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
)

// fakeDesk implements the kiosk endpoints of docs/kiosk.md on a real hall,
// the way the kiosk service does, with a printer and a card reader the
// test controls.
type fakeDesk struct {
	h    *webtest.Hall
	mu   sync.Mutex
	ok   bool // the printer can print
	card chan map[string]any
	wait time.Duration // how long api/card waits for a card
	// stale makes api/services repeat its last answer: a kiosk that has
	// not heard of a change yet.
	stale bool
	last  map[string]any
}

func (f *fakeDesk) setStale(stale bool) {
	f.mu.Lock()
	f.stale = stale
	f.mu.Unlock()
}

func (f *fakeDesk) setPrinter(ok bool) {
	f.mu.Lock()
	f.ok = ok
	f.mu.Unlock()
}

func (f *fakeDesk) cardWait() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wait
}

func (f *fakeDesk) setCardWait(d time.Duration) {
	f.mu.Lock()
	f.wait = d
	f.mu.Unlock()
}

func (f *fakeDesk) printerOK() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeDesk) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /kiosk/{id}/api/services", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.stale && f.last != nil {
			last := f.last
			f.mu.Unlock()
			writeJSON(w, 200, last)
			return
		}
		f.mu.Unlock()
		var svcs []map[string]any
		_ = f.h.Gateway.View(r.Context(), func(hl *hall.Hall) {
			for _, s := range hl.Services() {
				var capLeft any
				if s.DailyCap > 0 {
					capLeft = max(0, s.DailyCap-s.Issued)
				}
				svcs = append(svcs, map[string]any{"id": s.ID, "name": s.Name, "prefix": s.Prefix, "waiting": s.Waiting,
					"estimate": gateway.NewEstimateDoc(s.Estimate), "open": s.OpenWindows > 0, "cap_left": capLeft})
			}
		})
		printer := map[string]any{"can_print": f.printerOK()}
		if !f.printerOK() {
			printer["message"] = "取号机缺纸，请到咨询台取号"
		}
		doc := map[string]any{"hall": "示范市政务服务中心", "services": svcs, "printer": printer, "card_reader": true}
		f.mu.Lock()
		f.last = doc
		f.mu.Unlock()
		writeJSON(w, 200, doc)
	})
	mux.HandleFunc("POST /kiosk/{id}/api/tickets", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Service string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, map[string]string{"error": "请求有误", "code": "bad_request"})
			return
		}
		f.issue(w, r, hall.Command{Op: hall.OpIssue, Service: req.Service, Source: "kiosk"})
	})
	mux.HandleFunc("POST /kiosk/{id}/api/checkin", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Appointment string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, map[string]string{"error": "请求有误", "code": "bad_request"})
			return
		}
		f.issue(w, r, hall.Command{Op: hall.OpCheckIn, Appointment: req.Appointment, Source: "kiosk"})
	})
	mux.HandleFunc("POST /kiosk/{id}/api/card", func(w http.ResponseWriter, r *http.Request) {
		select {
		case c := <-f.card:
			writeJSON(w, 200, c)
		case <-time.After(f.cardWait()):
			writeJSON(w, 408, map[string]string{"error": "未读到身份证", "code": "no_card"})
		case <-r.Context().Done():
		}
	})
}

func (f *fakeDesk) issue(w http.ResponseWriter, r *http.Request, cmd hall.Command) {
	if !f.printerOK() {
		writeJSON(w, 409, map[string]string{"error": "取号机缺纸，请到咨询台取号", "code": "printer_unavailable"})
		return
	}
	evs, err := f.h.Gateway.Do(r.Context(), cmd)
	switch {
	case errors.Is(err, hall.ErrDailyCap):
		writeJSON(w, 409, map[string]string{"error": "今日该业务号源已取完，请明日再来或网上预约", "code": "daily_cap_reached"})
		return
	case err != nil:
		writeJSON(w, 409, map[string]string{"error": "暂时无法取号，请到咨询台咨询", "code": "internal"})
		return
	}
	for _, c := range evs {
		if c.Event.Type != hall.EvTicketIssued {
			continue
		}
		var name string
		var windows []int
		_ = f.h.Gateway.View(r.Context(), func(hl *hall.Hall) {
			for _, s := range hl.Services() {
				if s.ID == c.Event.Service {
					name = s.Name
				}
			}
			for _, win := range hl.Windows() {
				if win.State == hall.Open && strings.Contains(","+strings.Join(win.Services, ",")+",", ","+c.Event.Service+",") {
					windows = append(windows, win.Number)
				}
			}
		})
		writeJSON(w, 201, map[string]any{"number": c.Event.Number, "service_name": name, "ahead": c.Event.Ahead,
			"estimate": gateway.NewEstimateDoc(c.Event.Estimate), "windows": windows, "printed": true})
		return
	}
	writeJSON(w, 500, map[string]string{"error": "没有出票", "code": "internal"})
}

func serve(t *testing.T, h *webtest.Hall, o Options) (*httptest.Server, *fakeDesk) {
	t.Helper()
	o.HallName = "示范市政务服务中心"
	o.Location = h.Config.Location
	k, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	k.Register(mux)
	mux.Handle(assets.Prefix, assets.Handler())
	f := &fakeDesk{h: h, ok: true, card: make(chan map[string]any, 1), wait: 20 * time.Second}
	f.register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts, f
}

func TestPage(t *testing.T) {
	h := webtest.NewHall(t)
	ts, _ := serve(t, h, Options{Kiosks: []string{"k1", "k2"}, Return: 7 * time.Second})
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"page", "/kiosk/k1/", 200, `data-return-ms="7000"`},
		{"second kiosk", "/kiosk/k2/", 200, `data-kiosk="k2"`},
		{"unknown kiosk", "/kiosk/k9/", 404, "no kiosk k9"},
		{"redirect", "/kiosk/k1", 200, `data-kiosk="k1"`},
		{"script", "/kiosk/k1/kiosk.js", 200, "api/tickets"},
		{"style", "/kiosk/k1/kiosk.css", 200, ".svc"},
		{"script of an unknown kiosk", "/kiosk/k9/kiosk.js", 404, ""},
		{"the service's api is left alone", "/kiosk/k1/api/services", 200, `"card_reader":true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			buf := make([]byte, 1<<16)
			for {
				n, err := resp.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.contains) {
				t.Errorf("GET %s = %d %.200q, want %d containing %q", tt.path, resp.StatusCode, b.String(), tt.status, tt.contains)
			}
		})
	}
}

func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	webtest.Step(t, ctx, "open the kiosk", chromedp.Navigate(url))
	webtest.WaitFor(t, ctx, "the services", `document.body.dataset.loaded === "1" && document.querySelectorAll("#services .svc").length > 0`)
}

func tap(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	webtest.Click(t, ctx, css)
}

func screen(name string) string { return `document.body.dataset.screen === "` + name + `"` }

func TestBrowserTakeTicket(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w2", "w3")
	h.Issue(t, "social", 4)
	ts, _ := serve(t, h, Options{Return: 3 * time.Second, Poll: 200 * time.Millisecond})
	ctx := webtest.Browser(t, 1080, 1920)
	dir := t.TempDir()
	open(t, ctx, ts.URL+"/kiosk/k1/")

	if got := webtest.Text(t, ctx, `.svc[data-service="social"] .d`); !strings.HasPrefix(got, "等候 4 人 · 约 ") {
		t.Errorf("social button says %q, want the 4 waiting and an estimate", got)
	}
	if !webtest.Eval[bool](t, ctx, `document.querySelector('.svc[data-service="business"]').disabled`) {
		t.Error("business has no open window but its button is enabled")
	}
	webtest.Screenshot(t, ctx, dir, "kiosk-start.png", 1080, 1920)

	tap(t, ctx, `.svc[data-service="social"]`)
	webtest.WaitFor(t, ctx, "the ticket screen", screen("ticket"))
	if got := webtest.Text(t, ctx, "#t-number"); got != "A005" {
		t.Errorf("ticket number %q, want A005", got)
	}
	if got := webtest.Text(t, ctx, "#t-ahead"); got != "4" {
		t.Errorf("people ahead %q, want 4", got)
	}
	if got := webtest.Text(t, ctx, "#t-windows"); got != "1号、2号、3号窗口" {
		t.Errorf("windows %q", got)
	}
	if got := webtest.Text(t, ctx, "#t-wait"); !strings.HasPrefix(got, "约 ") || !strings.HasSuffix(got, "分钟") {
		t.Errorf("wait %q", got)
	}
	webtest.Screenshot(t, ctx, dir, "kiosk-ticket.png", 1080, 1920)
	// The hall has the ticket.
	var waiting int
	_ = h.Gateway.View(context.Background(), func(hl *hall.Hall) { waiting = hl.Services()[0].Waiting })
	if waiting != 5 {
		t.Errorf("social has %d waiting after the tap, want 5", waiting)
	}
	// Back to the start screen by itself, with the new count.
	webtest.WaitFor(t, ctx, "the return to the start screen", screen("start"))
	webtest.WaitFor(t, ctx, "the new count", `document.querySelector('.svc[data-service="social"] .d').textContent.startsWith("等候 5 人")`)
}

func TestBrowserRefusals(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w8")
	h.Issue(t, "unresolved", 50) // its daily cap
	ts, desk := serve(t, h, Options{Return: 30 * time.Second, Poll: 200 * time.Millisecond})
	ctx := webtest.Browser(t, 1366, 768)
	open(t, ctx, ts.URL+"/kiosk/k1/")

	// The cap: the button says so and is disabled.
	if got := webtest.Text(t, ctx, `.svc[data-service="unresolved"] .d`); got != "今日号已取完" {
		t.Errorf("capped service says %q", got)
	}
	// A kiosk that did not know yet (the cap was reached meanwhile) gets
	// the refusal from the service.
	h.Open(t, "w1")
	webtest.WaitFor(t, ctx, "social enabled", `!document.querySelector('.svc[data-service="social"]').disabled`)
	desk.setStale(true)
	h.Do(t, hall.Command{Op: hall.OpApplyConfig, Config: capSocial(h.Config, 1), Source: "test"})
	h.Issue(t, "social", 1)
	tap(t, ctx, `.svc[data-service="social"]`)
	webtest.WaitFor(t, ctx, "the refusal", screen("refusal"))
	if got := webtest.Text(t, ctx, "#r-title"); got != "今日号源已取完" {
		t.Errorf("refusal title %q", got)
	}
	if got := webtest.Text(t, ctx, "#r-message"); got != "今日该业务号源已取完，请明日再来或网上预约" {
		t.Errorf("refusal message %q", got)
	}
	webtest.Screenshot(t, ctx, t.TempDir(), "kiosk-refusal.png", 1366, 768)
	desk.setStale(false)
	tap(t, ctx, "#refusal .back")
	webtest.WaitFor(t, ctx, "the start screen", screen("start"))
	webtest.WaitFor(t, ctx, "social capped", `document.querySelector('.svc[data-service="social"]').disabled`)

	// Out of paper: the message, and every button off.
	desk.setPrinter(false)
	webtest.WaitFor(t, ctx, "the printer banner", `!document.getElementById("printer").hidden`)
	if got := webtest.Text(t, ctx, "#printer"); got != "取号机缺纸，请到咨询台取号" {
		t.Errorf("printer banner %q", got)
	}
	webtest.WaitFor(t, ctx, "every button disabled", `Array.from(document.querySelectorAll(".svc, #card-btn")).every(b => b.disabled)`)
	webtest.Screenshot(t, ctx, t.TempDir(), "kiosk-no-paper.png", 1366, 768)
	desk.setPrinter(true)
	webtest.WaitFor(t, ctx, "the banner gone", `document.getElementById("printer").hidden && !document.querySelector('.svc[data-service="household"]').disabled`)
}

func capSocial(c hall.Config, n int) *hall.Config {
	c.Services = append([]hall.ServiceConfig(nil), c.Services...)
	c.Services[0].DailyCap = n
	return &c
}

func TestBrowserCardAndCheckIn(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w4")
	now := h.Clock.Now()
	h.Do(t, hall.Command{Op: hall.OpLoadAppointments, Source: "platform", Appointments: []hall.Appointment{
		{ID: "YY-0031", Service: "tax", Start: now.Add(-5 * time.Minute), End: now.Add(25 * time.Minute), HolderHash: "h1:abc"},
	}})
	ts, desk := serve(t, h, Options{Return: 30 * time.Second, Poll: time.Second})
	ctx := webtest.Browser(t, 1080, 1920)
	open(t, ctx, ts.URL+"/kiosk/k1/")

	tap(t, ctx, "#card-btn")
	webtest.WaitFor(t, ctx, "the swipe screen", screen("swipe"))
	// The kiosk service by mistake sends a clear name: the page masks it.
	desk.card <- map[string]any{"masked_name": "张小三", "age": 67, "green": true, "appointments": []map[string]any{
		{"id": "YY-0031", "service": "tax", "start": now.Add(-5 * time.Minute), "end": now.Add(25 * time.Minute)},
	}}
	webtest.WaitFor(t, ctx, "the card screen", screen("card"))
	if got := webtest.Text(t, ctx, "#greeting"); got != "您好，张*三" {
		t.Errorf("greeting %q, want the masked name", got)
	}
	if webtest.Eval[bool](t, ctx, `document.body.innerText.includes("张小三")`) {
		t.Error("the clear name is on the screen")
	}
	if webtest.Eval[bool](t, ctx, `document.getElementById("green").hidden`) {
		t.Error("no green channel for a 67-year-old")
	}
	if got := webtest.Text(t, ctx, `.appt[data-appointment="YY-0031"]`); !strings.Contains(got, "税务办理") || !strings.Contains(got, "08:55-09:25") {
		t.Errorf("appointment button %q", got)
	}
	webtest.Screenshot(t, ctx, t.TempDir(), "kiosk-card.png", 1080, 1920)
	tap(t, ctx, `.appt[data-appointment="YY-0031"]`)
	webtest.WaitFor(t, ctx, "the checked-in ticket", screen("ticket"))
	if got := webtest.Text(t, ctx, "#t-number"); got != "D001" {
		t.Errorf("checked-in ticket %q, want D001", got)
	}
	if got := webtest.Text(t, ctx, "#t-service"); got != "税务办理" {
		t.Errorf("checked-in service %q", got)
	}

	// No card within the wait: a clear refusal.
	desk.setCardWait(300 * time.Millisecond)
	tap(t, ctx, "#ticket .back")
	webtest.WaitFor(t, ctx, "the start screen", screen("start"))
	tap(t, ctx, "#card-btn")
	webtest.WaitFor(t, ctx, "the no-card refusal", screen("refusal"))
	if got := webtest.Text(t, ctx, "#r-title"); got != "未读到身份证" {
		t.Errorf("no-card title %q", got)
	}
}
