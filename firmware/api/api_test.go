package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall/halltest"
)

func newTestAPI(t *testing.T, token string) (*Handler, *gateway.Gateway) {
	t.Helper()
	now := halltest.Start()
	clock := func() time.Time { return now }
	j, err := journal.Open(journal.Options{Path: filepath.Join(t.TempDir(), "j.db"), GatewayID: "gw-api", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	g, err := gateway.Open(context.Background(), gateway.Options{Journal: j, GatewayID: "gw-api", Hall: halltest.Config(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(context.Background()) })
	return New(g, token), g
}

func call(t *testing.T, h http.Handler, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
	}
	return rec.Code, out
}

func TestCommands(t *testing.T) {
	h, _ := newTestAPI(t, "")
	cfg := halltest.Config()
	win, svc := cfg.Windows[0].ID, cfg.Windows[0].Services[0]
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string // error code, or "" on success
	}{
		{"call at a closed window", "POST", "/api/v1/windows/" + win + "/call-next", "", 409, "window_closed"},
		{"unknown window", "POST", "/api/v1/windows/nosuch/open", `{"staff":"S1"}`, 404, "unknown_window"},
		{"unknown action", "POST", "/api/v1/windows/" + win + "/dance", "", 404, "unknown_action"},
		{"open", "POST", "/api/v1/windows/" + win + "/open", `{"staff":"S001"}`, 200, ""},
		{"empty queue", "POST", "/api/v1/windows/" + win + "/call-next", "", 409, "queue_empty"},
		{"issue", "POST", "/api/v1/tickets", `{"service":"` + svc + `","source":"kiosk"}`, 201, ""},
		{"issue to an unknown service", "POST", "/api/v1/tickets", `{"service":"nosuch"}`, 404, "unknown_service"},
		{"malformed body", "POST", "/api/v1/tickets", `{"service":`, 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/tickets", `{"servise":"x"}`, 400, "bad_request"},
		{"bad priority", "POST", "/api/v1/tickets", `{"service":"` + svc + `","priority":"vip"}`, 400, "bad_request"},
		{"call next", "POST", "/api/v1/windows/" + win + "/call-next", "", 200, ""},
		{"recall too soon", "POST", "/api/v1/windows/" + win + "/recall", "", 409, "recall_too_soon"},
		{"finish", "POST", "/api/v1/windows/" + win + "/finish", "", 200, ""},
		{"finish again", "POST", "/api/v1/windows/" + win + "/finish", "", 409, "no_current_ticket"},
		{"pause", "POST", "/api/v1/windows/" + win + "/pause", `{"reason":"午休"}`, 200, ""},
		{"paused window calls", "POST", "/api/v1/windows/" + win + "/call-next", "", 409, "window_paused"},
	}
	for _, s := range steps {
		status, out := call(t, h, s.method, s.path, s.body, "")
		if status != s.status {
			t.Fatalf("%s: status %d (%v), want %d", s.name, status, out, s.status)
		}
		if s.code != "" && out["code"] != s.code {
			t.Fatalf("%s: code %v, want %s", s.name, out["code"], s.code)
		}
		if s.code == "" {
			evs, _ := out["events"].([]any)
			if len(evs) == 0 {
				t.Fatalf("%s: no events in %v", s.name, out)
			}
			ev := evs[0].(map[string]any)
			if !strings.HasPrefix(ev["id"].(string), "gw-api:") {
				t.Fatalf("%s: event id %v", s.name, ev["id"])
			}
		}
	}
}

func TestReads(t *testing.T) {
	h, _ := newTestAPI(t, "")
	svc := halltest.Config().Services[0].ID
	_, out := call(t, h, "POST", "/api/v1/tickets", `{"service":"`+svc+`"}`, "")
	tk := out["ticket"].(map[string]any)
	number := tk["number"].(string)
	for _, path := range []string{"/api/v1/tickets/" + number, "/api/v1/tickets/1"} {
		status, got := call(t, h, "GET", path, "", "")
		if status != 200 || got["number"] != number || got["state"] != "waiting" {
			t.Errorf("GET %s = %d %v, want ticket %s waiting", path, status, got, number)
		}
	}
	if status, _ := call(t, h, "GET", "/api/v1/tickets/Z999", "", ""); status != 404 {
		t.Errorf("unknown ticket: status %d, want 404", status)
	}
	status, st := call(t, h, "GET", "/api/v1/state", "", "")
	if status != 200 || len(st["services"].([]any)) != len(halltest.Config().Services) {
		t.Errorf("GET state = %d %v", status, st)
	}
	status, stats := call(t, h, "GET", "/api/v1/stats", "", "")
	svcs := stats["services"].(map[string]any)
	if status != 200 || svcs[svc].(map[string]any)["issued"].(float64) != 1 {
		t.Errorf("GET stats = %d %v, want 1 issued for %s", status, stats, svc)
	}
	status, d := call(t, h, "GET", "/api/v1/digest", "", "")
	if status != 200 || len(d["digest"].(string)) != 64 {
		t.Errorf("GET digest = %d %v", status, d)
	}
}

func TestToken(t *testing.T) {
	h, _ := newTestAPI(t, "t0ken")
	svc := halltest.Config().Services[0].ID
	body := `{"service":"` + svc + `"}`
	if status, out := call(t, h, "POST", "/api/v1/tickets", body, ""); status != 401 || out["code"] != "unauthorized" {
		t.Errorf("no token: %d %v, want 401", status, out)
	}
	if status, _ := call(t, h, "POST", "/api/v1/tickets", body, "wrong"); status != 401 {
		t.Errorf("wrong token: %d, want 401", status)
	}
	if status, _ := call(t, h, "POST", "/api/v1/tickets", body, "t0ken"); status != 201 {
		t.Errorf("right token: %d, want 201", status)
	}
	if status, _ := call(t, h, "GET", "/api/v1/state", "", ""); status != 200 {
		t.Errorf("reading needs no token: %d, want 200", status)
	}
}

func TestBodyLimit(t *testing.T) {
	h, _ := newTestAPI(t, "")
	big := `{"service":"` + strings.Repeat("x", maxBody+10) + `"}`
	req := httptest.NewRequest("POST", "/api/v1/tickets", bytes.NewReader([]byte(big)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Errorf("oversized body: status %d, want 400", rec.Code)
	}
}
