package status

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/web/assets"
	"hallgw/hall"
)

// SelfTest is a test button of the status page: it makes a device show
// that it works (print a test ticket, light every LED bar, play a test
// announcement).
type SelfTest struct {
	Name  string // in the URL: letters, digits, '-', '_'
	Label string // on the button
	Run   func(ctx context.Context) error
}

// Options configure the status page.
type Options struct {
	Gateway *gateway.Gateway
	Health  *health.Registry
	// Status returns the daemon's named status sections; "uplink" is shown
	// as the uplink's state, the others (but "gateway" and "devices",
	// shown from their sources) as they are. Nil shows none.
	Status func() map[string]any
	// Tests lists the self tests; nil has none.
	Tests func() []SelfTest
	// Chart is the day's chart; nil draws none.
	Chart *Chart
	// Metrics is served at /metrics; nil serves none.
	Metrics *prometheus.Registry
	// User and Password protect everything (see Guard).
	User, Password string
	// Identity shown in the header.
	HallName, GatewayID, Version, ConfigVersion string
	Started                                     time.Time
	// UplinkCursor names the uplink's journal cursor, for its lag.
	UplinkCursor string
	// Location is the hall's zone; Now the hall's clock (nil: time.Now).
	Location *time.Location
	Now      func() time.Time
	// TestTimeout bounds a self test (default 60 s).
	TestTimeout time.Duration
	// Refresh is how often the open page reloads its figures (default
	// 10 s).
	Refresh time.Duration
}

// RequestHeader must be on every request that changes something (the test
// buttons send it): a page of another site cannot send it without the
// browser asking first, so the password cached in the browser cannot be
// used against the gateway from elsewhere.
const RequestHeader = "X-Hallgw-Request"

// recentEvents is how many hall events the page lists.
const recentEvents = 50

//go:embed static
var static embed.FS

//go:embed status.html
var pageHTML string

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"label": EventLabel,
}).Parse(pageHTML))

// Handler serves the status page, /metrics and the test buttons.
type Handler struct {
	o       Options
	files   fs.FS
	ver     string
	mux     *http.ServeMux
	guarded http.Handler
	testMu  sync.Mutex
}

// New returns the status handler, already behind its Guard.
func New(o Options) (*Handler, error) {
	if o.Gateway == nil || o.Health == nil {
		return nil, errors.New("status: a gateway and a health registry are needed")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TestTimeout <= 0 {
		o.TestTimeout = time.Minute
	}
	if o.Refresh <= 0 {
		o.Refresh = 10 * time.Second
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, files: files, ver: assets.Version(files, "status.css", "status.js"), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /chart.svg", h.chart)
	h.mux.HandleFunc("POST /selftest/{name}", h.selfTest)
	h.mux.Handle("GET /static/status/", http.StripPrefix("/static/status", assets.Static(files)))
	h.mux.Handle("GET "+assets.Prefix, assets.Handler())
	if o.Metrics != nil {
		h.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	}
	h.guarded = NewGuard(o.User, o.Password, nil).Wrap(h.mux)
	return h, nil
}

// ServeHTTP serves r behind the guard, with headers that forbid framing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.guarded.ServeHTTP(w, r)
}

// Row is a label and its value.
type Row struct{ Key, Value string }

// deviceRow is one device on the page.
type deviceRow struct {
	ID, Kind, Port, State, StateCode, Reason, Since, LastSeen, Errors string
}

type serviceRow struct {
	Prefix, Name                 string
	Waiting, Issued, Served, Cap int
	Estimate, MeanWait           string
}

type pageData struct {
	Hall, Gateway, Version, ConfigVersion, Now, Uptime string
	BaseCSS, BaseJS, CSS, JS                           string
	Devices                                            []deviceRow
	Journal                                            []Row
	Uplink                                             []Row
	Sections                                           []section
	Services                                           []serviceRow
	Windows                                            []Row
	Notice                                             string
	Chart                                              template.HTML
	Legend                                             []LegendItem
	Tests                                              []SelfTest
	Events                                             []eventRow
	Problems                                           int
	RefreshMS                                          int64
}

type section struct {
	Name string
	Rows []Row
}

type eventRow struct {
	Seq                              uint64
	At, Type, Label, Number, Service string
	Window, Detail                   string
}

// clock writes a time in the hall's zone: the time alone when it is
// today, the date and the minute otherwise.
func (h *Handler) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	lt := t.In(h.o.Location)
	ny, nm, nd := h.o.Now().In(h.o.Location).Date()
	if y, m, d := lt.Date(); y == ny && m == nm && d == nd {
		return lt.Format("15:04:05")
	}
	return lt.Format("01-02 15:04")
}

// ago writes how long ago t was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "从未"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "刚刚"
	case d < time.Minute:
		return fmt.Sprintf("%d 秒前", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d 分钟前", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d 小时前", int(d/time.Hour))
	}
	return fmt.Sprintf("%d 天前", int(d/(24*time.Hour)))
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func minutes(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f 分钟", d.Minutes())
}

func estimateText(e hall.Estimate) string {
	if !e.Known {
		return "无法估计"
	}
	lo, hi := int(e.Lo/time.Minute), int((e.Hi+time.Minute-1)/time.Minute)
	if lo == hi {
		return fmt.Sprintf("约 %d 分钟", hi)
	}
	return fmt.Sprintf("约 %d-%d 分钟", lo, hi)
}

var stateNames = map[health.State]string{health.Up: "正常", health.Degraded: "需关注", health.Down: "故障", health.Unknown: "未知"}

// gather reads everything the page shows.
func (h *Handler) gather(ctx context.Context) (pageData, error) {
	now := h.o.Now()
	d := pageData{
		Hall: h.o.HallName, Gateway: h.o.GatewayID, Version: h.o.Version, ConfigVersion: h.o.ConfigVersion,
		Now:     now.In(h.o.Location).Format("2006-01-02 15:04:05"),
		BaseCSS: assets.URL("hallgw.css"), BaseJS: assets.URL("hallgw.js"),
		CSS: "static/status/status.css?v=" + h.ver, JS: "static/status/status.js?v=" + h.ver,
		RefreshMS: h.o.Refresh.Milliseconds(),
	}
	if !h.o.Started.IsZero() {
		d.Uptime = now.Sub(h.o.Started).Round(time.Second).String()
	}
	for _, dev := range h.o.Health.All() {
		var errs []string
		for _, k := range slices.Sorted(maps.Keys(dev.Errors)) {
			errs = append(errs, fmt.Sprintf("%s %d", k, dev.Errors[k]))
		}
		if dev.State != health.Up {
			d.Problems++
		}
		state := stateNames[dev.State]
		if state == "" {
			state = string(dev.State)
		}
		d.Devices = append(d.Devices, deviceRow{
			ID: dev.ID, Kind: dev.Kind, Port: dev.Port, State: state, StateCode: string(dev.State), Reason: dev.Reason,
			Since: h.clock(dev.Since), LastSeen: ago(now, dev.LastSeen), Errors: strings.Join(errs, ", "),
		})
	}
	// The hall.
	err := h.o.Gateway.View(ctx, func(hl *hall.Hall) {
		st := hl.Stats()
		for _, s := range hl.Services() {
			row := serviceRow{Prefix: s.Prefix, Name: s.Name, Waiting: s.Waiting, Issued: s.Issued, Cap: s.DailyCap, Estimate: estimateText(s.Estimate)}
			if c := st.Services[s.ID]; c != nil {
				row.Served = c.Served
				if c.Called > 0 {
					row.MeanWait = minutes(c.WaitSum / time.Duration(c.Called))
				}
			}
			d.Services = append(d.Services, row)
		}
		states := map[string][]string{}
		for _, w := range hl.Windows() {
			states[w.State.String()] = append(states[w.State.String()], fmt.Sprint(w.Number))
		}
		for _, s := range []struct{ key, label string }{{"open", "开放"}, {"paused", "暂停"}, {"closed", "关闭"}} {
			d.Windows = append(d.Windows, Row{fmt.Sprintf("%s（%d）", s.label, len(states[s.key])), strings.Join(states[s.key], " ")})
		}
		if n := hl.Notice(); n.Level != hall.NoticeClear {
			d.Notice = n.Level.String() + ": " + n.Text
		}
	})
	if err != nil {
		return d, fmt.Errorf("status: read the hall: %w", err)
	}
	// The journal and the uplink's lag.
	j := h.o.Gateway.Journal()
	u := j.Usage()
	d.Journal = []Row{
		{"已提交序号", fmt.Sprint(u.Committed)},
		{"最早保留序号", fmt.Sprint(u.First)},
		{"业务记录", fmt.Sprintf("%d 条，%s", u.BusinessRecords, bytesText(u.BusinessBytes))},
		{"遥测记录", fmt.Sprintf("%d 条，%s", u.TelemetryRecords, bytesText(u.TelemetryBytes))},
		{"文件大小", bytesText(u.FileBytes)},
	}
	if h.o.UplinkCursor != "" {
		if cur, err := j.Cursor(h.o.UplinkCursor); err == nil {
			d.Journal = append(d.Journal, Row{"待上送", fmt.Sprintf("%d 条", u.Committed-min(cur, u.Committed))})
		}
		oldest := "无"
		if !u.OldestAt.IsZero() {
			oldest = ago(now, u.OldestAt)
		}
		d.Journal = append(d.Journal, Row{"最早未上送", oldest})
	}
	// Sections.
	if h.o.Status != nil {
		secs := h.o.Status()
		if up, ok := secs["uplink"]; ok {
			d.Uplink = flatten(up)
		}
		for _, name := range slices.Sorted(maps.Keys(secs)) {
			switch name {
			case "uplink", "gateway", "devices":
				continue
			}
			d.Sections = append(d.Sections, section{name, flatten(secs[name])})
		}
	}
	// The chart.
	if h.o.Chart != nil {
		var b bytes.Buffer
		if err := h.o.Chart.SVG(&b); err == nil {
			d.Chart = template.HTML(b.String()) // drawn by Chart.SVG, every text escaped there
		}
		d.Legend = h.o.Chart.Legend()
	}
	if h.o.Tests != nil {
		d.Tests = h.o.Tests()
	}
	evs, err := RecentEvents(j, h.o.GatewayID, recentEvents)
	if err != nil {
		return d, fmt.Errorf("status: recent events: %w", err)
	}
	for _, e := range evs {
		detail := e.Reason
		if e.Type == "ticket_transferred" {
			detail = strings.TrimSpace("→ " + e.ToService + e.ToWindow)
		}
		d.Events = append(d.Events, eventRow{Seq: e.Seq, At: h.clock(e.At), Type: e.Type, Label: EventLabel(e.Type),
			Number: e.Number, Service: e.Service, Window: e.Window, Detail: detail})
	}
	return d, nil
}

// flatten turns a status section (any JSON-encodable value) into rows,
// with dotted keys for nested objects, at most 200.
func flatten(v any) []Row {
	b, err := json.Marshal(v)
	if err != nil {
		return []Row{{"error", err.Error()}}
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return []Row{{"error", err.Error()}}
	}
	var rows []Row
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		if len(rows) >= 200 {
			return
		}
		switch t := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(prefix+"."+k, "."), t[k])
			}
		case []any:
			if len(t) == 0 {
				rows = append(rows, Row{prefix, "—"})
			}
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		case nil:
			rows = append(rows, Row{prefix, "—"})
		default:
			rows = append(rows, Row{prefix, fmt.Sprint(t)})
		}
	}
	walk("", x)
	return rows
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	d, err := h.gather(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (h *Handler) chart(w http.ResponseWriter, r *http.Request) {
	if h.o.Chart == nil {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := h.o.Chart.SVG(&b); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// TestResult is the answer of a test button.
type TestResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Took  string `json:"took"`
}

func (h *Handler) selfTest(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(RequestHeader) != "1" {
		http.Error(w, "status: missing "+RequestHeader+" header", http.StatusForbidden)
		return
	}
	name := r.PathValue("name")
	var test *SelfTest
	if h.o.Tests != nil {
		for _, t := range h.o.Tests() {
			if t.Name == name {
				test = &t
				break
			}
		}
	}
	if test == nil {
		http.Error(w, "status: no self test "+name, http.StatusNotFound)
		return
	}
	if !h.testMu.TryLock() {
		writeJSON(w, http.StatusConflict, TestResult{Error: "另一项自检正在进行"})
		return
	}
	defer h.testMu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), h.o.TestTimeout)
	defer cancel()
	start := time.Now()
	err := test.Run(ctx)
	res := TestResult{OK: err == nil, Took: time.Since(start).Round(time.Millisecond).String()}
	if err != nil {
		res.Error = err.Error()
	}
	writeJSON(w, http.StatusOK, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
