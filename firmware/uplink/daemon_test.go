package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/daemon/daemontest"
	"hallgw/firmware/mqttbroker"
	"hallgw/hall"
)

const testToken = "s3cret-token"

func daemonYAML(dataDir, broker string) string {
	return `version: v1
gateway:
  id: ` + testGW + `
  hall_id: ` + testHall + `
  data_dir: ` + dataDir + `
mqtt:
  brokers: ["` + broker + `"]
  reconnect_min: 50ms
  reconnect_max: 200ms
  command_token: ` + testToken + `
`
}

// runDaemon runs the whole gateway daemon on a configuration file, with the
// uplink as its MQTT component.
func runDaemon(t *testing.T, broker string) (*daemon.Daemon, string) {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, "hallgw.yaml")
	if err := os.WriteFile(path, []byte(daemonYAML(filepath.Join(root, "data"), broker)), 0o640); err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Run(t, daemon.Options{Config: loaded, ConfigPath: path, Logger: testLogger(t), Version: "9.9.9-test"})
	return d, path
}

// platform sends commands and reads replies.
type platform struct {
	t   *testing.T
	c   mqtt.Client
	sub *seen
}

func (p *platform) send(payload []byte, retained bool) {
	p.t.Helper()
	tok := p.c.Publish("hallgw/"+testHall+"/"+testGW+"/cmd", 1, retained, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		p.t.Fatalf("publish command: %v", tok.Error())
	}
}

func (p *platform) reply(id string) Reply {
	p.t.Helper()
	var r Reply
	p.sub.waitFor(p.t, "the reply to "+id, func(ms []mqttbroker.Message) bool {
		for _, m := range ms {
			if !hasSuffix(m.Topic, LeafReply) {
				continue
			}
			var x Reply
			if json.Unmarshal(m.Payload, &x) == nil && x.ID == id {
				r = x
				return true
			}
		}
		return false
	})
	return r
}

func (p *platform) do(req *Request) Reply {
	p.t.Helper()
	b, err := EncodeCommand(req)
	if err != nil {
		p.t.Fatalf("EncodeCommand(%+v) = %v", req, err)
	}
	p.send(b, false)
	return p.reply(req.ID)
}

// TestMosquittoDaemonCommands runs the daemon with the uplink against
// mosquitto and sends it the platform's commands, good and bad.
func TestMosquittoDaemonCommands(t *testing.T) {
	m := startMosquitto(t, false)
	sub, c := subscribe(t, m.URL(), "platform-cmd", true)
	p := &platform{t: t, c: c, sub: sub}
	// A retained command waiting on the broker must never run.
	stale, _ := EncodeCommand(&Request{ID: "stale-1", Cmd: CmdOpenWindow, Token: testToken, Window: &WindowArgs{Window: "2", Staff: "S9"}})
	p.send(stale, true)

	d, path := runDaemon(t, m.URL())
	u := For(d)
	if u == nil {
		t.Fatal("the daemon runs no uplink")
	}
	waitState(t, u, StateConnected)
	if r := p.do(&Request{ID: "ping-1", Cmd: CmdPing, Token: testToken}); !r.OK || !bytes.Contains(r.Result, []byte(`"pong":true`)) {
		t.Errorf("ping reply = %+v", r)
	}

	tests := []struct {
		name     string
		payload  string
		id, code string
	}{
		{"not json", `hello`, "", CodeMalformed},
		{"truncated", `{"v":1,"id":"t-1","cmd":"ping"`, "", CodeMalformed},
		{"unknown command", `{"v":1,"id":"u-1","cmd":"reboot","token":"` + testToken + `"}`, "u-1", CodeUnknown},
		{"no token", `{"v":1,"id":"a-1","cmd":"ping"}`, "a-1", CodeUnauthorised},
		{"wrong token", `{"v":1,"id":"a-2","cmd":"open_window","token":"guess","args":{"window":"1","staff":"S1"}}`, "a-2", CodeUnauthorised},
		{"bad args", `{"v":1,"id":"b-1","cmd":"open_window","token":"` + testToken + `","args":{"window":"1"}}`, "b-1", CodeInvalid},
		{"hall refuses", `{"v":1,"id":"h-1","cmd":"close_window","token":"` + testToken + `","args":{"window":"3"}}`, "h-1", CodeRejected},
		{"unknown fault", `{"v":1,"id":"f-1","cmd":"close_fault","token":"` + testToken + `","args":{"fault":"gw:F99","note":"x"}}`, "f-1", CodeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			before := len(sub.all())
			p.send([]byte(tt.payload), false)
			var r Reply
			sub.waitFor(t, "an error reply", func(ms []mqttbroker.Message) bool {
				for _, m := range ms[min(before, len(ms)):] {
					if hasSuffix(m.Topic, LeafReply) && json.Unmarshal(m.Payload, &r) == nil && !r.OK && r.ID == tt.id {
						return true
					}
				}
				return false
			})
			if r.Code != tt.code || r.Error == "" {
				t.Errorf("reply = %+v, want code %s with a message", r, tt.code)
			}
		})
	}
	p.t = t

	// A configuration that fails validation changes nothing.
	oldFile, _ := os.ReadFile(path)
	var oldRules hall.Rules
	d.Gateway.View(context.Background(), func(h *hall.Hall) { oldRules = h.Config().Rules })
	bad := strings.Replace(string(oldFile), "version: v1", "version: v2\nqueue:\n  recal_max: 5\n  recall_max: 7", 1)
	r := p.do(&Request{ID: "cfg-bad", Cmd: CmdConfig, Token: testToken, Config: &ConfigArgs{YAML: bad}})
	if r.OK || r.Code != CodeRejected || len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "pushed configuration:3:3: queue.recal_max") {
		t.Errorf("bad configuration reply = %+v, want rejected with file:line:col: field errors", r)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, oldFile) {
		t.Error("a rejected configuration changed the file")
	}
	var rules hall.Rules
	d.Gateway.View(context.Background(), func(h *hall.Hall) { rules = h.Config().Rules })
	if rules != oldRules {
		t.Errorf("a rejected configuration changed the running rules: %+v, was %+v", rules, oldRules)
	}

	// A good one (hall rules only) applies at once and reports its version.
	good := strings.Replace(string(oldFile), "version: v1", "version: v2\nqueue:\n  recall_max: 7", 1)
	r = p.do(&Request{ID: "cfg-good", Cmd: CmdConfig, Token: testToken, Config: &ConfigArgs{YAML: good}})
	if !r.OK || !bytes.Contains(r.Result, []byte(`"version":"v2"`)) || !bytes.Contains(r.Result, []byte(`"restart":false`)) {
		t.Errorf("good configuration reply = %+v", r)
	}
	d.Gateway.View(context.Background(), func(h *hall.Hall) { rules = h.Config().Rules })
	if rules.RecallMax != 7 {
		t.Errorf("recall max after the push = %d, want 7", rules.RecallMax)
	}

	// Hall commands act through the journal and say which events they caused.
	if r := p.do(&Request{ID: "open-1", Cmd: CmdOpenWindow, Token: testToken, Window: &WindowArgs{Window: "1", Staff: "S001"}}); !r.OK || !bytes.Contains(r.Result, []byte(testGW+":")) {
		t.Errorf("open_window reply = %+v", r)
	}
	// The same request again is answered again, not run twice.
	again, _ := EncodeCommand(&Request{ID: "open-1", Cmd: CmdOpenWindow, Token: testToken, Window: &WindowArgs{Window: "1", Staff: "S001"}})
	before := len(sub.all())
	p.send(again, false)
	sub.waitFor(t, "the repeated reply", func(ms []mqttbroker.Message) bool {
		for _, m := range ms[before:] {
			var x Reply
			if hasSuffix(m.Topic, LeafReply) && json.Unmarshal(m.Payload, &x) == nil && x.ID == "open-1" {
				if !x.OK {
					t.Errorf("repeated open_window reply = %+v, want the first reply", x)
				}
				return true
			}
		}
		return false
	})
	start := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
	appts := &AppointmentArgs{Appointments: []AppointmentArg{{ID: "ap-1", Service: "general", Start: start, End: start.Add(30 * time.Minute), HolderHash: "3f2a9c0d4e5b6a7f8e9d0c1b2a3f4e5d"}}}
	if r := p.do(&Request{ID: "appt-1", Cmd: CmdAppointments, Token: testToken, Appointments: appts}); !r.OK {
		t.Errorf("appointments reply = %+v", r)
	}
	if r := p.do(&Request{ID: "bc-1", Cmd: CmdBroadcast, Token: testToken, Broadcast: &BroadcastArgs{Text: "请按疏散指示有序撤离", Level: NoticeEmergency}}); !r.OK {
		t.Errorf("broadcast reply = %+v", r)
	}
	var notice hall.NoticeView
	d.Gateway.View(context.Background(), func(h *hall.Hall) { notice = h.Notice() })
	if notice.Level != hall.NoticeEmergency || notice.Text != "请按疏散指示有序撤离" {
		t.Errorf("notice after broadcast = %+v", notice)
	}
	if r := p.do(&Request{ID: "close-1", Cmd: CmdCloseWindow, Token: testToken, Window: &WindowArgs{Window: "1"}}); !r.OK {
		t.Errorf("close_window reply = %+v", r)
	}
	if r := p.do(&Request{ID: "st-1", Cmd: CmdStatus, Token: testToken}); !r.OK || !bytes.Contains(r.Result, []byte(`"firmware":"9.9.9-test"`)) || !bytes.Contains(r.Result, []byte(`"config_version":"v2"`)) {
		t.Errorf("status reply = %s", r.Result)
	}

	// Every effect is in the event stream, with the command records.
	want := d.Journal.Committed()
	msgs := sub.waitFor(t, "the events", func(ms []mqttbroker.Message) bool { return maxSeq(events(t, ms)) >= want })
	types := map[string]int{}
	for _, e := range events(t, msgs) {
		types[e.Type]++
	}
	for _, typ := range []string{"window_opened", "window_closed", "appointments_loaded", "notice", "config_applied", "command_applied"} {
		if types[typ] == 0 {
			t.Errorf("no %s event published; saw %v", typ, types)
		}
	}
	if types["command_applied"] != 5 {
		t.Errorf("%d command records, want 5 (config, open, appointments, broadcast, close)", types["command_applied"])
	}
	// The retained command never ran, and nothing answered it.
	for _, m := range msgs {
		if hasSuffix(m.Topic, LeafReply) && bytes.Contains(m.Payload, []byte("stale-1")) {
			t.Errorf("the retained command was answered: %s", m.Payload)
		}
	}
	var w hall.WindowView
	d.Gateway.View(context.Background(), func(h *hall.Hall) {
		for _, x := range h.Windows() {
			if x.ID == "2" {
				w = x
			}
		}
	})
	if w.State != hall.Closed {
		t.Errorf("window 2 = %v, want closed: the retained command must not run", w.State)
	}
	p.send(nil, true) // an empty retained message clears the stale one
}
