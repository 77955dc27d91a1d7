package pad

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hallgw/firmware/journal"
	"hallgw/firmware/ratings"
	"hallgw/firmware/testkit"
	"hallgw/hall"
)

// browser starts headless Chromium (the flags of the test toolbox, a fresh
// profile) and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testkit.Tool(t, "chromium")
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tctx, tcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		tcancel()
		// Chromium's helpers may write into the profile for a moment after
		// it stops.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return tctx
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestPadInBrowser drives the pad page in a real browser: the staff card,
// a rating tapped on the page landing in the journal with its signature, a
// 差评 with its reason and alert, the pause state and a request timing
// out.
func TestPadInBrowser(t *testing.T) {
	ctx := browser(t)
	r := newHallRig(t)
	r.do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
	do(t, ctx, "open the pad", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(r.srv.URL+"/pad/w1/"),
		chromedp.WaitVisible(chromedp.CSS("#staff-name")), chromedp.WaitVisible(chromedp.CSS(`body[data-connected="1"]`)))

	t.Run("staff card", func(t *testing.T) {
		if got := text(t, ctx, "#staff-name"); got != "李明" {
			t.Errorf("staff name = %q, want 李明", got)
		}
		if got := text(t, ctx, "#staff-number"); got != "工号 0731007" {
			t.Errorf("staff number = %q, want 工号 0731007", got)
		}
		if got := text(t, ctx, "#window-status"); got != "正在为您服务" {
			t.Errorf("window status = %q", got)
		}
		w, err := chromedp.Run(ctx, chromedp.Poll[int](`document.getElementById('staff-photo').naturalWidth || false`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil || w != 90 {
			t.Errorf("photo width = %d, %v, want the 90 px photo loaded", w, err)
		}
	})

	t.Run("satisfied, signed in the journal", func(t *testing.T) {
		r.serve("w1")
		do(t, ctx, "prompt", chromedp.WaitVisible(chromedp.CSS(`button.grade[data-grade="2"]`)))
		if got := text(t, ctx, "#prompt-ticket"); !strings.Contains(got, "A001") || !strings.Contains(got, "社保医保") {
			t.Errorf("prompt = %q, want A001 社保医保", got)
		}
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		checkScreenshot(t, shot, 1280, 800)
		do(t, ctx, "tap 满意", chromedp.Click(chromedp.CSS(`button.grade[data-grade="2"]`)),
			chromedp.WaitVisible(chromedp.CSS("#thanks")))
		evs, recs := r.journaled()
		given := lastEvent(evs, hall.EvRatingGiven)
		if given.Grade != hall.GradeSatisfied || given.Source != hall.PadTablet || given.Number != "A001" || given.Staff != "s-007" {
			t.Fatalf("rating journaled = %+v, want 满意 of A001 by s-007 from the tablet", given)
		}
		sig := signedFor(t, r, recs, given.Rating)
		if sig.Grade != 2 || sig.Source != hall.PadTablet || sig.Window != "w1" {
			t.Errorf("signed payload = %+v", sig)
		}
		do(t, ctx, "back to the staff card", chromedp.WaitVisible(chromedp.CSS("#idle")))
	})

	t.Run("差评 with a reason", func(t *testing.T) {
		r.serve("w1")
		do(t, ctx, "差评 and its reason",
			chromedp.WaitVisible(chromedp.CSS(`button.grade[data-grade="5"]`)),
			chromedp.Click(chromedp.CSS(`button.grade[data-grade="5"]`)),
			chromedp.WaitVisible(chromedp.CSS("#reasons-box")),
			chromedp.Click(chromedp.CSS(`#reasons input[value="attitude"]`)),
			chromedp.WaitEnabled(chromedp.CSS("#submit-reasons")),
			chromedp.Click(chromedp.CSS("#submit-reasons")),
			chromedp.WaitVisible(chromedp.CSS("#thanks")))
		evs, recs := r.journaled()
		given := lastEvent(evs, hall.EvRatingGiven)
		if given.Grade != hall.GradeVeryDissatisfied || !slices.Equal(given.Reasons, []string{"attitude"}) {
			t.Fatalf("rating journaled = %+v, want 非常不满意 for attitude", given)
		}
		signedFor(t, r, recs, given.Rating)
		var alert ratings.Alert
		for _, rec := range recs {
			if rec.Kind == ratings.KindAlert {
				json.Unmarshal(rec.Data, &alert)
			}
		}
		if alert.Type != ratings.AlertBadRating || alert.Rating != uint64(given.Rating) || alert.Staff != "s-007" {
			t.Errorf("alert = %+v, want the 差评 of rating %d", alert, given.Rating)
		}
		do(t, ctx, "back to the staff card", chromedp.WaitVisible(chromedp.CSS("#idle")))
	})

	t.Run("paused", func(t *testing.T) {
		r.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "午休"})
		got, err := chromedp.Run(ctx, chromedp.Poll[string](
			`(function(){var t=document.getElementById('window-status').textContent;return t.indexOf('暂停')>=0?t:false})()`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil || got != "暂停服务（午休）" {
			t.Errorf("window status = %q, %v, want 暂停服务（午休）", got, err)
		}
		r.do(hall.Command{Op: hall.OpUnpause, Window: "w1"})
	})

	t.Run("not rated in time", func(t *testing.T) {
		r.serve("w1")
		do(t, ctx, "prompt", chromedp.WaitVisible(chromedp.CSS("#prompt")))
		r.at(time.Hour).do(hall.Command{Op: hall.OpTick})
		do(t, ctx, "the prompt goes", chromedp.WaitNotVisible(chromedp.CSS("#prompt")), chromedp.WaitVisible(chromedp.CSS("#idle")))
		evs, recs := r.journaled()
		nr := lastEvent(evs, hall.EvRatingNotRated)
		if nr.Reason != "timeout" {
			t.Errorf("not rated = %+v, want timeout", nr)
		}
		if p := signedFor(t, r, recs, nr.Rating); p.Outcome != ratings.OutcomeNotRated || p.Grade != 0 {
			t.Errorf("signed payload = %+v, want not rated without grade", p)
		}
	})
}

func lastEvent(evs []hall.Event, typ hall.EventType) hall.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	return hall.Event{}
}

// signedFor returns the verified payload of the signed record of rating id.
func signedFor(t *testing.T, r *hallRig, recs []journal.Record, id hall.RatingID) ratings.Payload {
	t.Helper()
	for _, rec := range recs {
		if rec.Kind != ratings.KindSig {
			continue
		}
		sr, p, err := ratings.ParseRecord(rec.Data)
		if err != nil {
			t.Fatalf("signed record %d: %v", rec.Seq, err)
		}
		if p.Rating != uint64(id) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.root, ratings.PublicKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ratings.ParsePublicKey(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := ratings.CheckSig(&sr, pub); err != nil {
			t.Fatalf("signed record of rating %d: %v", id, err)
		}
		return p
	}
	t.Fatalf("no signed record of rating %d", id)
	return ratings.Payload{}
}

// checkScreenshot checks that shot is a PNG of w×h that is not blank.
func checkScreenshot(t *testing.T, shot []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot is %v, want %d×%d", b, w, h)
	}
	colors := map[color.RGBA]bool{}
	for y := 0; y < h; y += 8 {
		for x := 0; x < w; x += 8 {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}] = true
		}
	}
	if len(colors) < 6 {
		t.Errorf("screenshot has %d colours: blank", len(colors))
	}
}
