package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSubmitOrder(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int // records per Submit call
	}{
		{"single record", []int{1}},
		{"one call of three", []int{3}},
		{"mixed calls", []int{1, 4, 2, 1, 7}},
		{"many singles", slices.Repeat([]int{1}, 40)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := openT(t, testOpts(t))
			var pend []*Pending
			var want []string
			next := uint64(1)
			for c, n := range tc.sizes {
				recs := make([]Record, n)
				for i := range recs {
					d := fmt.Sprintf("call%d-rec%d", c, i)
					recs[i] = biz("hall", d)
					want = append(want, d)
				}
				p, err := j.Submit(recs...)
				if err != nil {
					t.Fatalf("Submit() = %v", err)
				}
				if f, l := p.Seqs(); f != next || l != next+uint64(n)-1 {
					t.Fatalf("Seqs() = %d, %d, want %d, %d", f, l, next, next+uint64(n)-1)
				}
				next += uint64(n)
				pend = append(pend, p)
			}
			for _, p := range pend {
				if err := p.Wait(hangCtx(t)); err != nil {
					t.Fatalf("Wait() = %v", err)
				}
				select {
				case <-p.Done():
				default:
					t.Fatal("Done() not closed after Wait returned nil")
				}
			}
			if got, want := j.Committed(), next-1; got != want {
				t.Fatalf("Committed() = %d, want %d", got, want)
			}
			got, err := j.Read(1, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("Read(1) returned %d records, want %d", len(got), len(want))
			}
			for i, r := range got {
				if r.Seq != uint64(i+1) || string(r.Data) != want[i] || r.Kind != "hall" || r.Class != Business {
					t.Errorf("Read(1)[%d] = {%d %s %s %q}, want {%d business hall %q}", i, r.Seq, r.Class, r.Kind, r.Data, i+1, want[i])
				}
			}
		})
	}
}

func TestSubmitValidation(t *testing.T) {
	clk := newClock()
	o := testOpts(t)
	o.Now = clk.Now
	j := openT(t, o)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CST", 8*3600))
	cases := []struct {
		name    string
		recs    []Record
		wantErr string
		wantAt  time.Time
	}{
		{"no records", nil, "without records", time.Time{}},
		{"telemetry class", []Record{{Class: Telemetry, Kind: "hall"}}, "want business", time.Time{}},
		{"unknown class", []Record{{Class: 9, Kind: "hall"}}, "want business", time.Time{}},
		{"empty kind", []Record{{Class: Business}}, "without kind", time.Time{}},
		{"kind too long", []Record{{Kind: strings.Repeat("k", 256)}}, "kind of 256 bytes", time.Time{}},
		{"data too large", []Record{{Kind: "hall", Data: make([]byte, MaxDataLen+1)}}, "too large", time.Time{}},
		{"time out of range", []Record{{Kind: "hall", At: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}}, "out of range", time.Time{}},
		{"second record bad", []Record{biz("hall", "ok"), {Class: Business}}, "record 1", time.Time{}},
		{"zero class is business", []Record{{Kind: "hall", At: at}}, "", at.UTC()},
		{"zero time is now", []Record{{Kind: "hall"}}, "", clk.Now()},
		{"longest kind", []Record{{Kind: strings.Repeat("k", 255), At: at}}, "", at.UTC()},
		{"largest data", []Record{{Kind: "hall", Data: make([]byte, MaxDataLen), At: at}}, "", at.UTC()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := j.Committed()
			first, err := j.Append(hangCtx(t), tc.recs...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Append() = %v, want error containing %q", err, tc.wantErr)
				}
				if j.Committed() != before {
					t.Fatalf("Committed() = %d after a refused Append, want %d", j.Committed(), before)
				}
				return
			}
			if err != nil {
				t.Fatalf("Append() = %v", err)
			}
			got, err := j.Read(first, 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("Read(%d, 1) = %v, %v", first, got, err)
			}
			if !got[0].At.Equal(tc.wantAt) || got[0].At.Location() != time.UTC || got[0].Class != Business {
				t.Fatalf("Read(%d).At, Class = %v, %s, want %v UTC, business", first, got[0].At, got[0].Class, tc.wantAt)
			}
			if len(got[0].Data) != len(tc.recs[0].Data) {
				t.Fatalf("Read(%d) data of %d bytes, want %d", first, len(got[0].Data), len(tc.recs[0].Data))
			}
		})
	}
}

func TestSubmitCopiesData(t *testing.T) {
	j := openT(t, testOpts(t))
	buf := []byte("original")
	p, err := j.Submit(Record{Kind: "hall", Data: buf})
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!")
	if err := p.Wait(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
	got, _ := j.Read(1, 1)
	if string(got[0].Data) != "original" {
		t.Fatalf("Read(1).Data = %q, want %q", got[0].Data, "original")
	}
}

func TestConcurrentProducers(t *testing.T) {
	cases := []struct {
		name      string
		producers int
		each      int
		perCall   int
		maxBatch  int
	}{
		{"64 producers", 64, 40, 1, 0},
		{"64 producers small batches", 64, 20, 1, 7},
		{"8 producers of 3-record calls", 8, 60, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOpts(t)
			o.MaxBatch = tc.maxBatch
			j := openT(t, o)
			var wg sync.WaitGroup
			errs := make(chan error, tc.producers)
			for p := range tc.producers {
				wg.Go(func() {
					for i := 0; i < tc.each; {
						n := tc.perCall
						recs := make([]Record, n)
						for k := range recs {
							recs[k] = biz(fmt.Sprintf("p%02d", p), fmt.Sprintf("%06d", i+k))
						}
						if _, err := j.Append(hangCtx(t), recs...); err != nil {
							errs <- err
							return
						}
						i += n
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("Append() = %v", err)
			}
			recs := scanAll(t, j)
			checkGapFree(t, j, recs)
			per := map[string]int{}
			for _, r := range recs {
				var i int
				fmt.Sscanf(string(r.Data), "%d", &i)
				if i != per[r.Kind] {
					t.Fatalf("producer %s: record %d at seq %d, want record %d (producer order broken)", r.Kind, i, r.Seq, per[r.Kind])
				}
				per[r.Kind]++
			}
			if len(per) != tc.producers {
				t.Fatalf("producers seen = %d, want %d", len(per), tc.producers)
			}
			for k, n := range per {
				if n < tc.each {
					t.Fatalf("producer %s: %d records, want %d", k, n, tc.each)
				}
			}
		})
	}
}

// blockWriter makes the writer's next commit wait until release is called;
// commits counts the commits attempted.
type gate struct {
	entered chan struct{}
	release chan struct{}
	armed   atomic.Bool
	commits atomic.Int64
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gate) hook(*bolt.Tx) error {
	g.commits.Add(1)
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return nil
}

func TestGroupCommit(t *testing.T) {
	cases := []struct {
		name        string
		maxBatch    int
		calls       []int // records per Submit while the writer is held
		wantCommits int64 // after the held one
	}{
		{"all queued share one commit", 0, slices.Repeat([]int{1}, 100), 1},
		{"MaxBatch splits", 10, slices.Repeat([]int{1}, 100), 10},
		{"whole calls only", 10, []int{6, 6, 6}, 3},
		{"call larger than MaxBatch stays whole", 10, []int{25}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			o := testOpts(t)
			o.MaxBatch = tc.maxBatch
			o.commitHook = g.hook
			j := openT(t, o)
			g.armed.Store(true)
			first, err := j.Submit(biz("hall", "held"))
			if err != nil {
				t.Fatal(err)
			}
			<-g.entered
			var pend []*Pending
			for i, n := range tc.calls {
				recs := slices.Repeat([]Record{biz("hall", fmt.Sprint(i))}, n)
				p, err := j.Submit(recs...)
				if err != nil {
					t.Fatal(err)
				}
				pend = append(pend, p)
			}
			close(g.release)
			if err := first.Wait(hangCtx(t)); err != nil {
				t.Fatal(err)
			}
			for _, p := range pend {
				if err := p.Wait(hangCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			if got := g.commits.Load() - 1; got != tc.wantCommits {
				t.Fatalf("commits after the held one = %d, want %d", got, tc.wantCommits)
			}
			checkGapFree(t, j, scanAll(t, j))
		})
	}
}

func TestReopen(t *testing.T) {
	o := testOpts(t)
	j := openT(t, o)
	appendN(t, j, "a", 10)
	j.Hold("uplink")
	if err := j.SetCursor("uplink", 4); err != nil {
		t.Fatal(err)
	}
	if err := j.SetMeta("session", []byte{7}); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendTelemetry(Record{Kind: "health", Data: []byte("t1")}); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
	j = reopen(t, j)
	if got := j.Committed(); got != 10 {
		t.Fatalf("Committed() after reopen = %d, want 10", got)
	}
	if got := j.First(); got != 1 {
		t.Fatalf("First() after reopen = %d, want 1", got)
	}
	if got := j.Holds(); !slices.Equal(got, []string{"uplink"}) {
		t.Fatalf("Holds() after reopen = %v, want [uplink]", got)
	}
	if c, _ := j.Cursor("uplink"); c != 4 {
		t.Fatalf("Cursor(uplink) after reopen = %d, want 4", c)
	}
	if m, _ := j.Meta("session"); !bytes.Equal(m, []byte{7}) {
		t.Fatalf("Meta(session) after reopen = %v, want [7]", m)
	}
	if first := appendT(t, j, biz("hall", "after")); first != 11 {
		t.Fatalf("first seq after reopen = %d, want 11", first)
	}
	tel, err := j.ReadTelemetry(0, 10)
	if err != nil || len(tel) != 1 || string(tel[0].Data) != "t1" || tel[0].Seq != 1 || tel[0].Class != Telemetry {
		t.Fatalf("ReadTelemetry(0) = %+v, %v; want one record t1 seq 1", tel, err)
	}
	checkCounters(t, j)
	checkGapFree(t, j, scanAll(t, j))

	j.Close()
	o.GatewayID = "other-gw"
	if _, err := Open(o); err == nil || !strings.Contains(err.Error(), `belongs to gateway "gw-test"`) {
		t.Fatalf("Open(other gateway) = %v, want a gateway mismatch error", err)
	}
}

func TestSeqNeverReused(t *testing.T) {
	o := testOpts(t)
	o.BusinessLimit = 10 * recSize("hall", 6)
	j := openT(t, o)
	appendN(t, j, "a", 5) // "a-0000": 6 bytes of data
	if err := j.SaveSnapshot(5, []byte("state")); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "b", 4) // 9 records = 90 %: reclaims seq 1, down to 80 %
	if got := j.First(); got != 2 {
		t.Fatalf("First() = %d, want 2 (reclaim down to 80 %% of the limit)", got)
	}
	j.Hold("none") // no cursor: blocks everything from now on
	j = reopen(t, j)
	if got, want := j.Committed(), uint64(9); got != want {
		t.Fatalf("Committed() after reopen = %d, want %d", got, want)
	}
	if first := appendT(t, j, biz("hall", "c")); first != 10 {
		t.Fatalf("first seq after reopen = %d, want 10", first)
	}
}

func TestCursors(t *testing.T) {
	j := openT(t, testOpts(t))
	appendN(t, j, "a", 20)
	steps := []struct {
		name    string
		cursor  string
		set     uint64
		want    uint64
		wantErr string
	}{
		{"unset is zero", "uplink", 0, 0, ""},
		{"forward", "uplink", 5, 5, ""},
		{"back is ignored", "uplink", 3, 5, ""},
		{"same is fine", "uplink", 5, 5, ""},
		{"forward again", "uplink", 12, 12, ""},
		{"beyond committed", "uplink", 21, 12, "beyond committed"},
		{"names are independent", "display", 2, 2, ""},
		{"up to committed", "display", 20, 20, ""},
		{"empty name", "", 1, 0, "empty name"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var err error
			if s.set > 0 {
				err = j.SetCursor(s.cursor, s.set)
			}
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("SetCursor(%q, %d) = %v, want error containing %q", s.cursor, s.set, err, s.wantErr)
				}
			} else if err != nil {
				t.Fatalf("SetCursor(%q, %d) = %v", s.cursor, s.set, err)
			}
			if got, err := j.Cursor(s.cursor); got != s.want || err != nil {
				t.Fatalf("Cursor(%q) = %d, %v, want %d", s.cursor, got, err, s.want)
			}
		})
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { _ = j.SetCursor("race", uint64(i+1)) })
	}
	wg.Wait()
	j = reopen(t, j)
	for name, want := range map[string]uint64{"uplink": 12, "display": 20, "race": 20} {
		if got, _ := j.Cursor(name); got != want {
			t.Errorf("Cursor(%q) after reopen = %d, want %d", name, got, want)
		}
	}
}

func TestMeta(t *testing.T) {
	j := openT(t, testOpts(t))
	steps := []struct {
		name    string
		key     string
		set     []byte
		do      bool
		want    []byte
		wantErr string
	}{
		{"unset is nil", "epoch", nil, false, nil, ""},
		{"set", "epoch", []byte{0, 0, 0, 1}, true, []byte{0, 0, 0, 1}, ""},
		{"overwrite", "epoch", []byte{0, 0, 0, 2}, true, []byte{0, 0, 0, 2}, ""},
		{"empty value", "flag", []byte{}, true, []byte{}, ""},
		{"nil deletes", "epoch", nil, true, nil, ""},
		{"empty key", "", []byte{1}, true, nil, "empty key"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.do {
				err := j.SetMeta(s.key, s.set)
				if s.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), s.wantErr) {
						t.Fatalf("SetMeta(%q) = %v, want error containing %q", s.key, err, s.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("SetMeta(%q) = %v", s.key, err)
				}
			}
			got, err := j.Meta(s.key)
			if err != nil || !bytes.Equal(got, s.want) || (got == nil) != (s.want == nil) {
				t.Fatalf("Meta(%q) = %v, %v, want %v", s.key, got, err, s.want)
			}
		})
	}
	j = reopen(t, j)
	if got, _ := j.Meta("flag"); got == nil || len(got) != 0 {
		t.Fatalf("Meta(flag) after reopen = %v, want empty non-nil", got)
	}
}

func TestSnapshots(t *testing.T) {
	j := openT(t, testOpts(t))
	if seq, data, err := j.LatestSnapshot(); seq != 0 || data != nil || err != nil {
		t.Fatalf("LatestSnapshot() on a new journal = %d, %v, %v, want 0, nil, nil", seq, data, err)
	}
	appendN(t, j, "a", 10)
	steps := []struct {
		name     string
		seq      uint64
		data     string
		wantSeq  uint64
		wantData string
		wantErr  string
	}{
		{"first", 4, "s4", 4, "s4", ""},
		{"newer", 8, "s8", 8, "s8", ""},
		{"older is ignored", 6, "s6", 8, "s8", ""},
		{"same seq replaces", 8, "s8b", 8, "s8b", ""},
		{"beyond committed", 11, "s11", 8, "s8b", "beyond committed"},
		{"seq zero", 0, "s0", 8, "s8b", "seq 0"},
		{"at committed", 10, "s10", 10, "s10", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := j.SaveSnapshot(s.seq, []byte(s.data))
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("SaveSnapshot(%d) = %v, want error containing %q", s.seq, err, s.wantErr)
				}
			} else if err != nil {
				t.Fatalf("SaveSnapshot(%d) = %v", s.seq, err)
			}
			seq, data, err := j.LatestSnapshot()
			if seq != s.wantSeq || string(data) != s.wantData || err != nil {
				t.Fatalf("LatestSnapshot() = %d, %q, %v, want %d, %q", seq, data, err, s.wantSeq, s.wantData)
			}
		})
	}
	n := 0
	_ = j.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bkSnapshots).Stats().KeyN; return nil })
	if n != 1 {
		t.Fatalf("stored snapshots = %d, want 1", n)
	}
	j = reopen(t, j)
	if seq, data, _ := j.LatestSnapshot(); seq != 10 || string(data) != "s10" {
		t.Fatalf("LatestSnapshot() after reopen = %d, %q, want 10, s10", seq, data)
	}
}

func TestReclaimRules(t *testing.T) {
	// 100 records fit the limit exactly; 90 records reach 90 % and start a
	// reclaim down to 80 % (10 records), bounded by the holds and the
	// snapshot.
	const dataLen = 20
	size := recSize("hall", dataLen)
	cases := []struct {
		name      string
		snapshot  uint64
		holds     map[string]uint64 // hold name -> cursor (0: never set)
		release   []string
		written   int // records written in total
		wantFirst uint64
	}{
		{"below 90 %: nothing reclaimed", 80, nil, nil, 89, 1},
		{"no snapshot: nothing reclaimed", 0, nil, nil, 95, 1},
		{"snapshot, no holds: down to 80 %", 80, nil, nil, 90, 11},
		{"snapshot bounds", 4, nil, nil, 90, 5},
		{"hold without cursor blocks", 80, map[string]uint64{"uplink": 0}, nil, 95, 1},
		{"hold cursor bounds", 80, map[string]uint64{"uplink": 6}, nil, 90, 7},
		{"lowest hold wins", 80, map[string]uint64{"uplink": 9, "display": 3}, nil, 90, 4},
		{"snapshot below holds wins", 2, map[string]uint64{"uplink": 50}, nil, 90, 3},
		{"released hold no longer bounds", 80, map[string]uint64{"uplink": 50, "old": 1}, []string{"old"}, 90, 11},
		{"keeps reclaiming as it grows", 85, nil, nil, 100, 21},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOpts(t)
			o.BusinessLimit = 100 * size
			j := openT(t, o)
			for name := range tc.holds {
				j.Hold(name)
			}
			write := func(n int) {
				for range n {
					appendT(t, j, biz("hall", strings.Repeat("x", dataLen)))
				}
			}
			write(85)
			for name, c := range tc.holds {
				if c > 0 {
					if err := j.SetCursor(name, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, name := range tc.release {
				j.Release(name)
			}
			if tc.snapshot > 0 {
				if err := j.SaveSnapshot(tc.snapshot, []byte("s")); err != nil {
					t.Fatal(err)
				}
			}
			write(tc.written - 85)
			if got := j.First(); got != tc.wantFirst {
				t.Fatalf("First() = %d, want %d", got, tc.wantFirst)
			}
			recs := scanAll(t, j)
			checkGapFree(t, j, recs)
			checkCounters(t, j)
			if u := j.Usage(); u.BusinessRecords != len(recs) || u.First != tc.wantFirst {
				t.Fatalf("Usage() = %d records from %d, want %d from %d", u.BusinessRecords, u.First, len(recs), tc.wantFirst)
			}
		})
	}
}

func TestTelemetryEviction(t *testing.T) {
	clk := newClock()
	al := newAlarms()
	o := testOpts(t)
	o.Now = clk.Now
	o.OnAlarm = al.on
	size := recSize("health", 4)
	o.TelemetryLimit = 10 * size
	j := openT(t, o)
	add := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			if err := j.AppendTelemetry(Record{Class: Telemetry, Kind: "health", Data: fmt.Appendf(nil, "%04d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Flush(hangCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name       string
		from, to   int
		advance    time.Duration
		wantFirst  uint64
		wantAlarms int
	}{
		{"within the limit", 1, 10, 0, 1, 0},
		{"over: oldest evicted", 11, 14, 0, 5, 1},
		{"alarm rate-limited", 15, 20, time.Minute, 11, 1},
		{"alarm again after the interval", 21, 22, DefaultAlarmInterval, 13, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(s.advance)
			add(s.from, s.to)
			recs, err := j.ReadTelemetry(0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != min(s.to, 10) || recs[0].Seq != s.wantFirst || recs[len(recs)-1].Seq != uint64(s.to) {
				t.Fatalf("ReadTelemetry(0) = %d records %d..%d, want %d..%d", len(recs), recs[0].Seq, recs[len(recs)-1].Seq, s.wantFirst, s.to)
			}
			if got := string(recs[0].Data); got != fmt.Sprintf("%04d", s.wantFirst) {
				t.Fatalf("oldest telemetry data = %q, want %04d", got, s.wantFirst)
			}
			if got := al.count(AlarmTelemetryEvicted); got != s.wantAlarms {
				t.Fatalf("telemetry_evicted alarms = %d, want %d (%v)", got, s.wantAlarms, al.kinds())
			}
			checkCounters(t, j)
		})
	}
	if j.Committed() != 0 {
		t.Fatalf("Committed() = %d: telemetry must not use business seqs", j.Committed())
	}
}

func TestTelemetryRidesAlong(t *testing.T) {
	g := newGate()
	o := testOpts(t)
	o.TelemetryDelay = time.Hour // only a business commit or Flush carries it
	o.commitHook = g.hook
	j := openT(t, o)
	for i := range 3 {
		if err := j.AppendTelemetry(Record{Kind: "health", Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	appendT(t, j, biz("hall", "carrier"))
	if got := g.commits.Load(); got != 1 {
		t.Fatalf("commits = %d, want 1 (telemetry rides along)", got)
	}
	recs, _ := j.ReadTelemetry(1, 0)
	if len(recs) != 3 {
		t.Fatalf("ReadTelemetry(1) = %d records, want 3", len(recs))
	}
	if err := j.AppendTelemetry(Record{Class: Business, Kind: "x"}); err == nil {
		t.Fatal("AppendTelemetry(business record) = nil, want error")
	}
}

func TestBusinessLimitAlarms(t *testing.T) {
	clk := newClock()
	al := newAlarms()
	o := testOpts(t)
	o.Now = clk.Now
	o.OnAlarm = al.on
	size := recSize("hall", 10)
	o.BusinessLimit = 20 * size
	j := openT(t, o)
	j.Hold("uplink")
	write := func(n int) {
		for range n {
			appendT(t, j, biz("hall", "0123456789"))
		}
	}
	steps := []struct {
		name     string
		write    int
		advance  time.Duration
		ack      uint64 // uplink cursor and snapshot set before writing
		wantNear int
		wantOver int
	}{
		{"below 90 %", 17, 0, 0, 0, 0},
		{"near", 1, 0, 0, 1, 0},
		{"near again is quiet", 1, time.Minute, 0, 1, 0},
		{"at the limit is near", 1, 0, 0, 1, 0},
		{"over: keeps writing", 1, 0, 0, 1, 1},
		{"over again is quiet", 5, time.Minute, 0, 1, 1},
		{"over repeats after the interval", 1, DefaultAlarmInterval, 0, 1, 2},
		{"reclaim clears it", 1, 0, 26, 1, 2},
		// Reclaim keeps the class at 80-90 % until it reaches the hold
		// at 26 (seq 44): then near again.
		{"hold reached: near again", 16, 0, 0, 2, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(s.advance)
			if s.ack > 0 {
				if err := j.SetCursor("uplink", s.ack); err != nil {
					t.Fatal(err)
				}
				if err := j.SaveSnapshot(s.ack, []byte("s")); err != nil {
					t.Fatal(err)
				}
			}
			write(s.write)
			if got := al.count(AlarmBusinessNearLimit); got != s.wantNear {
				t.Fatalf("near alarms = %d, want %d (%v)", got, s.wantNear, al.kinds())
			}
			if got := al.count(AlarmBusinessOverLimit); got != s.wantOver {
				t.Fatalf("over alarms = %d, want %d (%v)", got, s.wantOver, al.kinds())
			}
			checkGapFree(t, j, scanAll(t, j))
		})
	}
	if got := j.Committed(); got != 44 {
		t.Fatalf("Committed() = %d, want 44: no business record is dropped", got)
	}
	a := al.waitFor(t, AlarmBusinessOverLimit)
	if !a.At.Equal(a.At.UTC()) || !strings.Contains(a.Msg, "uplink") || a.At.IsZero() {
		t.Fatalf("over alarm = %+v, want the holds named and a UTC time", a)
	}
}

func TestReadScanExport(t *testing.T) {
	o := testOpts(t)
	o.BusinessLimit = 20 * recSize("hall", 4)
	j := openT(t, o)
	for i := 1; i <= 20; i++ {
		appendT(t, j, Record{Kind: "hall", At: time.Unix(int64(1000+i), 0), Data: fmt.Appendf(nil, "d%03d", i)})
	}
	if err := j.SaveSnapshot(5, []byte("s")); err != nil {
		t.Fatal(err)
	} // the next commit (21 records > 90 %) reclaims 1..5, bounded by the snapshot
	appendT(t, j, Record{Kind: "hall", At: time.Unix(1021, 0), Data: []byte("d021")})
	if got := j.First(); got != 6 {
		t.Fatalf("First() = %d, want 6", got)
	}
	reads := []struct {
		name      string
		from      uint64
		max       int
		wantFirst uint64
		wantN     int
	}{
		{"from zero starts at First", 0, 100, 6, 16},
		{"from reclaimed starts at First", 3, 100, 6, 16},
		{"from the middle", 10, 100, 10, 12},
		{"max bounds", 7, 3, 7, 3},
		{"max zero is the default", 6, 0, 6, 16},
		{"at committed", 21, 5, 21, 1},
		{"beyond committed", 22, 5, 0, 0},
	}
	for _, r := range reads {
		t.Run("Read/"+r.name, func(t *testing.T) {
			got, err := j.Read(r.from, r.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != r.wantN || (r.wantN > 0 && got[0].Seq != r.wantFirst) {
				t.Fatalf("Read(%d, %d) = %d records, want %d from %d", r.from, r.max, len(got), r.wantN, r.wantFirst)
			}
			for _, rec := range got {
				if want := fmt.Sprintf("d%03d", rec.Seq); string(rec.Data) != want || rec.At.Unix() != int64(1000+rec.Seq) {
					t.Fatalf("Read(%d)[seq %d] = %q at %d, want %q at %d", r.from, rec.Seq, rec.Data, rec.At.Unix(), want, 1000+rec.Seq)
				}
			}
		})
	}
	t.Run("Scan stops at fn's error", func(t *testing.T) {
		stop := errors.New("stop")
		var seen []uint64
		err := j.Scan(8, func(r Record) error {
			seen = append(seen, r.Seq)
			if r.Seq == 10 {
				return stop
			}
			return nil
		})
		if err != stop || !slices.Equal(seen, []uint64{8, 9, 10}) {
			t.Fatalf("Scan(8) = %v, saw %v; want stop after 8, 9, 10", err, seen)
		}
	})
	t.Run("Export", func(t *testing.T) {
		var buf bytes.Buffer
		if err := j.Export(&buf, 19); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		var lines []map[string]any
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("Export line %q: %v", sc.Text(), err)
			}
			lines = append(lines, m)
		}
		want := []map[string]any{
			{"id": "gw-test:19", "seq": 19.0, "class": "business", "kind": "hall", "at": "1970-01-01T00:16:59Z", "data": "ZDAxOQ=="},
			{"id": "gw-test:20", "seq": 20.0, "class": "business", "kind": "hall", "at": "1970-01-01T00:17:00Z", "data": "ZDAyMA=="},
			{"id": "gw-test:21", "seq": 21.0, "class": "business", "kind": "hall", "at": "1970-01-01T00:17:01Z", "data": "ZDAyMQ=="},
		}
		if fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Fatalf("Export(19) = %v, want %v", lines, want)
		}
	})
}

func TestChangedAndUsage(t *testing.T) {
	o := testOpts(t)
	j := openT(t, o)
	ch := j.Changed()
	select {
	case <-ch:
		t.Fatal("Changed() closed before any commit")
	default:
	}
	appendT(t, j, Record{Kind: "hall", At: time.Unix(100, 0), Data: []byte("a")})
	select {
	case <-ch:
	case <-time.After(hang):
		t.Fatal("Changed() not closed by a commit")
	}
	appendT(t, j, Record{Kind: "hall", At: time.Unix(200, 0), Data: []byte("b")})
	appendT(t, j, Record{Kind: "hall", At: time.Unix(300, 0), Data: []byte("c")})
	cases := []struct {
		name   string
		holds  map[string]uint64
		wantAt int64 // 0: zero time
	}{
		{"no holds", nil, 0},
		{"hold at zero", map[string]uint64{"uplink": 0}, 100},
		{"hold at 1", map[string]uint64{"uplink": 1}, 200},
		{"two holds", map[string]uint64{"uplink": 2, "display": 1}, 200},
		{"all passed", map[string]uint64{"uplink": 3, "display": 3}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range j.Holds() {
				j.Release(h)
			}
			for name, c := range tc.holds {
				j.Hold(name)
				if c > 0 {
					if err := j.SetCursor(name, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			u := j.Usage()
			var want time.Time
			if tc.wantAt != 0 {
				want = time.Unix(tc.wantAt, 0).UTC()
			}
			if !u.OldestAt.Equal(want) {
				t.Fatalf("Usage().OldestAt = %v, want %v", u.OldestAt, want)
			}
			if u.First != 1 || u.Committed != 3 || u.BusinessRecords != 3 || u.BusinessBytes != 3*recSize("hall", 1) || u.FileBytes <= 0 {
				t.Fatalf("Usage() = %+v", u)
			}
		})
	}
	j.Close()
	select {
	case <-j.Changed():
	default:
		t.Fatal("Changed() not closed after Close")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no path", Options{GatewayID: "gw"}, "no path"},
		{"no gateway", Options{Path: filepath.Join(dir, "a.db")}, "gateway id"},
		{"gateway with space", Options{Path: filepath.Join(dir, "a.db"), GatewayID: "g w"}, "gateway id"},
		{"negative limit", Options{Path: filepath.Join(dir, "a.db"), GatewayID: "gw", BusinessLimit: -1}, "negative business limit"},
		{"negative batch", Options{Path: filepath.Join(dir, "a.db"), GatewayID: "gw", MaxBatch: -1}, "negative max batch"},
		{"missing directory", Options{Path: filepath.Join(dir, "nope", "a.db"), GatewayID: "gw"}, "no such file"},
		{"not a bbolt file", Options{Path: writeFile(t, dir, "junk.db", bytes.Repeat([]byte("junk"), 4096)), GatewayID: "gw"}, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Open(tc.opts)
			if err == nil {
				j.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Open() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAfterClose(t *testing.T) {
	j := openT(t, testOpts(t))
	appendT(t, j, biz("hall", "a"))
	if err := j.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	calls := []struct {
		name string
		err  error
	}{
		{"Submit", func() error { _, err := j.Submit(biz("hall", "x")); return err }()},
		{"AppendTelemetry", j.AppendTelemetry(Record{Kind: "t"})},
		{"Read", func() error { _, err := j.Read(1, 1); return err }()},
		{"Scan", j.Scan(1, func(Record) error { return nil })},
		{"Cursor", func() error { _, err := j.Cursor("x"); return err }()},
		{"SetCursor", j.SetCursor("x", 1)},
		{"Meta", func() error { _, err := j.Meta("x"); return err }()},
		{"SetMeta", j.SetMeta("x", nil)},
		{"LatestSnapshot", func() error { _, _, err := j.LatestSnapshot(); return err }()},
		{"SaveSnapshot", j.SaveSnapshot(1, nil)},
		{"Flush", j.Flush(hangCtx(t))},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", c.name, c.err)
			}
		})
	}
}

func TestEventID(t *testing.T) {
	cases := []struct {
		gw  string
		seq uint64
		id  string
	}{
		{"gw1", 1, "gw1:1"},
		{"hall-430102-01", 18446744073709551615, "hall-430102-01:18446744073709551615"},
		{"a:b", 42, "a:b:42"},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			if got := EventID(tc.gw, tc.seq); got != tc.id {
				t.Fatalf("EventID(%q, %d) = %q, want %q", tc.gw, tc.seq, got, tc.id)
			}
			gw, seq, err := ParseEventID(tc.id)
			if gw != tc.gw || seq != tc.seq || err != nil {
				t.Fatalf("ParseEventID(%q) = %q, %d, %v, want %q, %d", tc.id, gw, seq, err, tc.gw, tc.seq)
			}
		})
	}
	for _, bad := range []string{"", ":", "gw", "gw:", ":5", "gw:0", "gw:05", "gw:+5", "gw:-1", "gw:x", "gw:18446744073709551616"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if gw, seq, err := ParseEventID(bad); err == nil {
				t.Fatalf("ParseEventID(%q) = %q, %d, nil, want an error", bad, gw, seq)
			}
		})
	}
}

func TestDecodeValue(t *testing.T) {
	good := encodeValue(Business, "hall", time.Unix(5, 6), []byte("data"))
	cases := []struct {
		name    string
		v       []byte
		wantErr string
	}{
		{"good", good, ""},
		{"empty data", encodeValue(Telemetry, "h", time.Unix(0, 0), nil), ""},
		{"empty", nil, "shorter than its header"},
		{"short header", good[:10], "shorter than its header"},
		{"bad version", append([]byte{2}, good[1:]...), "unknown record format 2"},
		{"bad class", append([]byte{1, 3}, good[2:]...), "unknown record class 3"},
		{"zero kind", append([]byte{1, 1, 0}, good[3:]...), "without kind"},
		{"kind past end", append([]byte{1, 1, 200}, good[3:]...), "shorter than its 200-byte kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := decodeValue(tc.v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decodeValue(%x) = %v, want error containing %q", tc.v, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeValue(%x) = %v", tc.v, err)
			}
			if re := encodeValue(h.class, string(h.kind), time.Unix(0, h.at), h.data); !bytes.Equal(re, tc.v) {
				t.Fatalf("re-encoded = %x, want %x", re, tc.v)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Business: "business", Telemetry: "telemetry", 0: "class(0)", 7: "class(7)"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", c, got, want)
		}
	}
}
