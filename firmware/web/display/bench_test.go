package display

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"hallgw/firmware/api"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

func dayHall(b *testing.B) *webtest.Hall {
	b.Helper()
	dir := b.TempDir()
	evs := webtest.SimulateDays(b, dir, 1)
	h := webtest.NewHallWith(b, halltest.Config(), dir)
	h.Clock.Set(evs[len(evs)-1].At.Add(time.Minute))
	return h
}

func benchSource(b *testing.B, h *webtest.Hall) *source {
	b.Helper()
	d, err := New(Options{Gateway: h.Gateway, HallName: "示范市政务服务中心"})
	if err != nil {
		b.Fatal(err)
	}
	src, err := d.open(httptest.NewRequest("GET", "/display/events", nil))
	if err != nil {
		b.Fatal(err)
	}
	return src.(*source)
}

// BenchmarkAPIState is the baseline: the local API's GET /api/v1/state,
// read and encoded.
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

// BenchmarkRefresh is the state a display gets after a burst of events.
func BenchmarkRefresh(b *testing.B) {
	h := dayHall(b)
	src := benchSource(b, h)
	for b.Loop() {
		if _, err := src.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart is a display's first message: the state and the day's
// latest calls, read back from the journal.
func BenchmarkStart(b *testing.B) {
	h := dayHall(b)
	src := benchSource(b, h)
	for b.Loop() {
		if _, _, err := src.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
