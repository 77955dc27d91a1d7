package status

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/web/webtest"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// truth replays evs with the hall itself and samples it after the last
// event of each minute of the last business day.
func truth(t *testing.T, evs []hall.Event) []Sample {
	t.Helper()
	h, err := hall.New(hall.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out []Sample
	for i, e := range evs {
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
		if e.Type == hall.EvDayReset {
			out = nil
		}
		m := e.At.Truncate(time.Minute)
		if i+1 < len(evs) && evs[i+1].At.Truncate(time.Minute).Equal(m) {
			continue
		}
		s := Sample{At: m, Waiting: map[string]int{}}
		for _, sv := range h.Services() {
			s.Waiting[sv.ID] = sv.Waiting
		}
		s.Called, s.WaitSum = totals(h.Stats())
		out = append(out, s)
	}
	return out
}

func TestBackfillMatchesTheHall(t *testing.T) {
	dir := t.TempDir()
	evs := webtest.SimulateDays(t, dir, 2)
	want := truth(t, evs)
	h := webtest.NewHallWith(t, halltest.Config(), dir)
	h.Clock.Set(evs[len(evs)-1].At.Add(time.Minute))

	c := NewChart(halltest.Location())
	if err := c.Backfill(context.Background(), h.Gateway); err != nil {
		t.Fatal(err)
	}
	got := c.Samples()
	if len(got) != len(want) {
		t.Fatalf("backfill has %d samples, the hall %d", len(got), len(want))
	}
	if day := want[0].At.In(halltest.Location()).Day(); day != 3 {
		t.Fatalf("the truth starts on day %d, want the second simulated day (the 3rd)", day)
	}
	peak := 0
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) || !maps.Equal(nonZero(g.Waiting), nonZero(w.Waiting)) || g.Called != w.Called || g.WaitSum != w.WaitSum {
			t.Fatalf("sample %d: backfill %v %v called %d wait %v; the hall %v %v called %d wait %v",
				i, g.At, g.Waiting, g.Called, g.WaitSum, w.At, w.Waiting, w.Called, w.WaitSum)
		}
		n := 0
		for _, v := range w.Waiting {
			n += v
		}
		peak = max(peak, n)
	}
	if peak < 5 || want[len(want)-1].Called < 200 {
		t.Fatalf("the simulated day is too quiet to test anything: peak %d waiting, %d calls", peak, want[len(want)-1].Called)
	}
	// A restart later in the day keeps the samples taken since.
	h.Clock.Advance(2 * time.Minute)
	_ = h.Gateway.View(context.Background(), func(hl *hall.Hall) { c.Sample(hl, h.Clock.Now()) })
	if err := c.Backfill(context.Background(), h.Gateway); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Samples()); n != len(want)+1 {
		t.Errorf("after a live sample and another backfill: %d samples, want %d", n, len(want)+1)
	}
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestSampleStartsANewDay(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1")
	c := NewChart(halltest.Location())
	sample := func() {
		t.Helper()
		if err := h.Gateway.View(context.Background(), func(hl *hall.Hall) { c.Sample(hl, h.Clock.Now()) }); err != nil {
			t.Fatal(err)
		}
	}
	h.Issue(t, "social", 3)
	sample()
	h.Clock.Advance(20 * time.Second)
	h.Issue(t, "social", 1)
	sample() // the same minute: replaces
	h.Clock.Advance(time.Minute)
	h.CallNext(t, "w1")
	sample()
	got := c.Samples()
	if len(got) != 2 || got[0].Waiting["social"] != 4 || got[1].Waiting["social"] != 3 || got[1].Called != 1 {
		t.Fatalf("samples %+v, want 4 then 3 waiting", got)
	}
	h.Clock.Set(webtest.Morning().Add(24 * time.Hour))
	if err := h.Gateway.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	sample()
	if got := c.Samples(); len(got) != 1 || got[0].Waiting["social"] != 0 {
		t.Fatalf("the next day starts with %+v", got)
	}
}

func TestSVG(t *testing.T) {
	c := NewChart(halltest.Location())
	var empty bytes.Buffer
	if err := c.SVG(&empty); err != nil || !strings.Contains(empty.String(), "今日暂无数据") {
		t.Fatalf("empty chart %q, %v", empty.String(), err)
	}
	dir := t.TempDir()
	evs := webtest.SimulateDays(t, dir, 1)
	h := webtest.NewHallWith(t, halltest.Config(), dir)
	h.Clock.Set(evs[len(evs)-1].At)
	if err := c.Backfill(context.Background(), h.Gateway); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.SVG(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		Lines   []struct {
			Class  string `xml:"class,attr"`
			Points string `xml:"points,attr"`
			Title  string `xml:"title"`
		} `xml:"polyline"`
		Bars  []struct{} `xml:"rect"`
		Texts []string   `xml:"text"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v", err)
	}
	var classes []string
	for _, l := range doc.Lines {
		classes = append(classes, l.Class+":"+l.Title)
		if n := len(strings.Fields(l.Points)); n != len(c.Samples()) {
			t.Errorf("line %s has %d points, want one per sample (%d)", l.Title, n, len(c.Samples()))
		}
	}
	if got := strings.Join(classes, " "); !strings.HasSuffix(got, "total:合计等候") || !strings.Contains(got, "service:A 社保医保") {
		t.Errorf("lines %s", got)
	}
	if len(doc.Bars) < 20 {
		t.Errorf("%d wait bars for a day, want one per quarter hour with calls", len(doc.Bars))
	}
	if got := strings.Join(doc.Texts, " "); !strings.Contains(got, "09:00") || !strings.Contains(got, "12:00") {
		t.Errorf("axis labels %s, want the day's hours in the hall's zone", got)
	}
	if legend := c.Legend(); len(legend) < 4 || legend[0].Label != "A 社保医保" {
		t.Errorf("legend %+v", legend)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 4}, {1, 4}, {4, 4}, {5, 8}, {9, 20}, {21, 40}, {41, 80}, {81, 200}, {2001, 4000}} {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			if got := niceCeil(tt.in); got != tt.want {
				t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
