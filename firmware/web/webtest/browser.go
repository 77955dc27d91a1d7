package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallgw/firmware/testkit"
)

// Browser starts headless Chromium (Debian's chromium) with a fresh
// profile and returns the context of its first tab, its viewport set to
// width×height. The test is skipped when chromium is missing, or fails
// when HALLGW_REQUIRE_TOOLS=1. The browser stops when the test ends.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	exe := testkit.Tool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser and binds it to ctx, which has
	// no deadline; each later step gets its own.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("webtest: start chromium: %v", err)
	}
	return ctx
}

// Timeout bounds each browser step, generously: it only keeps a broken
// test from hanging.
const Timeout = 20 * time.Second

// Step runs actions on the tab with Timeout and fails the test on error.
func Step(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("webtest: %s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression on the page and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("webtest: evaluate %s: %v", expr, err)
	}
	return v
}

// WaitFor waits until the JavaScript expression is true on the page (it is
// polled every 50 ms) and fails the test after Timeout, with what.
func WaitFor(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, Timeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(sctx, chromedp.Poll[bool]("Boolean("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(Timeout)))
	if err != nil {
		t.Fatalf("webtest: waiting for %s (%s): %v", what, expr, err)
	}
}

// Text returns the text of the first element the CSS selector matches, as
// the user sees it (innerText), read in one step on the page so that a
// re-render in between cannot lose the node. It fails the test when no
// element matches.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	sel, err := json.Marshal(css)
	if err != nil {
		t.Fatalf("webtest: %v", err)
	}
	v := Eval[struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}](t, ctx, "(() => { const e = document.querySelector("+string(sel)+"); return {found: !!e, text: e ? e.innerText : ''}; })()")
	if !v.Found {
		t.Fatalf("webtest: no element %s", css)
	}
	return v.Text
}

// Click clicks, with the mouse, the middle of the first element the CSS
// selector matches. The position is read and the click sent in two quick
// steps, so a page that re-renders its buttons meanwhile still gets the
// click on the same spot, as a person's would.
func Click(t testing.TB, ctx context.Context, css string) {
	t.Helper()
	sel, err := json.Marshal(css)
	if err != nil {
		t.Fatalf("webtest: %v", err)
	}
	p := Eval[struct {
		Found bool    `json:"found"`
		X     float64 `json:"x"`
		Y     float64 `json:"y"`
	}](t, ctx, "(() => { const e = document.querySelector("+string(sel)+"); if (!e) return {found: false};"+
		" e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"+
		" return {found: true, x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
	if !p.Found {
		t.Fatalf("webtest: no element %s to click", css)
	}
	Step(t, ctx, "click "+css, chromedp.MouseClickXY(p.X, p.Y))
}

// DocImageEnv names a directory (docs/img) that Screenshot also writes
// every screenshot to, to renew the reference images of the docs:
//
//	HALLGW_DOC_IMG=$PWD/docs/img go test ./firmware/web/...
const DocImageEnv = "HALLGW_DOC_IMG"

// Screenshot captures the viewport, checks that it is a PNG of
// width×height that is not blank, writes it to dir/name (and to
// $HALLGW_DOC_IMG/name when that is set) and returns it.
func Screenshot(t testing.TB, ctx context.Context, dir, name string, width, height int) image.Image {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	b, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("webtest: screenshot %s: %v", name, err)
	}
	img, err := CheckScreenshot(b, width, height)
	if err != nil {
		t.Fatalf("webtest: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatalf("webtest: %v", err)
	}
	if docs := os.Getenv(DocImageEnv); docs != "" {
		if err := os.WriteFile(filepath.Join(docs, name), b, 0o644); err != nil {
			t.Fatalf("webtest: %v", err)
		}
	}
	return img
}

// CheckScreenshot decodes a PNG and checks its size and that it is not
// blank: a sample grid of it must hold at least 8 colours, and no colour
// may cover more than 97 % of it.
func CheckScreenshot(b []byte, width, height int) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not a PNG: %w", err)
	}
	if got := img.Bounds().Size(); got.X != width || got.Y != height {
		return nil, fmt.Errorf("size %dx%d, want %dx%d", got.X, got.Y, width, height)
	}
	counts := map[[3]uint32]int{}
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 4 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 4 {
			r, g, b, _ := img.At(x, y).RGBA()
			counts[[3]uint32{r >> 8, g >> 8, b >> 8}]++
			n++
		}
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	if len(counts) < 8 || top*100 > n*97 {
		return nil, fmt.Errorf("blank: %d colours, the commonest on %d of %d samples", len(counts), top, n)
	}
	return img, nil
}

// DominantRed reports the share (0–1) of strongly red pixels of img, on a
// sample grid: the emergency banner fills the screen with red.
func DominantRed(img image.Image) float64 {
	red, n := 0, 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 4 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 4 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 > 150 && g>>8 < 80 && b>>8 < 80 {
				red++
			}
			n++
		}
	}
	return float64(red) / float64(n)
}
