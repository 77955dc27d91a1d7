package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/mqttbroker"
)

func TestWatchCommand(t *testing.T) {
	b, err := mqttbroker.Start(mqttbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Publish("hallgw/hn-demo/gw-demo-01/status", []byte(`{"v":1,"online":true,"session":4,"gateway":"gw-demo-01","hall":"hn-demo","backlog":0}`), true, 1)
	b.Publish("hallgw/hn-other/gw-9/status", []byte(`{"v":1,"online":false,"session":2,"reason":"lost"}`), true, 1)

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"text, every hall", []string{"--count", "2"}, []string{"hn-demo/gw-demo-01 status    ONLINE session 4", "hn-other/gw-9 status    OFFLINE session 2"}},
		{"text, one hall", []string{"--hall", "hn-demo", "--count", "1"}, []string{"hn-demo/gw-demo-01 status    ONLINE session 4"}},
		{"json", []string{"--json", "--gateway", "gw-9", "--count", "1"}, []string{`{"topic":"hallgw/hn-other/gw-9/status","retained":true,"payload":{"v":1,"online":false,"session":2,"reason":"lost"}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := dispatch(ctx, &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")},
				append([]string{"watch", "--broker", b.URL()}, tt.args...))
			if code != 0 {
				t.Fatalf("hallgw watch %v = exit %d: %s", tt.args, code, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("hallgw watch %v printed\n%s\nwant a line with %q", tt.args, out.String(), w)
				}
			}
			if strings.Contains(tt.name, "json") {
				for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					if !json.Valid([]byte(l)) {
						t.Errorf("not a JSON line: %q", l)
					}
				}
			}
		})
	}
	var errOut bytes.Buffer
	if code := dispatch(context.Background(), &env{stdout: &bytes.Buffer{}, stderr: &errOut}, []string{"watch"}); code != 2 {
		t.Errorf("hallgw watch without --broker = exit %d, want 2 (usage): %s", code, errOut.String())
	}
}
