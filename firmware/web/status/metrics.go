package status

import (
	"context"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/hall"
)

// MetricsOptions say what /metrics reads.
type MetricsOptions struct {
	Gateway *gateway.Gateway
	Health  *health.Registry
	// UplinkCursor names the uplink's journal cursor; "" leaves the
	// uplink lag out.
	UplinkCursor string
	// Version and GatewayID label hallgw_build_info.
	Version, GatewayID string
	// Now is the clock of the journal's timestamps (the hall's), for the
	// age of the oldest unsent event; nil means time.Now.
	Now func() time.Time
	// Runtime adds the Go runtime and process collectors.
	Runtime bool
}

// scrapeTimeout bounds the reading of the hall at a scrape.
const scrapeTimeout = 5 * time.Second

// NewRegistry returns a registry of hallgw's metrics. Every collector
// reads the current state when scraped: nothing runs in the background.
func NewRegistry(o MetricsOptions) *prometheus.Registry {
	if o.Now == nil {
		o.Now = time.Now
	}
	r := prometheus.NewRegistry()
	r.MustRegister(buildInfo(o.Version, o.GatewayID))
	if o.Gateway != nil {
		r.MustRegister(&hallCollector{gw: o.Gateway}, &journalCollector{gw: o.Gateway, cursor: o.UplinkCursor, now: o.Now})
	}
	if o.Health != nil {
		r.MustRegister(&deviceCollector{reg: o.Health})
	}
	if o.Runtime {
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return r
}

func buildInfo(version, gateway string) prometheus.Collector {
	if version == "" {
		version = "dev"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hallgw_build_info", Help: "The firmware's version; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "gateway": gateway},
	})
	g.Set(1)
	return g
}

var (
	descWaiting = prometheus.NewDesc("hallgw_queue_waiting", "People waiting in the service's queue.", []string{"service"}, nil)
	descIssued  = prometheus.NewDesc("hallgw_tickets_issued_today", "Tickets issued today (walk-ins and check-ins).", []string{"service"}, nil)
	descServed  = prometheus.NewDesc("hallgw_tickets_served_today", "Tickets served (finished) today.", []string{"service"}, nil)
	descWait    = prometheus.NewDesc("hallgw_wait_seconds_today", "Today's waits until the call (each call, from when the ticket last began to wait), with their count.", []string{"service"}, nil)
	descWindows = prometheus.NewDesc("hallgw_windows", "Windows by state (open, paused, closed).", []string{"state"}, nil)
	descNotice  = prometheus.NewDesc("hallgw_notice_level", "The broadcast notice: 0 none, 1 information, 2 emergency.", nil, nil)
	descDay     = prometheus.NewDesc("hallgw_business_day", "The hall's business day number.", nil, nil)

	descDevUp     = prometheus.NewDesc("hallgw_device_up", "1 when the device works (up or degraded), 0 when it is down or has not answered.", []string{"device", "type"}, nil)
	descDevDegr   = prometheus.NewDesc("hallgw_device_degraded", "1 when the device works but needs attention (paper near end, on battery).", []string{"device", "type"}, nil)
	descDevErrors = prometheus.NewDesc("hallgw_device_errors_total", "Device errors by kind (timeout, garbled, crc, disconnect, …).", []string{"device", "kind"}, nil)
	descDevSeen   = prometheus.NewDesc("hallgw_device_last_seen_timestamp_seconds", "When the device last answered (Unix time).", []string{"device"}, nil)

	descJRecords   = prometheus.NewDesc("hallgw_journal_records", "Records in the journal.", []string{"class"}, nil)
	descJBytes     = prometheus.NewDesc("hallgw_journal_bytes", "Bytes of records in the journal.", []string{"class"}, nil)
	descJFile      = prometheus.NewDesc("hallgw_journal_file_bytes", "Size of the journal file.", nil, nil)
	descJCommitted = prometheus.NewDesc("hallgw_journal_committed_seq", "Sequence number of the last durable business record.", nil, nil)
	descJFirst     = prometheus.NewDesc("hallgw_journal_first_seq", "Sequence number of the oldest business record kept.", nil, nil)
	descUpLag      = prometheus.NewDesc("hallgw_uplink_lag_events", "Business records committed and not yet acknowledged by the platform.", nil, nil)
	descUpAge      = prometheus.NewDesc("hallgw_uplink_oldest_unsent_age_seconds", "Age of the oldest record not yet acknowledged; 0 when none.", nil, nil)
)

type hallCollector struct{ gw *gateway.Gateway }

func (c *hallCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descIssued, descServed, descWait, descWindows, descNotice, descDay} {
		ch <- d
	}
}

func (c *hallCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	var ms []prometheus.Metric
	err := c.gw.View(ctx, func(h *hall.Hall) {
		stats := h.Stats()
		for _, s := range h.Services() {
			ms = append(ms, prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(s.Waiting), s.ID))
			ms = append(ms, prometheus.MustNewConstMetric(descIssued, prometheus.GaugeValue, float64(s.Issued), s.ID))
			if st := stats.Services[s.ID]; st != nil {
				ms = append(ms, prometheus.MustNewConstMetric(descServed, prometheus.GaugeValue, float64(st.Served), s.ID))
				ms = append(ms, prometheus.MustNewConstSummary(descWait, uint64(st.Called), st.WaitSum.Seconds(), nil, s.ID))
			}
		}
		states := map[string]int{"open": 0, "paused": 0, "closed": 0}
		for _, w := range h.Windows() {
			states[w.State.String()]++
		}
		for st, n := range states {
			ms = append(ms, prometheus.MustNewConstMetric(descWindows, prometheus.GaugeValue, float64(n), st))
		}
		ms = append(ms, prometheus.MustNewConstMetric(descNotice, prometheus.GaugeValue, float64(h.Notice().Level)))
		day, _ := h.Day()
		ms = append(ms, prometheus.MustNewConstMetric(descDay, prometheus.GaugeValue, float64(day)))
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descWaiting, err)
		return
	}
	for _, m := range ms {
		ch <- m
	}
}

type deviceCollector struct{ reg *health.Registry }

func (c *deviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDevUp, descDevDegr, descDevErrors, descDevSeen} {
		ch <- d
	}
}

func (c *deviceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.reg.All() {
		up := 0.0
		if d.State == health.Up || d.State == health.Degraded {
			up = 1
		}
		degraded := 0.0
		if d.State == health.Degraded {
			degraded = 1
		}
		ch <- prometheus.MustNewConstMetric(descDevUp, prometheus.GaugeValue, up, d.ID, d.Kind)
		ch <- prometheus.MustNewConstMetric(descDevDegr, prometheus.GaugeValue, degraded, d.ID, d.Kind)
		for kind, n := range d.Errors {
			ch <- prometheus.MustNewConstMetric(descDevErrors, prometheus.CounterValue, float64(n), d.ID, kind)
		}
		if !d.LastSeen.IsZero() {
			ch <- prometheus.MustNewConstMetric(descDevSeen, prometheus.GaugeValue, float64(d.LastSeen.UnixNano())/1e9, d.ID)
		}
	}
}

type journalCollector struct {
	gw     *gateway.Gateway
	cursor string
	now    func() time.Time
}

func (c *journalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJRecords, descJBytes, descJFile, descJCommitted, descJFirst, descUpLag, descUpAge} {
		ch <- d
	}
}

func (c *journalCollector) Collect(ch chan<- prometheus.Metric) {
	j := c.gw.Journal()
	u := j.Usage()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descJRecords, float64(u.BusinessRecords), "business")
	gauge(descJRecords, float64(u.TelemetryRecords), "telemetry")
	gauge(descJBytes, float64(u.BusinessBytes), "business")
	gauge(descJBytes, float64(u.TelemetryBytes), "telemetry")
	gauge(descJFile, float64(u.FileBytes))
	gauge(descJCommitted, float64(u.Committed))
	gauge(descJFirst, float64(u.First))
	if c.cursor == "" {
		return
	}
	cur, err := j.Cursor(c.cursor)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descUpLag, err)
		return
	}
	gauge(descUpLag, float64(u.Committed-min(cur, u.Committed)))
	age := 0.0
	if !u.OldestAt.IsZero() {
		age = max(0, c.now().Sub(u.OldestAt).Seconds())
	}
	gauge(descUpAge, age)
}
