package assets

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallgw/drivers/idcard"
	"hallgw/firmware/web/webtest"
)

func TestHandler(t *testing.T) {
	ts := httptest.NewServer(Handler())
	defer ts.Close()
	tests := []struct {
		name, path string
		status     int
		cache      string
		ctype      string
	}{
		{"versioned css", URL("hallgw.css"), 200, "public, max-age=86400", "text/css; charset=utf-8"},
		{"unversioned js", Prefix + "hallgw.js", 200, "no-cache", "text/javascript; charset=utf-8"},
		{"missing", Prefix + "nope.js", 404, "", ""},
		{"directory", Prefix, 404, "", ""},
		{"escape", Prefix + "../assets.go", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
		})
	}
	if !strings.HasPrefix(URL("hallgw.js"), Prefix+"hallgw.js?v=") || len(version) != 12 {
		t.Errorf("URL = %q", URL("hallgw.js"))
	}
	if Version(Files(), "hallgw.css") == Version(Files(), "hallgw.js") {
		t.Error("two files with one version")
	}
}

// TestScriptMatchesGo runs hallgw.js in Chromium and checks that it masks
// and words estimates exactly as the Go code does.
func TestScriptMatchesGo(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(Prefix, Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><script src="%s"></script></head><body></body></html>`, URL("hallgw.js"))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	ctx := webtest.Browser(t, 800, 600)
	webtest.Step(t, ctx, "open", chromedp.Navigate(ts.URL+"/"))

	names := []string{"", "张", "张三", "张小三", "欧阳小明", "买买提·艾力", "  李四 ", "John Smith", "张*三"}
	numbers := []string{"", "1234", "43010219900101123", "430102199001011234", "43010219900101123X", " 430102199001011234 "}
	for _, n := range names {
		js, _ := json.Marshal(n)
		if got, want := webtest.Eval[string](t, ctx, "hallgw.maskName("+string(js)+")"), idcard.MaskName(n); got != want {
			t.Errorf("maskName(%q) = %q in the browser, %q in Go", n, got, want)
		}
	}
	for _, n := range numbers {
		js, _ := json.Marshal(n)
		if got, want := webtest.Eval[string](t, ctx, "hallgw.maskNumber("+string(js)+")"), idcard.MaskNumber(n); got != want {
			t.Errorf("maskNumber(%q) = %q in the browser, %q in Go", n, got, want)
		}
	}
	waits := []struct {
		known  bool
		lo, hi time.Duration
		want   string // as drivers/escpos prints it
	}{
		{false, 0, 0, "暂无法估计"},
		{true, 0, 50 * time.Second, "约 1 分钟内"},
		{true, 5 * time.Minute, 5 * time.Minute, "约 5 分钟"},
		{true, 4*time.Minute + 30*time.Second, 6*time.Minute + 10*time.Second, "约 4-7 分钟"},
	}
	for _, w := range waits {
		expr := fmt.Sprintf("hallgw.waitText({known: %v, lo_s: %d, hi_s: %d})", w.known, int(w.lo.Seconds()), int(w.hi.Seconds()))
		if got := webtest.Eval[string](t, ctx, expr); got != w.want {
			t.Errorf("%s = %q, want %q", expr, got, w.want)
		}
	}
}
