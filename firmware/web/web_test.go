package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/health"
	"hallgw/firmware/web/webtest"
)

func TestRegisterTest(t *testing.T) {
	t.Cleanup(func() { UnregisterTest("a"); UnregisterTest("b") })
	ran := ""
	RegisterTest("a", "打印测试票", func(context.Context) error { ran = "a1"; return nil })
	RegisterTest("b", "点亮条屏", func(context.Context) error { return nil })
	RegisterTest("a", "打印测试票（新）", func(context.Context) error { ran = "a2"; return nil })
	var names []string
	for _, tt := range Tests() {
		if tt.Name == "a" || tt.Name == "b" {
			names = append(names, tt.Name+"="+tt.Label)
		}
	}
	if got := strings.Join(names, ","); got != "a=打印测试票（新）,b=点亮条屏" {
		t.Errorf("tests %s, want a replaced in place", got)
	}
	for _, tt := range Tests() {
		if tt.Name == "a" {
			_ = tt.Run(context.Background())
		}
	}
	if ran != "a2" {
		t.Errorf("ran %q, want the replacement", ran)
	}
	UnregisterTest("a")
	for _, tt := range Tests() {
		if tt.Name == "a" {
			t.Error("a is still registered")
		}
	}
	for _, bad := range []string{"", "a b", "x/y", strings.Repeat("n", 65), "-x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterTest(%q) did not panic", bad)
				}
			}()
			RegisterTest(bad, "x", func(context.Context) error { return nil })
		}()
	}
}

func get(t *testing.T, url, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	h := webtest.NewHall(t)
	h.Open(t, "w1")
	h.Issue(t, "social", 2)
	reg := health.NewRegistry(h.Clock.Now)
	reg.Seen("kiosk-1/printer", "printer")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{
		Config:  config.Web{StatusUser: "ops", StatusPassword: "s3cret-pass", KioskReturn: config.Duration(9 * time.Second)},
		Gateway: h.Gateway, Health: reg, HallName: "示范市政务服务中心", GatewayID: "gw-test", Version: "1.4.2",
		Kiosks: []string{"k1"}, Location: h.Config.Location, Now: h.Clock.Now, StatusListener: ln,
		SampleEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	public := httptest.NewServer(mux)
	defer public.Close()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer s.Stop(ctx)
	RegisterTest("web-test-print", "打印测试票", func(context.Context) error { return errors.New("escpos: paper end") })
	t.Cleanup(func() { UnregisterTest("web-test-print") })

	statusURL := "http://" + s.StatusAddr()
	tests := []struct {
		name, url, user, pass string
		status                int
		contains              string
	}{
		{"display", public.URL + "/display/", "", "", 200, "示范市政务服务中心"},
		{"kiosk", public.URL + "/kiosk/k1/", "", "", 200, `data-return-ms="9000"`},
		{"unknown kiosk", public.URL + "/kiosk/k2/", "", "", 404, ""},
		{"shared files", public.URL + "/static/web/hallgw.js", "", "", 200, "maskName"},
		{"no status page on the public server", public.URL + "/metrics", "", "", 404, ""},
		{"status needs the password", statusURL + "/", "", "", 401, ""},
		{"wrong user", statusURL + "/", "admin", "s3cret-pass", 401, ""},
		{"status page", statusURL + "/", "ops", "s3cret-pass", 200, `data-test="web-test-print"`},
		{"metrics", statusURL + "/metrics", "ops", "s3cret-pass", 200, `hallgw_queue_waiting{service="social"} 2`},
		{"runtime metrics", statusURL + "/metrics", "ops", "s3cret-pass", 200, "go_goroutines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, tt.url, tt.user, tt.pass)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("GET %s = %d %.300q, want %d containing %q", tt.url, status, body, tt.status, tt.contains)
			}
		})
	}
	// The chart samples the hall by itself.
	webtestWait(t, "a chart sample", func() bool { return len(s.Chart().Samples()) > 0 })
	if info := s.Info(); info.StatusAddr != s.StatusAddr() || info.Tests < 1 {
		t.Errorf("info %+v", info)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the status listener still accepts after Stop")
	}
}

// webtestWait polls cond every 10 ms for up to 10 s.
func webtestWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDaemonComponent(t *testing.T) {
	yaml := "gateway:\n  id: gw-web\n  hall_id: hn-test\n  hall_name: 测试大厅\n  data_dir: " + t.TempDir() + "\n" +
		"web:\n  status_listen: 127.0.0.1:0\n  status_password: s3cret-pass\n"
	l, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan *daemon.Daemon, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{Config: l, Listener: ln, Version: "test", Ready: func(d *daemon.Daemon) { ready <- d }})
	}()
	var d *daemon.Daemon
	select {
	case d = <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(webtest.Timeout):
		t.Fatal("the daemon did not start")
	}
	info, ok := d.Status()["web"].(Info)
	if !ok || info.StatusAddr == "" {
		t.Fatalf("web status section %#v", d.Status()["web"])
	}
	public := "http://" + d.Addr
	if status, body := get(t, public+"/display/", "", ""); status != 200 || !strings.Contains(body, "测试大厅") {
		t.Errorf("display on the daemon: %d", status)
	}
	if status, body := get(t, "http://"+info.StatusAddr+"/", "admin", "s3cret-pass"); status != 200 || !strings.Contains(body, "gw-web") {
		t.Errorf("status page on the daemon: %d", status)
	}
	// An open display stream must not hold the daemon's shutdown.
	ev := webtest.Connect(t, public+"/display/events", "")
	ev.NextOf("state")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("daemon stopped with %v", err)
		}
	case <-time.After(webtest.Timeout):
		t.Fatal("the daemon does not stop while a display is connected")
	}
	if !ev.Ended() {
		t.Error("the display stream outlived the daemon")
	}
}
