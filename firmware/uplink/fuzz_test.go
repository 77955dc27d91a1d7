package uplink

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeCommand feeds arbitrary bytes to the command decoder: it must
// never panic, every refusal must be a *CommandError with a known code, and
// whatever it accepts must survive EncodeCommand and decode to the same
// request.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"id":"r1","cmd":"ping"}`,
		`{"v":1,"id":"r1","cmd":"status","token":"t"}`,
		`{"v":1,"id":"c1","cmd":"config","args":{"yaml":"version: v2\nqueue:\n  recall_max: 5\n"}}`,
		`{"v":1,"id":"b1","cmd":"broadcast","args":{"text":"请有序撤离","level":"emergency"}}`,
		`{"v":1,"id":"w1","cmd":"open_window","args":{"window":"5","staff":"S001"}}`,
		`{"v":1,"id":"a1","cmd":"appointments","args":{"appointments":[{"id":"ap1","service":"general","start":"2030-01-02T09:00:00+08:00","end":"2030-01-02T09:30:00+08:00","holder_hash":"0123456789abcdef0123"}]}}`,
		`{"v":1,"id":"f1","cmd":"close_fault","args":{"fault":"gw-1:F3","note":"done"}}`,
		`{"v":1,"id":"x","cmd":"ping","args":{"a":1}}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{CodeMalformed: true, CodeUnknown: true, CodeInvalid: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeCommand(data)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) || !codes[ce.Code] || ce.Msg == "" {
				t.Fatalf("DecodeCommand(%q) error %v: want a *CommandError with a known code", data, err)
			}
			return
		}
		if !validRequestID(r.ID) {
			t.Fatalf("accepted id %q", r.ID)
		}
		b, err := EncodeCommand(r)
		if err != nil {
			t.Fatalf("EncodeCommand(DecodeCommand(%q)) = %v", data, err)
		}
		back, err := DecodeCommand(b)
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip of %q: %+v, %v, want %+v", data, back, err, r)
		}
	})
}

// FuzzDescribe feeds arbitrary topics and payloads to the watcher's
// renderer (it reads whatever a broker delivers): it must never panic and
// must name the gateway of every topic it accepts.
func FuzzDescribe(f *testing.F) {
	f.Add("hallgw/h/g/status", []byte(`{"v":1,"online":true,"session":3,"backlog":2,"devices":[{"id":"a"}]}`), true)
	f.Add("hallgw/h/g/events", []byte(`{"v":1,"kind":"hall","seq":5,"type":"ticket_issued","ahead":4,"estimate":{"known":true}}`), false)
	f.Add("hallgw/h/g/events", []byte(`{"v":1,"kind":"fault","data":{"type":"fault_opened","fault":{"level":"II"}}}`), false)
	f.Add("hallgw/h/g/faults", []byte(`{"v":1,"network":"I","faults":[{"id":"x","end":"2026-03-02T01:00:00Z"}]}`), true)
	f.Add("hallgw/h/g/telemetry", []byte(`{"v":1,"gateway":{"uptime_s":-5},"devices":[{"state":"up"}]}`), false)
	f.Add("hallgw/h/g/reply", []byte(`{"v":1,"ok":false,"errors":["a","b"]}`), false)
	f.Add("hallgw/h/g/health/a/b", []byte(`{"v":1,"id":"a/b","state":"down"}`), true)
	f.Add("hallgw//g/status", []byte(`{}`), false)
	f.Fuzz(func(t *testing.T, topic string, payload []byte, retained bool) {
		line, err := Describe("hallgw", WatchMessage{Topic: topic, Payload: payload, Retained: retained}, time.UTC)
		if err != nil {
			return
		}
		hall, gw, _, ok := Split("hallgw", topic)
		if !ok || !strings.HasPrefix(line, hall+"/"+gw+" ") {
			t.Fatalf("Describe(%q) = %q: accepted a topic Split refuses, or lost the gateway", topic, line)
		}
	})
}
