package status

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Sample is the hall at the end of one minute of hall time.
type Sample struct {
	At time.Time // the minute, truncated
	// Waiting is the number of people in each service's queue.
	Waiting map[string]int
	// Called and WaitSum are cumulative over the day, as the hall's
	// statistics count them (every call, with the wait since the ticket
	// last began to wait), so that two samples give the mean wait of the
	// calls between them.
	Called  int
	WaitSum time.Duration
}

// Chart keeps a sample per minute of the business day, in memory, and
// draws them. It is safe for concurrent use.
type Chart struct {
	loc *time.Location

	mu       sync.Mutex
	day      int
	services []chartService
	samples  []Sample // by At, one per minute at most
}

type chartService struct{ id, name, prefix string }

// maxSamples bounds the ring: a day and a bit of minutes.
const maxSamples = 26 * 60

// lookbackRecords bounds the journal records Backfill reads: far more
// than a day of a large hall.
const lookbackRecords = 50000

// NewChart returns an empty chart drawn in the hall's zone loc.
func NewChart(loc *time.Location) *Chart {
	if loc == nil {
		loc = time.UTC
	}
	return &Chart{loc: loc}
}

func servicesOf(h *hall.Hall) []chartService {
	var out []chartService
	for _, s := range h.Services() {
		out = append(out, chartService{s.ID, s.Name, s.Prefix})
	}
	return out
}

// totals returns the day's first calls and their waits over every
// service.
func totals(st hall.Stats) (int, time.Duration) {
	var n int
	var sum time.Duration
	for _, c := range st.Services {
		n += c.Called
		sum += c.WaitSum
	}
	return n, sum
}

// Sample records the hall h at hall time now; a second sample of the same
// minute replaces the first. A new business day starts a new chart.
func (c *Chart) Sample(h *hall.Hall, now time.Time) {
	day, _ := h.Day()
	s := Sample{At: now.Truncate(time.Minute), Waiting: map[string]int{}}
	for _, sv := range h.Services() {
		s.Waiting[sv.ID] = sv.Waiting
	}
	s.Called, s.WaitSum = totals(h.Stats())
	c.mu.Lock()
	defer c.mu.Unlock()
	if day != c.day {
		c.day, c.samples = day, nil
	}
	c.services = servicesOf(h)
	c.add(s)
}

// add appends s, or replaces the last sample when s is of the same
// minute; a sample older than the last is dropped (the clock went back).
func (c *Chart) add(s Sample) {
	if n := len(c.samples); n > 0 {
		last := c.samples[n-1].At
		switch {
		case s.At.Equal(last):
			c.samples[n-1] = s
			return
		case s.At.Before(last):
			return
		}
	}
	c.samples = append(c.samples, s)
	if len(c.samples) > maxSamples {
		c.samples = slices.Delete(c.samples, 0, len(c.samples)-maxSamples)
	}
}

// Samples returns a copy of the day's samples.
func (c *Chart) Samples() []Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Sample, len(c.samples))
	for i, s := range c.samples {
		s.Waiting = maps.Clone(s.Waiting)
		out[i] = s
	}
	return out
}

// Run samples the hall at every new minute of hall time until ctx ends,
// looking at the clock every check (one second of real time suits both
// the hall and the accelerated demo).
func (c *Chart) Run(ctx context.Context, gw *gateway.Gateway, check time.Duration) {
	t := time.NewTicker(check)
	defer t.Stop()
	var last time.Time
	for {
		if now := gw.Now().Truncate(time.Minute); !now.Equal(last) {
			err := gw.View(ctx, func(h *hall.Hall) { c.Sample(h, gw.Now()) })
			if err == nil {
				last = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tally follows the queues through the day's events, the way the hall
// does: a ticket waits in its service's queue from its issue, its
// reactivation or its transfer to the service until it is called or
// expires; tickets addressed to a window are not in a service queue. Like
// the hall's statistics, every call counts, with the wait since the ticket
// last began to wait.
type tally struct {
	waiting map[string]int
	inQueue map[hall.TicketID]string
	since   map[hall.TicketID]time.Time
	called  int
	waitSum time.Duration
}

func newTally() *tally {
	return &tally{waiting: map[string]int{}, inQueue: map[hall.TicketID]string{}, since: map[hall.TicketID]time.Time{}}
}

func (t *tally) leave(id hall.TicketID) {
	if svc, ok := t.inQueue[id]; ok {
		t.waiting[svc]--
		delete(t.inQueue, id)
	}
}

func (t *tally) join(id hall.TicketID, svc string) {
	t.leave(id)
	t.inQueue[id] = svc
	t.waiting[svc]++
}

func (t *tally) apply(e hall.Event) {
	switch e.Type {
	case hall.EvTicketIssued, hall.EvTicketReactivated:
		t.since[e.Ticket] = e.At
		t.join(e.Ticket, e.Service)
	case hall.EvTicketCalled:
		t.leave(e.Ticket)
		if at, ok := t.since[e.Ticket]; ok {
			t.called++
			t.waitSum += min(max(0, e.At.Sub(at)), 30*24*time.Hour)
			delete(t.since, e.Ticket)
		}
	case hall.EvTicketTransferred:
		t.leave(e.Ticket)
		t.since[e.Ticket] = e.At
		if e.ToService != "" {
			t.join(e.Ticket, e.ToService)
		}
	case hall.EvTicketReturned:
		t.leave(e.Ticket)
		t.since[e.Ticket] = e.At
	case hall.EvTicketExpired:
		t.leave(e.Ticket)
		delete(t.since, e.Ticket)
	}
}

func (t *tally) sample(at time.Time) Sample {
	return Sample{At: at, Waiting: maps.Clone(t.waiting), Called: t.called, WaitSum: t.waitSum}
}

// Backfill draws the day so far from the journal, so that a restart does
// not lose it: it reads the hall events since the day's reset (within the
// last 50 000 records) and replays the queues minute by minute. The
// replay is anchored on the hall as it stands, so it ends exactly where
// the live samples begin; tickets carried over from the day before (with
// queue.carry_over) count as waiting since the reset. Samples already
// taken are kept.
func (c *Chart) Backfill(ctx context.Context, gw *gateway.Gateway) error {
	var seq uint64
	var day int
	var now Sample
	var svcs []chartService
	err := gw.View(ctx, func(h *hall.Hall) {
		seq = gw.Journal().Committed()
		day, _ = h.Day()
		svcs = servicesOf(h)
		now = Sample{At: gw.Now().Truncate(time.Minute), Waiting: map[string]int{}}
		for _, s := range h.Services() {
			now.Waiting[s.ID] = s.Waiting
		}
		now.Called, now.WaitSum = totals(h.Stats())
	})
	if err != nil {
		return fmt.Errorf("status: chart: %w", err)
	}
	j := gw.Journal()
	from := max(j.First(), 1)
	if seq > lookbackRecords && seq-lookbackRecords+1 > from {
		from = seq - lookbackRecords + 1
	}
	// Keep the events after the day's reset.
	var evs []hall.Event
	errEnd := errors.New("end")
	err = j.Scan(from, func(r journal.Record) error {
		if r.Seq > seq {
			return errEnd
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Kind != gateway.KindHall {
			return nil
		}
		var e hall.Event
		if e.UnmarshalBinary(r.Data) != nil {
			return nil
		}
		if e.Type == hall.EvDayReset {
			evs = evs[:0]
			if e.Count != day {
				return nil
			}
		}
		evs = append(evs, e)
		return nil
	})
	if err != nil && !errors.Is(err, errEnd) {
		return fmt.Errorf("status: chart: %w", err)
	}
	// Replay minute by minute.
	t := newTally()
	var out []Sample
	for i, e := range evs {
		t.apply(e)
		m := e.At.Truncate(time.Minute)
		if i+1 == len(evs) || !evs[i+1].At.Truncate(time.Minute).Equal(m) {
			out = append(out, t.sample(m))
		}
	}
	// Anchor: what the replay cannot see (tickets carried over, waits
	// measured otherwise) is the difference with the hall now.
	end := t.sample(now.At)
	for i := range out {
		for id, n := range now.Waiting {
			out[i].Waiting[id] += n - end.Waiting[id]
			out[i].Waiting[id] = max(0, out[i].Waiting[id])
		}
		out[i].Called += now.Called - end.Called
		out[i].WaitSum += now.WaitSum - end.WaitSum
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.day != day {
		c.day, c.samples = day, nil
	}
	c.services = svcs
	live := c.samples
	c.samples = nil
	for _, s := range out {
		c.add(s)
	}
	for _, s := range live {
		c.add(s)
	}
	return nil
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH                       = 960.0, 300.0
	padLeft, padRight, padTop, padBottom = 48.0, 52.0, 16.0, 34.0
	waitBucket                           = 15 * time.Minute
)

// palette colours the services' lines.
var palette = []string{"#4dabf7", "#69db7c", "#ffa94d", "#da77f2", "#ff8787", "#3bc9db", "#a9e34b", "#f783ac", "#9775fa", "#ffd8a8"}

// SVG draws the day: the people waiting in all (thick) and per service
// (thin lines), and the mean wait of the calls of each quarter hour (bars,
// right axis, minutes). It writes a placeholder without samples.
func (c *Chart) SVG(w io.Writer) error {
	c.mu.Lock()
	samples := slices.Clone(c.samples)
	svcs := slices.Clone(c.services)
	c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img" aria-labelledby="chart-title">`, chartW, chartH)
	b.WriteString(`<title id="chart-title">今日等候人数与平均等候时间</title>`)
	if len(samples) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle" class="empty">今日暂无数据</text></svg>`, chartW/2, chartH/2)
		_, err := io.WriteString(w, b.String())
		return err
	}
	// Time axis: whole hours around the samples, at least two.
	t0 := samples[0].At.In(c.loc).Truncate(time.Hour)
	t1 := samples[len(samples)-1].At.In(c.loc).Truncate(time.Hour).Add(time.Hour)
	if t1.Sub(t0) < 2*time.Hour {
		t1 = t0.Add(2 * time.Hour)
	}
	span := t1.Sub(t0).Seconds()
	plotW, plotH := chartW-padLeft-padRight, chartH-padTop-padBottom
	x := func(t time.Time) float64 { return padLeft + plotW*t.Sub(t0).Seconds()/span }
	total := func(s Sample) int {
		n := 0
		for _, v := range s.Waiting {
			n += v
		}
		return n
	}
	maxWait := 1
	for _, s := range samples {
		maxWait = max(maxWait, total(s))
	}
	yTop := niceCeil(maxWait)
	y := func(v int) float64 { return padTop + plotH*(1-float64(v)/float64(yTop)) }

	// Mean waits per quarter hour, from the cumulative counters.
	type bar struct {
		at   time.Time
		mean time.Duration
	}
	var bars []bar
	maxMean := time.Minute
	prev := Sample{}
	for i := 0; i < len(samples); {
		q := samples[i].At.Truncate(waitBucket)
		j := i
		for j+1 < len(samples) && samples[j+1].At.Truncate(waitBucket).Equal(q) {
			j++
		}
		last := samples[j]
		if i > 0 || last.Called > 0 {
			if n := last.Called - prev.Called; n > 0 {
				m := (last.WaitSum - prev.WaitSum) / time.Duration(n)
				bars = append(bars, bar{q, max(0, m)})
				maxMean = max(maxMean, m)
			}
		}
		prev, i = last, j+1
	}
	waitTop := niceCeil(int((maxMean + time.Minute - 1) / time.Minute))

	// Grid and axes.
	for k := 0; k <= 4; k++ {
		v := yTop * k / 4
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padLeft, yy, chartW-padRight, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%d</text>`, padLeft-6, yy+4, v)
		fmt.Fprintf(&b, `<text class="axis wait" x="%.1f" y="%.1f">%d′</text>`, chartW-padRight+6, yy+4, waitTop*k/4)
	}
	for t := t0; !t.After(t1); t = t.Add(time.Hour) {
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), chartH-padBottom+18, t.Format("15:04"))
	}
	// Bars first, lines over them.
	bw := plotW * waitBucket.Seconds() / span
	for _, br := range bars {
		h := plotH * br.mean.Minutes() / float64(waitTop)
		fmt.Fprintf(&b, `<rect class="wait" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s 平均等候 %.0f 分钟</title></rect>`,
			x(br.at)+1, padTop+plotH-h, max(1, bw-2), h, br.at.In(c.loc).Format("15:04"), br.mean.Minutes())
	}
	line := func(class, color string, width float64, val func(Sample) int, label string) {
		var pts strings.Builder
		for _, s := range samples {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(s.At), y(val(s)))
		}
		fmt.Fprintf(&b, `<polyline class="%s" fill="none" stroke="%s" stroke-width="%g" points="%s"><title>%s</title></polyline>`,
			class, color, width, strings.TrimSpace(pts.String()), html.EscapeString(label))
	}
	for i, s := range svcs {
		seen := false
		for _, sm := range samples {
			if sm.Waiting[s.id] > 0 {
				seen = true
				break
			}
		}
		if !seen {
			continue
		}
		line("service", palette[i%len(palette)], 1.5, func(sm Sample) int { return sm.Waiting[s.id] }, s.prefix+" "+s.name)
	}
	line("total", "#ffd43b", 3.5, total, "合计等候")
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// Legend returns the services drawn, with their colours, for the page.
func (c *Chart) Legend() []LegendItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []LegendItem
	for i, s := range c.services {
		for _, sm := range c.samples {
			if sm.Waiting[s.id] > 0 {
				out = append(out, LegendItem{Label: s.prefix + " " + s.name, Color: palette[i%len(palette)]})
				break
			}
		}
	}
	return out
}

// LegendItem is one line of the chart.
type LegendItem struct{ Label, Color string }

// niceCeil returns the smallest axis top ≥ n that is four times 1, 2 or 5
// times a power of ten (4, 8, 20, 40, 80, 200, …), so that the quarter
// grid lines fall on round numbers.
func niceCeil(n int) int {
	for p := 1; p <= 1e9; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if v := 4 * m * p; v >= n {
				return v
			}
		}
	}
	return n
}
