package uplink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/health"
	"hallgw/firmware/mqttbroker"
)

func TestDescribe(t *testing.T) {
	loc := time.UTC
	tests := []struct {
		name, topic, payload string
		retained             bool
		want                 string
	}{
		{"birth", "hallgw/h/g/status", `{"v":1,"online":true,"session":3,"gateway":"g","hall":"h","firmware":"1.4","config_version":"v2","started":"2026-03-02T01:00:00Z","backlog":12,"devices":[{"id":"a","kind":"printer","state":"up"}]}`, true,
			"h/g status    ONLINE session 3, firmware 1.4, config v2, started 03-02 01:00, backlog 12, 1 devices (retained)"},
		{"will", "hallgw/h/g/status", `{"v":1,"online":false,"session":3,"gateway":"g","hall":"h","reason":"lost"}`, true,
			"h/g status    OFFLINE session 3: connection lost (last will) (retained)"},
		{"status cleared", "hallgw/h/g/status", ``, true, "h/g status    cleared"},
		{"health", "hallgw/h/g/health/kiosk-1/printer", `{"v":1,"id":"kiosk-1/printer","kind":"printer","state":"down","reason":"paper out","since":"2026-03-02T01:31:00Z"}`, false,
			"h/g health    kiosk-1/printer down since 01:31:00: paper out"},
		{"faults", "hallgw/h/g/faults", `{"v":1,"network":"III","faults":[{"id":"g:F1","category":"network","level":"III","device":"uplink","cause":"platform unreachable","start":"2026-03-02T01:31:00Z"}]}`, true,
			"h/g faults    network III, system none, 1 unresolved; g:F1 network III platform unreachable (ongoing, since 01:31:00) (retained)"},
		{"hall event", "hallgw/h/g/events", `{"v":1,"kind":"hall","id":"g:5","seq":5,"type":"ticket_issued","at":"2026-03-02T01:42:10Z","number":"A042","service":"general","ahead":4,"estimate":{"known":true,"point_s":540,"lo_s":420,"hi_s":660},"historical":true}`, false,
			"h/g event     #5 01:42:10 ticket_issued A042 service general 4 ahead wait 7–11 min [historical]"},
		{"health event", "hallgw/h/g/events", `{"v":1,"kind":"health","id":"g:6","seq":6,"type":"device_health","at":"2026-03-02T01:42:10Z","data":{"type":"device_health","from":"up","device":{"id":"p1","state":"down","reason":"jam"}}}`, false,
			"h/g event     #6 01:42:10 device_health p1 up → down jam"},
		{"command record", "hallgw/h/g/events", `{"v":1,"kind":"command","id":"g:7","seq":7,"type":"command_applied","at":"2026-03-02T01:42:10Z","data":{"type":"command_applied","request":"r1","cmd":"open_window","summary":"window 5 opened"}}`, false,
			"h/g event     #7 01:42:10 command_applied r1 open_window: window 5 opened"},
		{"telemetry", "hallgw/h/g/telemetry", `{"v":1,"gateway":{"uptime_s":3725,"backlog":2,"oldest_unsent_s":9,"disk":{"used_percent":16.8},"clock":{"state":"synced"},"broker":"connected"},"devices":[{"id":"a","state":"up"},{"id":"b","state":"down"},{"id":"c","state":"up"}]}`, false,
			"h/g telemetry up 1h2m5s, backlog 2 (oldest 9s), disk 16.8% used, clock synced, broker connected; devices 1 down, 2 up"},
		{"command hides token", "hallgw/h/g/cmd", `{"v":1,"id":"r9","cmd":"ping","token":"secret"}`, false, "h/g command   r9 ping"},
		{"reply error", "hallgw/h/g/reply", `{"v":1,"id":"c1","cmd":"config","ok":false,"code":"rejected","error":"configuration rejected","errors":["f:3:3: queue.x: unknown field"]}`, false,
			"h/g reply     c1 config rejected: configuration rejected\n    f:3:3: queue.x: unknown field"},
		{"reply ok", "hallgw/h/g/reply", `{"v":1,"id":"p1","cmd":"ping","ok":true,"result":{"pong": true}}`, false, `h/g reply     p1 ping ok {"pong":true}`},
		{"garbage", "hallgw/h/g/events", `{{{`, false, "h/g events    3 bytes not understood"},
		{"other leaf", "hallgw/h/g/something/else", `x`, false, "h/g something/else 1 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Describe("hallgw", WatchMessage{Topic: tt.topic, Payload: []byte(tt.payload), Retained: tt.retained}, loc)
			if err != nil || got != tt.want {
				t.Errorf("Describe(%s) = %q, %v\nwant %q", tt.topic, got, err, tt.want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("Describe shows the token: %q", got)
			}
		})
	}
	if _, err := Describe("hallgw", WatchMessage{Topic: "other/x"}, loc); !errors.Is(err, ErrNotOurs) {
		t.Errorf("Describe(other topic) = %v, want ErrNotOurs", err)
	}
}

// TestWatch runs Watch against the embedded broker: the retained state, then
// live messages, of one hall only.
func TestWatch(t *testing.T) {
	b := startBroker(t, mqttbroker.Options{})
	j := openJournal(t, t.TempDir())
	defer j.Close()
	reg := health.NewRegistry(nil)
	reg.Seen("kiosk-1/printer", "printer")
	u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, Health: reg})
	waitState(t, u, StateConnected)
	// Another hall's gateway, filtered out.
	b.Publish("hallgw/other-hall/gw-x/status", []byte(`{"v":1,"online":true}`), true, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var lines []string
	var links []string
	err := Watch(ctx, WatchOptions{Broker: b.URL(), Hall: testHall, OnLink: func(s string) { links = append(links, s) }}, func(m WatchMessage) error {
		s, err := Describe("hallgw", m, time.UTC)
		if err != nil {
			return err
		}
		lines = append(lines, s)
		if len(lines) == 3 {
			appendProbes(t, j, 1, 20)
		}
		if strings.Contains(s, "event") && strings.Contains(s, "probe") {
			return errors.New("done")
		}
		return nil
	})
	if err == nil || err.Error() != "done" {
		t.Fatalf("Watch = %v, lines %q", err, lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "status    ONLINE session 1") {
		t.Errorf("lines = %q, want the retained online status", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "other-hall") {
			t.Errorf("line of another hall: %q", l)
		}
	}
	if len(links) == 0 || !strings.HasPrefix(links[0], "connected") {
		t.Errorf("link notes = %q", links)
	}
}
