package display

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallgw/firmware/config"
	"hallgw/firmware/web/assets"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
)

// gate sits in front of the event streams: it can cut every open stream
// and hold new ones back, and it records the Last-Event-ID of each.
type gate struct {
	mu      sync.Mutex
	cancels []context.CancelFunc
	held    chan struct{} // nil: open
	lastIDs []string
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		held := g.held
		g.lastIDs = append(g.lastIDs, r.Header.Get("Last-Event-ID"))
		g.mu.Unlock()
		if held != nil {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		ctx, cancel := context.WithCancel(r.Context())
		g.mu.Lock()
		g.cancels = append(g.cancels, cancel)
		g.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// cut ends every open stream and holds new ones until release.
func (g *gate) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = make(chan struct{})
	for _, c := range g.cancels {
		c()
	}
	g.cancels = nil
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.held)
	g.held = nil
}

func (g *gate) ids() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.lastIDs...)
}

// serve runs the display pages of h and the shared files.
func serve(t *testing.T, h *webtest.Hall, calls int) (*httptest.Server, *gate) {
	t.Helper()
	d, err := New(Options{Gateway: h.Gateway, HallName: "示范市政务服务中心", Calls: calls, Location: h.Config.Location})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	mux.Handle(assets.Prefix, assets.Handler())
	g := &gate{}
	root := http.NewServeMux()
	root.Handle("/display/events", g.wrap(mux))
	root.Handle("/", mux)
	ts := httptest.NewServer(root)
	t.Cleanup(ts.Close)
	return ts, g
}

func firstState(t *testing.T, url string) StateDoc {
	t.Helper()
	ev := webtest.Connect(t, url, "")
	defer ev.Close()
	m := ev.NextOf("state")
	var st StateDoc
	if err := json.Unmarshal([]byte(m.Data), &st); err != nil {
		t.Fatalf("state %q: %v", m.Data, err)
	}
	return st
}

func callList(cs []CallDoc) string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%s@%d", c.Number, c.WindowNumber))
	}
	return strings.Join(s, " ")
}

func TestSnapshotHasTheDaysLatestCalls(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w2", "w3")
	h.Issue(t, "social", 9)
	for _, w := range []string{"w1", "w2", "w3", "w1", "w2", "w3", "w1", "w2"} {
		h.Clock.Advance(time.Minute)
		h.CallNext(t, w)
	}
	ts, _ := serve(t, h, 6)

	st := firstState(t, ts.URL+"/display/events")
	if !st.Fresh || st.Hall != "示范市政务服务中心" || st.Day != 1 {
		t.Errorf("snapshot fresh %v hall %q day %d", st.Fresh, st.Hall, st.Day)
	}
	if got, want := callList(st.Calls), "A003@3 A004@1 A005@2 A006@3 A007@1 A008@2"; got != want {
		t.Errorf("snapshot calls = %s, want %s", got, want)
	}
	if c := st.Calls[5]; c.ServiceName != "社保医保" || c.WindowName != "综合受理二" || c.Window != "w2" {
		t.Errorf("last call %+v", c)
	}
	if len(st.Windows) != 8 || st.Windows[0].Current != "A007" || st.Windows[0].State != "open" || st.Windows[3].State != "closed" {
		t.Errorf("windows %+v", st.Windows)
	}
	if s := st.Services[0]; s.ID != "social" || s.Waiting != 1 || s.Estimate == nil || !s.Estimate.Known {
		t.Errorf("social %+v", s)
	}
	if st.Notice.Level != "clear" {
		t.Errorf("notice %+v", st.Notice)
	}

	// A display of window 1 only.
	one := firstState(t, ts.URL+"/display/events?windows=1")
	if got, want := callList(one.Calls), "A001@1 A004@1 A007@1"; got != want {
		t.Errorf("windows=1 calls = %s, want %s", got, want)
	}
	if len(one.Windows) != 1 || one.Windows[0].Number != 1 {
		t.Errorf("windows=1 windows %+v", one.Windows)
	}
	var svc []string
	for _, s := range one.Services {
		svc = append(svc, s.ID)
	}
	if strings.Join(svc, ",") != "social,household" {
		t.Errorf("windows=1 services %v, want those window 1 serves", svc)
	}

	// The next business day starts with no calls.
	h.Clock.Set(webtest.Morning().Add(24 * time.Hour))
	if err := h.Gateway.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := firstState(t, ts.URL+"/display/events"); len(st.Calls) != 0 || st.Day != 2 {
		t.Errorf("next day: day %d calls %s, want day 2 and none", st.Day, callList(st.Calls))
	}
}

func TestLiveCallsAndNotices(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w5")
	h.Issue(t, "social", 2)
	h.Issue(t, "business", 1)
	ts, _ := serve(t, h, 6)
	ev := webtest.Connect(t, ts.URL+"/display/events?windows=5", "")
	ev.NextOf("state")
	// next returns the next message of type typ, skipping heartbeats
	// and state refreshes (one or more follow every burst of events).
	next := func(typ string) webtest.Message {
		t.Helper()
		for {
			m := ev.Next()
			if m.Comment != "" || m.Type == "state" && typ != "state" {
				continue
			}
			if m.Type != typ {
				t.Fatalf("got %+v, want a %q message", m, typ)
			}
			return m
		}
	}

	h.CallNext(t, "w1") // not on this display
	if m := next("state"); strings.Contains(m.Data, "A001") {
		t.Errorf("window 1's call leaked into the state of a window-5 display: %s", m.Data)
	}
	call := h.CallNext(t, "w5")
	m := next("call")
	var c CallDoc
	if err := json.Unmarshal([]byte(m.Data), &c); err != nil {
		t.Fatal(err)
	}
	if c.Number != "C001" || c.WindowNumber != 5 || c.Recall || m.ID != strconv.FormatUint(call.Seq, 10) {
		t.Errorf("call message %s (id %s), want C001 at window 5 with id %d", m.Data, m.ID, call.Seq)
	}
	h.Clock.Advance(time.Minute)
	h.Do(t, hall.Command{Op: hall.OpRecall, Window: "w5"})
	if m := next("call"); !strings.Contains(m.Data, `"recall":true`) {
		t.Errorf("recall message %s", m.Data)
	}
	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeEmergency, Reason: "请立即有序撤离"})
	if m := next("notice"); m.Data != `{"level":"emergency","text":"请立即有序撤离"}` {
		t.Errorf("notice message %s", m.Data)
	}
	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeClear})
	if m := next("notice"); m.Data != `{"level":"clear"}` {
		t.Errorf("clear message %s", m.Data)
	}
}

func TestPage(t *testing.T) {
	h := webtest.NewHall(t)
	ts, _ := serve(t, h, 6)
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"page", "/display/", 200, `data-events="events"`},
		{"filtered", "/display/?windows=3,1-2", 200, `data-events="events?windows=1-3"`},
		{"redirect keeps the filter", "/display?windows=4", 200, `data-windows="4"`},
		{"bad filter", "/display/?windows=x", 400, "not a window number"},
		{"script", "/display/static/display.js", 200, "EventSource"},
		{"style", "/display/static/display.css", 200, ".emergency"},
		{"shared script", assets.URL("hallgw.js"), 200, "maskName"},
		{"no listing", "/display/static/", 404, ""},
		{"bad events filter", "/display/events?windows=0", 400, "window numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = fmt.Fprint(&b, readAll(t, resp))
			if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.contains) {
				t.Errorf("GET %s = %d %.200q, want %d containing %q", tt.path, resp.StatusCode, b.String(), tt.status, tt.contains)
			}
		})
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// openPage loads the display in the browser and waits for its first state.
func openPage(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	webtest.Step(t, ctx, "open the display", chromedp.Navigate(url))
	webtest.WaitFor(t, ctx, "the first state", `document.body.dataset.connected === "1" && document.querySelectorAll("#windows .win").length > 0`)
}

func TestBrowserShowsCallsLive(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w2", "w3", "w5", "w6")
	h.Do(t, hall.Command{Op: hall.OpPause, Window: "w6", Reason: "午休"})
	h.Issue(t, "social", 6)
	h.Issue(t, "business", 2)
	ts, _ := serve(t, h, 6)
	ctx := webtest.Browser(t, 1920, 1080)
	openPage(t, ctx, ts.URL+"/display/")

	if got := webtest.Text(t, ctx, "#latest-to"); got != "等待叫号" {
		t.Errorf("before any call the display says %q", got)
	}
	if got := webtest.Text(t, ctx, `.svc[data-service="social"] .w`); got != "6" {
		t.Errorf("social waiting shows %q, want 6", got)
	}
	h.CallNext(t, "w5")
	webtest.WaitFor(t, ctx, "the call of C001", `document.getElementById("latest-number").textContent === "C001"`)
	if got := webtest.Text(t, ctx, "#latest-to"); got != "请到 5 号窗口" {
		t.Errorf("latest call says %q, want 请到 5 号窗口", got)
	}
	if !webtest.Eval[bool](t, ctx, `document.getElementById("latest").classList.contains("flash")`) {
		t.Error("the new call does not flash")
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		h.Clock.Advance(30 * time.Second)
		h.CallNext(t, w)
	}
	webtest.WaitFor(t, ctx, "A003 at window 3", `document.getElementById("latest-number").textContent === "A003"`)
	webtest.WaitFor(t, ctx, "the history", `document.querySelectorAll("#calls li").length === 3`)
	if got := webtest.Text(t, ctx, "#calls li:first-child"); !strings.Contains(got, "A002") || !strings.Contains(got, "请到 2 号窗口") {
		t.Errorf("first history row %q, want A002 请到 2 号窗口", got)
	}
	webtest.WaitFor(t, ctx, "window 5's number", `document.querySelector('.win[data-window="5"] .cur').textContent === "C001"`)
	webtest.WaitFor(t, ctx, "social waiting 3", `document.querySelector('.svc[data-service="social"] .w').textContent === "3"`)
	if got := webtest.Text(t, ctx, `.win[data-window="6"] .cur`); got != "暂停服务" {
		t.Errorf("paused window shows %q", got)
	}
	if got := webtest.Text(t, ctx, `.win[data-window="8"] .cur`); got != "未开放" {
		t.Errorf("closed window shows %q", got)
	}
	h.Clock.Advance(time.Minute)
	h.Do(t, hall.Command{Op: hall.OpRecall, Window: "w5"})
	webtest.WaitFor(t, ctx, "the recall of C001", `document.getElementById("latest-number").textContent === "C001"`)
	// The page never reloaded.
	if n := webtest.Eval[int](t, ctx, `performance.getEntriesByType("navigation").length`); n != 1 {
		t.Errorf("%d navigations, want 1", n)
	}
	webtest.Screenshot(t, ctx, t.TempDir(), "display-1920x1080.png", 1920, 1080)
}

func TestBrowserEmergencyBanner(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1")
	h.Issue(t, "social", 1)
	h.CallNext(t, "w1")
	ts, _ := serve(t, h, 6)
	ctx := webtest.Browser(t, 1366, 768)
	openPage(t, ctx, ts.URL+"/display/")
	dir := t.TempDir()

	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeEmergency, Reason: "大厅发生火情，请听从工作人员指挥，立即有序撤离"})
	webtest.WaitFor(t, ctx, "the emergency banner", `!document.getElementById("emergency").hidden`)
	if got := webtest.Text(t, ctx, "#emergency-text"); got != "大厅发生火情，请听从工作人员指挥，立即有序撤离" {
		t.Errorf("banner says %q", got)
	}
	img := webtest.Screenshot(t, ctx, dir, "display-emergency.png", 1366, 768)
	if red := webtest.DominantRed(img); red < 0.6 {
		t.Errorf("the emergency banner covers %.0f%% of the screen in red, want most of it", red*100)
	}

	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: "今日 12:00-13:00 午间不间断服务"})
	webtest.WaitFor(t, ctx, "the ticker instead of the banner", `document.getElementById("emergency").hidden && !document.getElementById("ticker").hidden`)
	if got := webtest.Text(t, ctx, "#ticker-text"); got != "今日 12:00-13:00 午间不间断服务" {
		t.Errorf("ticker says %q", got)
	}
	img = webtest.Screenshot(t, ctx, dir, "display-info.png", 1366, 768)
	if red := webtest.DominantRed(img); red > 0.05 {
		t.Errorf("after the emergency %.0f%% of the screen is still red", red*100)
	}

	h.Do(t, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeClear})
	webtest.WaitFor(t, ctx, "no notice", `document.getElementById("emergency").hidden && document.getElementById("ticker").hidden`)
}

func TestBrowserResumesAfterCut(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w2")
	h.Issue(t, "social", 6)
	ts, g := serve(t, h, 6)
	ctx := webtest.Browser(t, 1366, 768)
	openPage(t, ctx, ts.URL+"/display/")
	before := h.CallNext(t, "w1")
	webtest.WaitFor(t, ctx, "A001", `document.getElementById("latest-number").textContent === "A001"`)
	webtest.WaitFor(t, ctx, "the refresh after A001", `document.querySelector('.win[data-window="1"] .cur').textContent === "A001"`)

	g.cut()
	webtest.WaitFor(t, ctx, "the page to notice the cut", `document.body.dataset.connected === "0"`)
	// Calls while the display is cut off.
	var missed []string
	for _, w := range []string{"w2", "w1", "w2"} {
		h.Clock.Advance(time.Minute)
		missed = append(missed, h.CallNext(t, w).Event.Number)
	}
	if got := webtest.Text(t, ctx, "#latest-number"); got != "A001" {
		t.Fatalf("the display shows %q while cut off", got)
	}
	g.release()
	webtest.WaitFor(t, ctx, "the missed calls", `document.getElementById("latest-number").textContent === "A004"`)
	webtest.WaitFor(t, ctx, "the history of missed calls", `document.querySelectorAll("#calls li").length === 3`)
	rows := webtest.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#calls li .n")).map(n => n.textContent)`)
	if got, want := strings.Join(rows, " "), "A003 A002 A001"; got != want {
		t.Errorf("history after the cut %s, want %s (missed %v)", got, want, missed)
	}
	ids := g.ids()
	if len(ids) < 2 || ids[0] != "" {
		t.Fatalf("stream requests carried Last-Event-ID %q, want none first and then the last seq", ids)
	}
	last, err := strconv.ParseUint(ids[len(ids)-1], 10, 64)
	if err != nil || last < before.Seq {
		t.Errorf("the browser resumed from %q, want at least the seq %d of A001", ids[len(ids)-1], before.Seq)
	}
}

func TestBrowserLayoutFits(t *testing.T) {
	hc, err := config.Default().HallConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct{ w, h int }{{1920, 1080}, {1366, 768}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			h := webtest.NewHallWith(t, hc, t.TempDir())
			for _, w := range hc.Windows {
				h.Open(t, w.ID)
			}
			h.Do(t, hall.Command{Op: hall.OpPause, Window: "19", Reason: "培训"})
			h.Do(t, hall.Command{Op: hall.OpCloseWindow, Window: "20"})
			for _, s := range hc.Services {
				h.Issue(t, s.ID, 3)
			}
			for _, w := range []string{"1", "7", "10", "13", "16", "3", "18"} {
				h.Clock.Advance(20 * time.Second)
				h.CallNext(t, w)
			}
			ts, _ := serve(t, h, 6)
			ctx := webtest.Browser(t, size.w, size.h)
			openPage(t, ctx, ts.URL+"/display/")
			webtest.WaitFor(t, ctx, "every window", `document.querySelectorAll("#windows .win").length === 20`)
			fits := webtest.Eval[bool](t, ctx, `(() => {
				const d = document.documentElement;
				if (d.scrollHeight > innerHeight || d.scrollWidth > innerWidth) return false;
				const list = document.getElementById("calls").getBoundingClientRect();
				const rows = Array.from(document.querySelectorAll("#calls li:not([hidden])"));
				if (rows.length < 3 || rows.some(e => e.getBoundingClientRect().bottom > list.bottom + 0.5)) return false;
				return Array.from(document.querySelectorAll(".win, .svc, #latest")).every(e => {
					const r = e.getBoundingClientRect();
					return r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5 && r.height > 0;
				});
			})()`)
			if !fits {
				why := webtest.Eval[string](t, ctx, `JSON.stringify({sh: document.documentElement.scrollHeight, sw: document.documentElement.scrollWidth,
					rows: Array.from(document.querySelectorAll("#calls li")).map(e => [e.hidden, e.getBoundingClientRect().bottom]),
					list: document.getElementById("calls").getBoundingClientRect().bottom,
					off: Array.from(document.querySelectorAll(".win, .svc, #latest")).filter(e => { const r = e.getBoundingClientRect(); return r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5 || r.height <= 0; }).map(e => e.className + " " + e.textContent)})`)
				t.Errorf("at %dx%d the display does not fit the screen: %s", size.w, size.h, why)
			}
			// Large type: the latest number is at least a tenth of the screen high.
			if px := webtest.Eval[float64](t, ctx, `parseFloat(getComputedStyle(document.getElementById("latest-number")).fontSize)`); px < float64(size.h)/10 {
				t.Errorf("latest number is %.0f px high on a %d px screen", px, size.h)
			}
			webtest.Screenshot(t, ctx, t.TempDir(), fmt.Sprintf("display-%dx%d.png", size.w, size.h), size.w, size.h)
		})
	}
}
