package uplink

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeCommand(t *testing.T) {
	tok := `"token":"tk",`
	tests := []struct {
		name    string
		payload string
		code    string // "" = valid
		check   func(*Request) bool
	}{
		{"ping", `{"v":1,"id":"r1","cmd":"ping"}`, "", func(r *Request) bool { return r.ID == "r1" && r.Cmd == CmdPing }},
		{"ping with empty args", `{"v":1,"id":"r1","cmd":"ping","args":{}}`, "", nil},
		{"ping with null args", `{"v":1,"id":"r1","cmd":"ping","args":null}`, "", nil},
		{"status with token", `{"v":1,"id":"r1",` + tok + `"cmd":"status"}`, "", func(r *Request) bool { return r.Token == "tk" }},
		{"config", `{"v":1,"id":"c1","cmd":"config","args":{"yaml":"version: x\n"}}`, "", func(r *Request) bool { return r.Config.YAML == "version: x\n" }},
		{"broadcast info", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"系统维护","level":"info"}}`, "", func(r *Request) bool { return r.Broadcast.Level == NoticeInfo }},
		{"broadcast clear", `{"v":1,"id":"b1","cmd":"broadcast","args":{"level":"clear"}}`, "", nil},
		{"open window", `{"v":1,"id":"w1","cmd":"open_window","args":{"window":"5","staff":"S001"}}`, "", func(r *Request) bool { return r.Window.Staff == "S001" }},
		{"close window", `{"v":1,"id":"w1","cmd":"close_window","args":{"window":"5"}}`, "", nil},
		{"appointments", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"general","start":"2030-01-02T09:00:00+08:00","end":"2030-01-02T09:30:00+08:00","holder_hash":"0123456789abcdef0123"}]}}`, "",
			func(r *Request) bool { return len(r.Appointments.Appointments) == 1 }},
		{"empty appointment list", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[]}}`, "", nil},
		{"close fault", `{"v":1,"id":"f1","cmd":"close_fault","args":{"fault":"gw-1:F3","note":"更换了打印头"}}`, "", func(r *Request) bool { return r.Fault.Fault == "gw-1:F3" }},

		{"empty", ``, CodeMalformed, nil},
		{"not json", `ping`, CodeMalformed, nil},
		{"array", `[1,2]`, CodeMalformed, nil},
		{"trailing data", `{"v":1,"id":"r1","cmd":"ping"} {}`, CodeMalformed, nil},
		{"unknown field", `{"v":1,"id":"r1","cmd":"ping","extra":1}`, CodeMalformed, nil},
		{"wrong version", `{"v":2,"id":"r1","cmd":"ping"}`, CodeMalformed, nil},
		{"no version", `{"id":"r1","cmd":"ping"}`, CodeMalformed, nil},
		{"no id", `{"v":1,"cmd":"ping"}`, CodeMalformed, nil},
		{"id with space", `{"v":1,"id":"r 1","cmd":"ping"}`, CodeMalformed, nil},
		{"id too long", `{"v":1,"id":"` + strings.Repeat("x", 65) + `","cmd":"ping"}`, CodeMalformed, nil},
		{"no cmd", `{"v":1,"id":"r1"}`, CodeMalformed, nil},
		{"unknown cmd", `{"v":1,"id":"r1","cmd":"reboot"}`, CodeUnknown, nil},
		{"ping with args", `{"v":1,"id":"r1","cmd":"ping","args":{"x":1}}`, CodeInvalid, nil},
		{"config without args", `{"v":1,"id":"c1","cmd":"config"}`, CodeInvalid, nil},
		{"config args not object", `{"v":1,"id":"c1","cmd":"config","args":"yaml"}`, CodeInvalid, nil},
		{"config empty yaml", `{"v":1,"id":"c1","cmd":"config","args":{"yaml":"  "}}`, CodeInvalid, nil},
		{"config unknown arg", `{"v":1,"id":"c1","cmd":"config","args":{"yaml":"a: 1","file":"/etc/passwd"}}`, CodeInvalid, nil},
		{"broadcast bad level", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"x","level":"panic"}}`, CodeInvalid, nil},
		{"broadcast empty text", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":" ","level":"info"}}`, CodeInvalid, nil},
		{"broadcast too long", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"` + strings.Repeat("撤", 201) + `","level":"emergency"}}`, CodeInvalid, nil},
		{"broadcast control char", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"a\u0007b","level":"info"}}`, CodeInvalid, nil},
		{"clear with text", `{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"x","level":"clear"}}`, CodeInvalid, nil},
		{"open window without staff", `{"v":1,"id":"w1","cmd":"open_window","args":{"window":"5"}}`, CodeInvalid, nil},
		{"close window with staff", `{"v":1,"id":"w1","cmd":"close_window","args":{"window":"5","staff":"S1"}}`, CodeInvalid, nil},
		{"window id with slash", `{"v":1,"id":"w1","cmd":"close_window","args":{"window":"5/6"}}`, CodeInvalid, nil},
		{"appointments missing", `{"v":1,"id":"a1","cmd":"appointments","args":{}}`, CodeInvalid, nil},
		{"appointment bad slot", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"general","start":"2030-01-02T10:00:00Z","end":"2030-01-02T09:00:00Z"}]}}`, CodeInvalid, nil},
		{"appointment bad time", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"general","start":"tomorrow","end":"2030-01-02T09:00:00Z"}]}}`, CodeInvalid, nil},
		{"appointment twice", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"s","start":"2030-01-02T09:00:00Z","end":"2030-01-02T09:30:00Z"},{"id":"ap1","service":"s","start":"2030-01-02T09:00:00Z","end":"2030-01-02T09:30:00Z"}]}}`, CodeInvalid, nil},
		{"appointment clear id number", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"s","start":"2030-01-02T09:00:00Z","end":"2030-01-02T09:30:00Z","holder_hash":"11010519491231002X"}]}}`, CodeInvalid, nil},
		{"appointment holder name", `{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"s","start":"2030-01-02T09:00:00Z","end":"2030-01-02T09:30:00Z","holder_name":"张三"}]}}`, CodeInvalid, nil},
		{"close fault without note", `{"v":1,"id":"f1","cmd":"close_fault","args":{"fault":"gw-1:F3"}}`, CodeInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeCommand([]byte(tt.payload))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("DecodeCommand(%s) = %v, want a request", tt.payload, err)
				}
				if tt.check != nil && !tt.check(r) {
					t.Errorf("DecodeCommand(%s) = %+v", tt.payload, r)
				}
				return
			}
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("DecodeCommand(%s) = %+v, %v, want code %s", tt.payload, r, err, tt.code)
			}
		})
	}
}

func TestEncodeCommandRoundTrip(t *testing.T) {
	start := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
	reqs := []*Request{
		{ID: "p", Cmd: CmdPing},
		{ID: "c", Cmd: CmdConfig, Token: "t", Config: &ConfigArgs{YAML: "version: 1\n"}},
		{ID: "b", Cmd: CmdBroadcast, Broadcast: &BroadcastArgs{Text: "<请>&疏散", Level: NoticeEmergency}},
		{ID: "w", Cmd: CmdOpenWindow, Window: &WindowArgs{Window: "3", Staff: "S1"}},
		{ID: "a", Cmd: CmdAppointments, Appointments: &AppointmentArgs{Appointments: []AppointmentArg{{ID: "x", Service: "s", Start: start, End: start.Add(time.Hour)}}}},
		{ID: "f", Cmd: CmdCloseFault, Fault: &FaultArgs{Fault: "gw:F1", Note: "ok"}},
	}
	for _, r := range reqs {
		t.Run(r.Cmd, func(t *testing.T) {
			b, err := EncodeCommand(r)
			if err != nil {
				t.Fatalf("EncodeCommand(%+v) = %v", r, err)
			}
			back, err := DecodeCommand(b)
			if err != nil || !reflect.DeepEqual(back, r) {
				t.Errorf("DecodeCommand(EncodeCommand(r)) = %+v, %v, want %+v", back, err, r)
			}
		})
	}
	if _, err := EncodeCommand(&Request{ID: "bad id", Cmd: CmdPing}); err == nil {
		t.Error("EncodeCommand with a bad id succeeded")
	}
}

// TestExecuteRefusals runs Execute without a broker: every refusal is an
// error reply with the request id when there is one.
func TestExecuteRefusals(t *testing.T) {
	j := openJournal(t, t.TempDir())
	defer j.Close()
	u, err := New(Options{Brokers: []string{"tcp://127.0.0.1:1"}, Journal: j, GatewayID: testGW, HallID: testHall, CommandToken: "tk"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, payload, id, code string
	}{
		{"garbage", "\x00\xff{", "", CodeMalformed},
		{"bad token", `{"v":1,"id":"r1","cmd":"ping","token":"nope"}`, "r1", CodeUnauthorised},
		{"no token", `{"v":1,"id":"r2","cmd":"ping"}`, "r2", CodeUnauthorised},
		{"unknown", `{"v":1,"id":"r3","cmd":"format_disk","token":"tk"}`, "r3", CodeUnknown},
		{"no hall here", `{"v":1,"id":"r4","cmd":"close_window","token":"tk","args":{"window":"1"}}`, "r4", CodeUnavailable},
		{"no config here", `{"v":1,"id":"r5","cmd":"config","token":"tk","args":{"yaml":"a: 1"}}`, "r5", CodeUnavailable},
		{"unknown fault", `{"v":1,"id":"r6","cmd":"close_fault","token":"tk","args":{"fault":"x:F1","note":"n"}}`, "r6", CodeRejected},
	}
	before := j.Committed()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := u.Execute(context.Background(), []byte(tt.payload))
			if r.OK || r.ID != tt.id || r.Code != tt.code || r.Error == "" || r.V != SchemaVersion {
				t.Errorf("Execute(%q) = %+v, want id %q code %s", tt.payload, r, tt.id, tt.code)
			}
		})
	}
	if r := u.Execute(context.Background(), []byte(`{"v":1,"id":"ok","cmd":"ping","token":"tk"}`)); !r.OK {
		t.Errorf("ping = %+v", r)
	}
	if j.Committed() != before {
		t.Errorf("refused commands journaled %d records", j.Committed()-before)
	}
}
