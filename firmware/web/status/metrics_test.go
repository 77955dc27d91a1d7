package status

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"hallgw/firmware/health"
	"hallgw/firmware/web/webtest"
	"hallgw/hall"
)

// devices fills a health registry with a printer that works but had
// errors, a display that is down, a UPS on battery and a reader that has
// not answered yet.
func devices(clk *webtest.Clock) *health.Registry {
	reg := health.NewRegistry(clk.Now)
	reg.Seen("kiosk-1/printer", "printer")
	reg.Count("kiosk-1/printer", "printer", "timeout")
	reg.Count("kiosk-1/printer", "printer", "timeout")
	reg.Count("kiosk-1/printer", "printer", "garbled")
	reg.Update("bus-1/display-1", "display", func(d *health.Device) {
		d.State, d.Reason, d.Port = health.Down, "no answer for 30 s", "/dev/ttyUSB1"
		d.Errors = map[string]uint64{"crc": 4}
	})
	reg.Seen("ups", "ups")
	reg.Update("ups", "ups", func(d *health.Device) { d.State, d.Reason = health.Degraded, "on battery" })
	reg.Update("kiosk-1/idcard", "idcard", func(d *health.Device) {})
	return reg
}

func TestMetrics(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1", "w2")
	h.Do(t, hall.Command{Op: hall.OpPause, Window: "w2", Reason: "午休"})
	h.Issue(t, "social", 3)
	h.Issue(t, "tax", 1)
	h.Clock.Advance(4 * time.Minute)
	h.CallNext(t, "w1")
	h.Clock.Advance(6 * time.Minute)
	h.CallNext(t, "w1") // finishes the first
	h.Journal.Hold("uplink")
	reg := NewRegistry(MetricsOptions{Gateway: h.Gateway, Health: devices(h.Clock), UplinkCursor: "uplink",
		Version: "1.4.2", GatewayID: "gw-test", Now: h.Clock.Now})

	want := `
# HELP hallgw_build_info The firmware's version; always 1.
# TYPE hallgw_build_info gauge
hallgw_build_info{gateway="gw-test",goversion="` + runtime.Version() + `",version="1.4.2"} 1
# HELP hallgw_device_errors_total Device errors by kind (timeout, garbled, crc, disconnect, …).
# TYPE hallgw_device_errors_total counter
hallgw_device_errors_total{device="bus-1/display-1",kind="crc"} 4
hallgw_device_errors_total{device="kiosk-1/printer",kind="garbled"} 1
hallgw_device_errors_total{device="kiosk-1/printer",kind="timeout"} 2
# HELP hallgw_device_up 1 when the device works (up or degraded), 0 when it is down or has not answered.
# TYPE hallgw_device_up gauge
hallgw_device_up{device="bus-1/display-1",type="display"} 0
hallgw_device_up{device="kiosk-1/idcard",type="idcard"} 0
hallgw_device_up{device="kiosk-1/printer",type="printer"} 1
hallgw_device_up{device="ups",type="ups"} 1
# HELP hallgw_device_degraded 1 when the device works but needs attention (paper near end, on battery).
# TYPE hallgw_device_degraded gauge
hallgw_device_degraded{device="bus-1/display-1",type="display"} 0
hallgw_device_degraded{device="kiosk-1/idcard",type="idcard"} 0
hallgw_device_degraded{device="kiosk-1/printer",type="printer"} 0
hallgw_device_degraded{device="ups",type="ups"} 1
# HELP hallgw_queue_waiting People waiting in the service's queue.
# TYPE hallgw_queue_waiting gauge
hallgw_queue_waiting{service="business"} 0
hallgw_queue_waiting{service="delivery"} 0
hallgw_queue_waiting{service="household"} 0
hallgw_queue_waiting{service="social"} 1
hallgw_queue_waiting{service="tax"} 1
hallgw_queue_waiting{service="unresolved"} 0
# HELP hallgw_tickets_issued_today Tickets issued today (walk-ins and check-ins).
# TYPE hallgw_tickets_issued_today gauge
hallgw_tickets_issued_today{service="business"} 0
hallgw_tickets_issued_today{service="delivery"} 0
hallgw_tickets_issued_today{service="household"} 0
hallgw_tickets_issued_today{service="social"} 3
hallgw_tickets_issued_today{service="tax"} 1
hallgw_tickets_issued_today{service="unresolved"} 0
# HELP hallgw_tickets_served_today Tickets served (finished) today.
# TYPE hallgw_tickets_served_today gauge
hallgw_tickets_served_today{service="business"} 0
hallgw_tickets_served_today{service="delivery"} 0
hallgw_tickets_served_today{service="household"} 0
hallgw_tickets_served_today{service="social"} 1
hallgw_tickets_served_today{service="tax"} 0
hallgw_tickets_served_today{service="unresolved"} 0
# HELP hallgw_wait_seconds_today Today's waits until the call (each call, from when the ticket last began to wait), with their count.
# TYPE hallgw_wait_seconds_today summary
hallgw_wait_seconds_today_sum{service="business"} 0
hallgw_wait_seconds_today_count{service="business"} 0
hallgw_wait_seconds_today_sum{service="delivery"} 0
hallgw_wait_seconds_today_count{service="delivery"} 0
hallgw_wait_seconds_today_sum{service="household"} 0
hallgw_wait_seconds_today_count{service="household"} 0
hallgw_wait_seconds_today_sum{service="social"} 840
hallgw_wait_seconds_today_count{service="social"} 2
hallgw_wait_seconds_today_sum{service="tax"} 0
hallgw_wait_seconds_today_count{service="tax"} 0
hallgw_wait_seconds_today_sum{service="unresolved"} 0
hallgw_wait_seconds_today_count{service="unresolved"} 0
# HELP hallgw_windows Windows by state (open, paused, closed).
# TYPE hallgw_windows gauge
hallgw_windows{state="closed"} 6
hallgw_windows{state="open"} 1
hallgw_windows{state="paused"} 1
# HELP hallgw_notice_level The broadcast notice: 0 none, 1 information, 2 emergency.
# TYPE hallgw_notice_level gauge
hallgw_notice_level 0
`
	names := []string{"hallgw_build_info", "hallgw_device_errors_total", "hallgw_device_up", "hallgw_device_degraded",
		"hallgw_queue_waiting", "hallgw_tickets_issued_today", "hallgw_tickets_served_today", "hallgw_wait_seconds_today",
		"hallgw_windows", "hallgw_notice_level"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The journal and the uplink: nothing acknowledged yet.
	u := h.Journal.Usage()
	if got := gauge(t, reg, "hallgw_journal_committed_seq"); got != float64(u.Committed) {
		t.Errorf("committed seq = %v, want %d", got, u.Committed)
	}
	if got := gauge(t, reg, "hallgw_uplink_lag_events"); got != float64(u.Committed) {
		t.Errorf("uplink lag = %v, want every record (%d)", got, u.Committed)
	}
	if got := gauge(t, reg, "hallgw_uplink_oldest_unsent_age_seconds"); got != 10*60 {
		t.Errorf("oldest unsent age = %v s, want 600 (the first record, ten minutes ago)", got)
	}
	if err := h.Journal.SetCursor("uplink", u.Committed-2); err != nil {
		t.Fatal(err)
	}
	if got := gauge(t, reg, "hallgw_uplink_lag_events"); got != 2 {
		t.Errorf("uplink lag after the acknowledgement = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "hallgw_journal_records", "hallgw_journal_bytes"); err != nil || n != 4 {
		t.Errorf("journal records and bytes: %d series (%v), want 4", n, err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// gauge returns the value of the metric without labels called name.
func gauge(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no single metric %s", name)
	return 0
}
