package pad

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/firmware/ratings"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

const testGW = "gw-pad"

// start is 09:00 on Monday 2 March 2026 in the sample hall.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, halltest.Location())

// hallRig is a gateway with its journal, the rating signer and the pad
// pages on a loopback server, on a clock the test moves.
type hallRig struct {
	t    testing.TB
	root string
	j    *journal.Journal
	g    *gateway.Gateway
	s    *ratings.Signer
	h    *Handler
	srv  *httptest.Server

	mu  sync.Mutex
	now time.Time
}

var roster = []config.Staff{
	{ID: "s-007", Name: "李明", Number: "0731007", Photo: "staff/s-007.png"},
	{ID: "s-012", Name: "王芳", Number: "0731012"},
}

func newHallRig(t testing.TB) *hallRig {
	t.Helper()
	r := &hallRig{t: t, root: t.TempDir(), now: start}
	writePhoto(t, filepath.Join(r.root, "staff", "s-007.png"))
	ctx := context.Background()
	var err error
	r.j, err = journal.Open(journal.Options{Path: filepath.Join(r.root, "journal.db"), GatewayID: testGW, Now: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	cfg := halltest.Config()
	cfg.Ratings = hall.DefaultRatingRules()
	r.g, err = gateway.Open(ctx, gateway.Options{Journal: r.j, GatewayID: testGW, Hall: cfg, Now: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := ratings.LoadOrCreateKey(r.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.s, err = ratings.New(ratings.Options{Journal: r.j, Feed: r.g.Feed(), GatewayID: testGW, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.s.Run(sctx) }()
	r.h, err = New(Options{Gateway: r.g, Staff: roster, Path: func(p string) string { return filepath.Join(r.root, p) },
		Thanks: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(r.h)
	t.Cleanup(func() {
		r.srv.CloseClientConnections()
		r.srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("signer: %v", err)
		}
		r.g.Close(context.Background())
		r.j.Close()
	})
	return r
}

func (r *hallRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *hallRig) at(d time.Duration) *hallRig {
	r.mu.Lock()
	r.now = start.Add(d)
	r.mu.Unlock()
	return r
}

func (r *hallRig) do(cmd hall.Command) []gateway.Committed {
	r.t.Helper()
	out, err := r.g.Do(context.Background(), cmd)
	if err != nil {
		r.t.Fatalf("Do(%v) = %v", cmd.Op, err)
	}
	return out
}

// serve takes a ticket through window w and finishes it: the window's pad
// is asked for a rating.
func (r *hallRig) serve(w string) {
	r.t.Helper()
	r.do(hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk"})
	r.do(hall.Command{Op: hall.OpCallNext, Window: w})
	r.do(hall.Command{Op: hall.OpFinish, Window: w, Source: "window"})
}

// journaled returns the hall events and the other records of the journal,
// after the signer caught up.
func (r *hallRig) journaled() ([]hall.Event, []journal.Record) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := r.g.Digest(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.s.Wait(ctx, st.Seq); err != nil {
		r.t.Fatal(err)
	}
	var evs []hall.Event
	var other []journal.Record
	err = r.j.Scan(1, func(rec journal.Record) error {
		if rec.Kind == gateway.KindHall {
			var e hall.Event
			if err := e.UnmarshalBinary(rec.Data); err != nil {
				return err
			}
			evs = append(evs, e)
			return nil
		}
		rec.Data = append([]byte(nil), rec.Data...)
		other = append(other, rec)
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return evs, other
}

func writePhoto(t testing.TB, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 90, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 90; x++ {
			img.Set(x, y, color.RGBA{R: uint8(60 + x), G: uint8(90 + y/2), B: 160, A: 255})
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
