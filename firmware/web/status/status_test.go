package status

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"hallgw/firmware/journal"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

func TestRecentEvents(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1")
	h.Issue(t, "social", 60)
	for i := 0; i < 300; i++ { // other records between the hall's
		if _, err := h.Journal.Append(context.Background(), journal.Record{Class: journal.Business, Kind: "rating", At: h.Clock.Now(), Data: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	last := h.CallNext(t, "w1")
	last.Seq = h.Journal.Committed() // the call is followed by a turn_near
	evs, err := RecentEvents(h.Journal, "gw-test", 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 50 {
		t.Fatalf("%d events, want 50", len(evs))
	}
	if evs[0].Seq != last.Seq || evs[0].Type != "turn_near" || evs[1].Type != "ticket_called" || evs[0].ID != "gw-test:"+strconv.FormatUint(last.Seq, 10) {
		t.Errorf("newest %+v, %+v; want the call and the turn_near after it, at %d", evs[1], evs[0], last.Seq)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq >= evs[i-1].Seq {
			t.Fatalf("events out of order at %d: %d after %d", i, evs[i].Seq, evs[i-1].Seq)
		}
	}
	all, err := RecentEvents(h.Journal, "gw-test", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(all), int(last.Seq)-300; got != want {
		t.Errorf("asking for more than there are: %d, want every hall event (%d)", got, want)
	}
	if all[len(all)-1].Type != "config_applied" {
		t.Errorf("oldest %+v, want the configuration", all[len(all)-1])
	}
}

func TestEventLabel(t *testing.T) {
	for _, tt := range []struct{ in, want string }{{"ticket_called", "叫号"}, {"notice", "通知"}, {"rating_given", "rating_given"}} {
		if got := EventLabel(tt.in); got != tt.want {
			t.Errorf("EventLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fixture is a status page over a test hall with devices, tests and a
// chart, behind a password.
type fixture struct {
	h       *webtest.Hall
	ts      *httptest.Server
	ran     chan string
	handler *Handler
}

const testPassword = "s3cret-pass"

// newFixture makes the fixture on a small hall, or, with day set, on a
// journal of halltest's simulated day, at its end.
func newFixture(t *testing.T, password string, day bool) *fixture {
	t.Helper()
	var h *webtest.Hall
	if day {
		dir := t.TempDir()
		evs := webtest.SimulateDays(t, dir, 1)
		h = webtest.NewHallWith(t, halltest.Config(), dir)
		h.Clock.Set(evs[len(evs)-1].At.Add(time.Minute))
	} else {
		h = webtest.NewHall(t)
		h.Open(t, "w1", "w2")
		h.Issue(t, "social", 5)
		h.Clock.Advance(3 * time.Minute)
		h.CallNext(t, "w1")
	}
	h.Journal.Hold("uplink")
	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: "午间不间断服务"})
	chart := NewChart(h.Config.Location)
	if err := chart.Backfill(context.Background(), h.Gateway); err != nil {
		t.Fatal(err)
	}
	f := &fixture{h: h, ran: make(chan string, 4)}
	tests := []SelfTest{
		{Name: "print", Label: "打印测试票", Run: func(ctx context.Context) error { f.ran <- "print"; return nil }},
		{Name: "leds", Label: "点亮全部 LED 条屏", Run: func(ctx context.Context) error {
			f.ran <- "leds"
			return errors.New("bus-1: terminal 5 did not answer")
		}},
	}
	reg := devices(h.Clock)
	handler, err := New(Options{
		Gateway: h.Gateway, Health: reg, Chart: chart, User: "admin", Password: password,
		Tests: func() []SelfTest { return tests },
		Status: func() map[string]any {
			return map[string]any{
				"gateway": map[string]any{"id": "gw-test"},
				"uplink":  map[string]any{"broker": "connected", "session": 3, "brokers": []string{"tcp://10.0.0.5:1883"}},
				"power":   map[string]any{"on_battery": false},
			}
		},
		Metrics:  NewRegistry(MetricsOptions{Gateway: h.Gateway, Health: reg, GatewayID: "gw-test", Now: h.Clock.Now}),
		HallName: "示范市政务服务中心", GatewayID: "gw-test", Version: "1.4.2", ConfigVersion: "a1b2c3",
		Started: h.Clock.Now().Add(-time.Hour), UplinkCursor: "uplink", Location: h.Config.Location, Now: h.Clock.Now,
		Refresh: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = handler
	f.ts = httptest.NewServer(handler)
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) get(t *testing.T, method, path string, auth bool, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, nil)
	if auth {
		req.SetBasicAuth("admin", testPassword)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandler(t *testing.T) {
	f := newFixture(t, testPassword, false)
	req := map[string]string{RequestHeader: "1"}
	tests := []struct {
		name, method, path string
		auth               bool
		header             map[string]string
		status             int
		contains           []string
	}{
		{"page needs the password", "GET", "/", false, nil, 401, []string{"authentication required"}},
		{"metrics need the password", "GET", "/metrics", false, nil, 401, nil},
		{"page", "GET", "/", true, nil, 200, []string{
			`data-device="bus-1/display-1" class="st-down"`, "no answer for 30 s", "timeout 2", "gw-test", "1.4.2",
			`<svg id="chart"`, "社保医保", "当前通知：info: 午间不间断服务", "connected", "tcp://10.0.0.5:1883",
			`data-section="power"`, `data-test="leds"`, "叫号", "待上送",
		}},
		{"metrics", "GET", "/metrics", true, nil, 200, []string{`hallgw_queue_waiting{service="social"} 4`, "hallgw_build_info"}},
		{"chart", "GET", "/chart.svg", true, nil, 200, []string{"<polyline", "合计等候"}},
		{"shared files", "GET", "/static/web/hallgw.css", true, nil, 200, []string{"--font"}},
		{"page files", "GET", "/static/status/status.js", true, nil, 200, []string{"selftest/"}},
		{"test without the request header", "POST", "/selftest/print", true, nil, 403, []string{RequestHeader}},
		{"unknown test", "POST", "/selftest/nope", true, req, 404, nil},
		{"test that passes", "POST", "/selftest/print", true, req, 200, []string{`"ok":true`}},
		{"test that fails", "POST", "/selftest/leds", true, req, 200, []string{`"ok":false`, "terminal 5 did not answer"}},
		{"test by GET", "GET", "/selftest/print", true, req, 405, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.get(t, tt.method, tt.path, tt.auth, tt.header)
			if status != tt.status {
				t.Fatalf("%s %s = %d %.300q, want %d", tt.method, tt.path, status, body, tt.status)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("%s %s: no %q in %.2000s", tt.method, tt.path, c, body)
				}
			}
		})
	}
	// The page never shows sealed personal data (the issue events carry
	// none, but check what is on the page anyway).
	_, body := f.get(t, "GET", "/", true, nil)
	if strings.Contains(body, "sealed") || strings.Contains(body, "personal") {
		t.Error("personal data on the status page")
	}
}

func TestOneTestAtATime(t *testing.T) {
	h := webtest.NewHall(t)
	started, release := make(chan struct{}), make(chan struct{})
	handler, err := New(Options{Gateway: h.Gateway, Health: devices(h.Clock), User: "admin", Password: testPassword,
		Tests: func() []SelfTest {
			return []SelfTest{{Name: "slow", Label: "慢", Run: func(ctx context.Context) error {
				close(started)
				<-release
				return nil
			}}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ts: httptest.NewServer(handler)}
	defer f.ts.Close()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", f.ts.URL+"/selftest/slow", nil)
		req.SetBasicAuth("admin", testPassword)
		req.Header.Set(RequestHeader, "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-started
	if status, body := f.get(t, "POST", "/selftest/slow", true, map[string]string{RequestHeader: "1"}); status != http.StatusConflict {
		t.Errorf("a second test while one runs: %d %s, want 409", status, body)
	}
	close(release)
	if got := <-done; got != 200 {
		t.Errorf("the first test: %d, want 200", got)
	}
}

func TestNoPasswordRefusesTheLAN(t *testing.T) {
	f := newFixture(t, "", false)
	// httptest listens on 127.0.0.1: loopback to loopback is served.
	if status, _ := f.get(t, "GET", "/", false, nil); status != 200 {
		t.Errorf("loopback without a password: %d, want 200", status)
	}
	w := httptest.NewRecorder()
	r := request("192.168.1.20:40000", "192.168.1.2:8081", nil, nil)
	f.handler.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "web.status_password") {
		t.Errorf("a LAN client without a password: %d %s, want 403 naming the setting", w.Code, w.Body.String())
	}
}

func TestBrowserStatusPage(t *testing.T) {
	f := newFixture(t, testPassword, true)
	ctx := webtest.Browser(t, 1280, 1600)

	// Without the password the browser cannot open the page.
	nctx, cancel := context.WithTimeout(ctx, webtest.Timeout)
	err := chromedp.Do(nctx, chromedp.Navigate(f.ts.URL+"/"))
	cancel()
	if err == nil || !strings.Contains(err.Error(), "ERR_INVALID_AUTH_CREDENTIALS") {
		t.Fatalf("opening the page without the password: %v, want the browser's authentication error", err)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+testPassword))
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	webtest.Step(t, ctx, "open with the password", chromedp.Navigate(f.ts.URL+"/"))
	webtest.WaitFor(t, ctx, "the device rows", `document.querySelectorAll("#devices tbody tr").length === 4`)
	if got := webtest.Text(t, ctx, `tr[data-device="bus-1/display-1"]`); !strings.Contains(got, "故障") || !strings.Contains(got, "no answer for 30 s") || !strings.Contains(got, "crc 4") {
		t.Errorf("display row %q", got)
	}
	if got := webtest.Text(t, ctx, `tr[data-device="ups"] .state`); got != "需关注" {
		t.Errorf("ups state %q", got)
	}
	// The chart is drawn inline, with a line for the total.
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("#chart polyline.total").length`); n != 1 {
		t.Errorf("%d total lines in the chart", n)
	}
	if w := webtest.Eval[float64](t, ctx, `document.getElementById("chart").getBoundingClientRect().width`); w < 600 {
		t.Errorf("the chart is %.0f px wide", w)
	}
	if got := webtest.Text(t, ctx, `#events tbody tr:first-child`); !strings.Contains(got, "通知") {
		t.Errorf("newest event row %q, want the notice", got)
	}
	webtest.Screenshot(t, ctx, t.TempDir(), "status.png", 1280, 1600)

	// The test buttons. A refresh keeps the panel's own nodes, so that a
	// press half done when the figures are swapped still lands.
	webtest.Eval[bool](t, ctx, `(document.querySelector('button[data-test="print"]').dataset.mark = "1") === "1"`)
	refreshed := webtest.Eval[string](t, ctx, `document.body.dataset.refreshed || "0"`)
	webtest.WaitFor(t, ctx, "a refresh", `(document.body.dataset.refreshed || "0") !== `+strconv.Quote(refreshed))
	if !webtest.Eval[bool](t, ctx, `document.querySelector('button[data-test="print"]').dataset.mark === "1"`) {
		t.Error("a refresh replaced the test buttons")
	}
	webtest.Click(t, ctx, `button[data-test="print"]`)
	webtest.WaitFor(t, ctx, "the print result", `document.getElementById("test-result").dataset.outcome`)
	if got := webtest.Text(t, ctx, "#test-result"); !strings.Contains(got, "通过") {
		t.Errorf("the print test shows %q", got)
	}
	if got := <-f.ran; got != "print" {
		t.Errorf("ran %q", got)
	}
	webtest.Click(t, ctx, `button[data-test="leds"]`)
	webtest.WaitFor(t, ctx, "the led result", `document.getElementById("test-result").dataset.outcome === "fail"`)
	if got := webtest.Text(t, ctx, "#test-result"); !strings.Contains(got, "失败") || !strings.Contains(got, "terminal 5 did not answer") {
		t.Errorf("failed test shows %q", got)
	}
	<-f.ran

	// The figures refresh without a reload.
	f.h.Issue(t, "tax", 1)
	webtest.WaitFor(t, ctx, "the refreshed events", `document.querySelector("#events tbody tr").dataset.type === "turn_near" || document.querySelector("#events tbody tr").dataset.type === "ticket_issued"`)
	if n := webtest.Eval[int](t, ctx, `performance.getEntriesByType("navigation").length`); n != 1 {
		t.Errorf("%d navigations, want 1", n)
	}
	if got := webtest.Text(t, ctx, "#test-result"); !strings.Contains(got, "失败") {
		t.Errorf("the refresh lost the test result: %q", got)
	}
}
