package status

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hallgw/firmware/api"
	"hallgw/firmware/gateway"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// dayHall is a hall at the end of a simulated business day (about 2 000
// hall events), with devices.
func dayHall(b *testing.B) *webtest.Hall {
	b.Helper()
	dir := b.TempDir()
	evs := webtest.SimulateDays(b, dir, 1)
	h := webtest.NewHallWith(b, halltest.Config(), dir)
	h.Clock.Set(evs[len(evs)-1].At.Add(time.Minute))
	return h
}

// BenchmarkRebuild is the baseline of BenchmarkBackfill: rebuilding the
// hall from the same journal, which the gateway does at every start.
func BenchmarkRebuild(b *testing.B) {
	h := dayHall(b)
	for b.Loop() {
		if _, _, _, err := gateway.Rebuild(h.Journal, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackfill draws the day's chart from the journal, as the status
// page does at start.
func BenchmarkBackfill(b *testing.B) {
	h := dayHall(b)
	for b.Loop() {
		if err := NewChart(h.Config.Location).Backfill(context.Background(), h.Gateway); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPIState is the baseline of BenchmarkScrape: the local API's
// GET /api/v1/state, read and encoded.
func BenchmarkAPIState(b *testing.B) {
	h := dayHall(b)
	for b.Loop() {
		var st api.StateDoc
		if err := h.Gateway.View(context.Background(), func(hl *hall.Hall) { st = api.NewStateDoc(hl) }); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrape is one scrape of /metrics (without the Go runtime's
// collectors, which are not ours).
func BenchmarkScrape(b *testing.B) {
	h := dayHall(b)
	handler := promhttp.HandlerFor(NewRegistry(MetricsOptions{Gateway: h.Gateway, Health: devices(h.Clock), UplinkCursor: "uplink",
		GatewayID: "gw-test", Now: h.Clock.Now}), promhttp.HandlerOpts{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkChartSVG draws a full day's chart.
func BenchmarkChartSVG(b *testing.B) {
	h := dayHall(b)
	c := NewChart(h.Config.Location)
	if err := c.Backfill(context.Background(), h.Gateway); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := c.SVG(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPage renders the whole status page.
func BenchmarkPage(b *testing.B) {
	h := dayHall(b)
	c := NewChart(h.Config.Location)
	if err := c.Backfill(context.Background(), h.Gateway); err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Gateway: h.Gateway, Health: devices(h.Clock), Chart: c, Location: h.Config.Location, Now: h.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.gather(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
