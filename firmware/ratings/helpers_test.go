package ratings

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

const testGW = "gw-test"

// testKey returns a fixed key (seed byte b repeated), so runs are
// reproducible.
func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// rig is a gateway with its journal and a running signer, in a temporary
// directory, on a clock the test moves.
type rig struct {
	t   testing.TB
	dir string
	key ed25519.PrivateKey
	j   *journal.Journal
	g   *gateway.Gateway
	s   *Signer

	mu  sync.Mutex
	now time.Time

	cursorEvery int // Options.CursorEvery of the signer

	cancel context.CancelFunc
	done   chan error
}

// start is the hall's morning: Monday 2 March 2026, 09:00 in Shanghai.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, halltest.Location())

func hallConfig() hall.Config {
	c := halltest.Config()
	c.Ratings = hall.DefaultRatingRules()
	return c
}

func newRig(t testing.TB, key ed25519.PrivateKey) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), key: key, now: start}
	r.open()
	t.Cleanup(r.close)
	return r
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

// at sets the clock to start + d.
func (r *rig) at(d time.Duration) *rig {
	r.mu.Lock()
	r.now = start.Add(d)
	r.mu.Unlock()
	return r
}

func (r *rig) open() {
	r.t.Helper()
	ctx := context.Background()
	j, err := journal.Open(journal.Options{Path: filepath.Join(r.dir, "journal.db"), GatewayID: testGW, Now: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	g, err := gateway.Open(ctx, gateway.Options{Journal: j, GatewayID: testGW, Hall: hallConfig(), Now: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := New(Options{Journal: j, Feed: g.Feed(), GatewayID: testGW, Key: r.key, CursorEvery: r.cursorEvery})
	if err != nil {
		r.t.Fatal(err)
	}
	r.j, r.g, r.s = j, g, s
	rctx, cancel := context.WithCancel(ctx)
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- s.Run(rctx) }()
}

func (r *rig) close() {
	if r.j == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("Signer.Run() = %v", err)
	}
	ctx := context.Background()
	if err := r.g.Close(ctx); err != nil {
		r.t.Errorf("gateway close: %v", err)
	}
	if err := r.j.Close(); err != nil {
		r.t.Errorf("journal close: %v", err)
	}
	r.j = nil
}

// do runs a hall command that must succeed.
func (r *rig) do(cmd hall.Command) []gateway.Committed {
	r.t.Helper()
	out, err := r.g.Do(context.Background(), cmd)
	if err != nil {
		r.t.Fatalf("Do(%v) = %v", cmd.Op, err)
	}
	return out
}

// sync waits until the signer has looked at everything committed.
func (r *rig) sync() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := r.g.Digest(ctx) // the seq of the last hall event
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.s.Wait(ctx, st.Seq); err != nil {
		r.t.Fatal(err)
	}
}

// export returns the journal's export after the signer caught up.
func (r *rig) export() []byte {
	r.t.Helper()
	r.sync()
	var b bytes.Buffer
	if err := r.j.Export(&b, 0); err != nil {
		r.t.Fatal(err)
	}
	return b.Bytes()
}

// serve takes a ticket of service social through window w at start + d and
// returns when it is finished (a rating is then requested).
func (r *rig) serve(w string, d time.Duration) {
	r.t.Helper()
	r.at(d).do(hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk",
		Personal: []byte("sealed:张三 430102199003070016")})
	r.do(hall.Command{Op: hall.OpCallNext, Window: w})
	r.do(hall.Command{Op: hall.OpSetCase, Window: w, Case: "2026-SB-" + w})
	r.do(hall.Command{Op: hall.OpStart, Window: w})
	r.at(d + 4*time.Minute).do(hall.Command{Op: hall.OpFinish, Window: w, Source: "window"})
}

// day runs a morning with five rating outcomes: satisfied on the tablet, a
// 差评 with reasons, a key-pad 差评 without a reason, one not rated and a
// very satisfied one.
func (r *rig) day() {
	r.t.Helper()
	r.at(0).do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
	r.do(hall.Command{Op: hall.OpOpenWindow, Window: "w2", Staff: "s-012"})
	r.serve("w1", 0)
	r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: hall.GradeSatisfied, Source: hall.PadTablet})
	r.serve("w2", 5*time.Minute)
	r.do(hall.Command{Op: hall.OpRate, Window: "w2", Grade: hall.GradeVeryDissatisfied,
		Reasons: []string{"attitude", "waiting"}, Source: hall.PadTablet})
	r.serve("w1", 10*time.Minute)
	r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: hall.GradeDissatisfied, Source: hall.PadKeys})
	r.serve("w2", 15*time.Minute)
	r.at(25 * time.Minute).do(hall.Command{Op: hall.OpTick}) // not rated
	r.serve("w1", 30*time.Minute)
	r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: hall.GradeVerySatisfied, Source: hall.PadKeys})
}
