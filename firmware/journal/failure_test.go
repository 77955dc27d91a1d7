package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var errInjected = errors.New("injected I/O error")

// setMaxFileSize changes bbolt's MaxSize inside a write transaction, where
// the writer reads it, so the change is ordered with every commit.
func (j *Journal) setMaxFileSize(n int) error {
	return j.db.Update(func(tx *bolt.Tx) error {
		tx.DB().MaxSize = n
		return nil
	})
}

func TestTransientCommitFailures(t *testing.T) {
	cases := []struct {
		name      string
		fails     int64
		producers int
		each      int
	}{
		{"one failure, one producer", 1, 1, 20},
		{"five failures, eight producers", 5, 8, 30},
		{"twenty failures, 64 producers", 20, 64, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var left atomic.Int64
			left.Store(tc.fails)
			al := newAlarms()
			o := testOpts(t)
			o.Now = newClock().Now // frozen: one write_failed per streak
			o.OnAlarm = al.on
			o.commitHook = func(*bolt.Tx) error {
				if left.Add(-1) >= 0 {
					return errInjected
				}
				return nil
			}
			j := openT(t, o)
			var wg sync.WaitGroup
			errs := make(chan error, tc.producers)
			for p := range tc.producers {
				wg.Go(func() {
					for i := range tc.each {
						if _, err := j.Append(hangCtx(t), biz(fmt.Sprintf("p%02d", p), fmt.Sprintf("%04d", i))); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("Append() = %v, want success after retries", err)
			}
			recs := scanAll(t, j)
			checkGapFree(t, j, recs)
			if want := tc.producers * tc.each; len(recs) != want {
				t.Fatalf("stored = %d, want %d", len(recs), want)
			}
			per := map[string]int{}
			for _, r := range recs {
				if want := fmt.Sprintf("%04d", per[r.Kind]); string(r.Data) != want {
					t.Fatalf("seq %d of %s = %q, want %q", r.Seq, r.Kind, r.Data, want)
				}
				per[r.Kind]++
			}
			if f, r := al.count(AlarmWriteFailed), al.count(AlarmRecovered); f != 1 || r != 1 {
				t.Fatalf("alarms = %v, want one write_failed then one recovered", al.kinds())
			}
			if a := al.waitFor(t, AlarmWriteFailed); !strings.Contains(a.Msg, errInjected.Error()) {
				t.Fatalf("write_failed message %q does not name the cause", a.Msg)
			}
			checkCounters(t, j)
		})
	}
}

func TestMaxFileSizeNoLoss(t *testing.T) {
	al := newAlarms()
	o := testOpts(t)
	o.MaxFileSize = 128 << 10
	o.OnAlarm = al.on
	j := openT(t, o)
	payload := bytes.Repeat([]byte("z"), 1000)
	var pend []*Pending
	for i := range 300 { // ~300 KiB: cannot fit under the cap
		r := biz("hall", fmt.Sprintf("%04d", i))
		r.Data = append(r.Data, payload...)
		p, err := j.Submit(r)
		if err != nil {
			t.Fatalf("Submit(%d) = %v", i, err)
		}
		pend = append(pend, p)
	}
	a := al.waitFor(t, AlarmWriteFailed)
	if !strings.Contains(a.Msg, "maximum size") {
		t.Fatalf("write_failed message = %q, want the size cap named", a.Msg)
	}
	last := pend[len(pend)-1]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := last.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() while the cap blocks = %v, want context.Canceled", err)
	}
	if c := j.Committed(); c >= 300 {
		t.Fatalf("Committed() = %d under a 128 KiB cap, want < 300", c)
	}
	checkGapFree(t, j, scanAll(t, j))

	if err := j.setMaxFileSize(64 << 20); err != nil {
		t.Fatal(err)
	}
	for i, p := range pend {
		if err := p.Wait(hangCtx(t)); err != nil {
			t.Fatalf("Wait(%d) after raising the cap = %v", i, err)
		}
	}
	al.waitFor(t, AlarmRecovered)
	j = reopen(t, j)
	recs := scanAll(t, j)
	checkGapFree(t, j, recs)
	if len(recs) != 300 {
		t.Fatalf("stored = %d, want 300", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("%04d", i); !strings.HasPrefix(string(r.Data), want) || len(r.Data) != 1004 {
			t.Fatalf("record %d = %.8q… (%d bytes), want %q… (1004 bytes)", i, r.Data, len(r.Data), want)
		}
	}
}

func TestSizeCapEvictsTelemetryForBusiness(t *testing.T) {
	al := newAlarms()
	o := testOpts(t)
	o.MaxFileSize = 256 << 10
	o.OnAlarm = al.on
	j := openT(t, o)
	tel := bytes.Repeat([]byte("t"), 1000)
	for range 400 {
		if err := j.AppendTelemetry(Record{Kind: "health", Data: tel}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
	biz := bytes.Repeat([]byte("b"), 1000)
	for i := range 100 {
		if _, err := j.Append(hangCtx(t), Record{Kind: "hall", Data: biz}); err != nil {
			t.Fatalf("Append(%d) = %v", i, err)
		}
	}
	u := j.Usage()
	if u.BusinessRecords != 100 || u.TelemetryRecords >= 400 {
		t.Fatalf("Usage() = %d business, %d telemetry records, want 100 and fewer than 400", u.BusinessRecords, u.TelemetryRecords)
	}
	al.waitFor(t, AlarmTelemetryEvicted)
	checkCounters(t, j)
}

func TestClosedFileNoFalseAck(t *testing.T) {
	al := newAlarms()
	o := testOpts(t)
	o.OnAlarm = al.on
	j := openT(t, o)
	appendN(t, j, "acked", 5)
	if err := j.db.Close(); err != nil { // the file goes away under the writer
		t.Fatal(err)
	}
	p, err := j.Submit(biz("hall", "x"), biz("hall", "y"), biz("hall", "z"))
	if err != nil {
		t.Fatal(err)
	}
	al.waitFor(t, AlarmWriteFailed)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() on a failing journal = %v, want context.Canceled", err)
	}
	err = j.Close()
	if err == nil || !strings.Contains(err.Error(), "3 business records (seq 6..8) not written") {
		t.Fatalf("Close() = %v, want an error naming the unwritten records", err)
	}
	if err := p.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait() after a failed Close = %v, want ErrClosed", err)
	}
	j = openT(t, o)
	recs := scanAll(t, j)
	checkGapFree(t, j, recs)
	if len(recs) != 5 || j.Committed() != 5 {
		t.Fatalf("after reopen: %d records, Committed %d; want the 5 acknowledged", len(recs), j.Committed())
	}
	if first := appendT(t, j, biz("hall", "next")); first != 6 {
		t.Fatalf("next seq = %d, want 6 (6..8 were never durable)", first)
	}
}

func TestCloseFlushes(t *testing.T) {
	o := testOpts(t)
	o.MaxBatch = 64
	j := openT(t, o)
	var pend []*Pending
	for i := range 500 {
		p, err := j.Submit(biz("hall", fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	if err := j.AppendTelemetry(Record{Kind: "health", Data: []byte("last")}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for i, p := range pend {
		select {
		case <-p.Done():
		default:
			t.Fatalf("pending %d not done after Close", i)
		}
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("Wait(%d) after Close = %v", i, err)
		}
	}
	j = openT(t, o)
	checkGapFree(t, j, scanAll(t, j))
	if j.Committed() != 500 {
		t.Fatalf("Committed() after reopen = %d, want 500", j.Committed())
	}
	if tel, _ := j.ReadTelemetry(0, 0); len(tel) != 1 {
		t.Fatalf("telemetry after reopen = %d records, want 1", len(tel))
	}
}

func TestBacklog(t *testing.T) {
	g := newGate()
	o := testOpts(t)
	o.commitHook = g.hook
	o.MaxQueueBytes = 11 * recSize("hall", 1) // the held record and 10 more
	j := openT(t, o)
	g.armed.Store(true)
	held, err := j.Submit(biz("hall", "h"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	var pend []*Pending
	for i := range 10 {
		p, err := j.Submit(biz("hall", fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("Submit(%d) within the backlog = %v", i, err)
		}
		pend = append(pend, p)
	}
	if _, err := j.Submit(biz("hall", "x")); !errors.Is(err, ErrBacklog) {
		t.Fatalf("Submit() over MaxQueueBytes = %v, want ErrBacklog", err)
	}
	close(g.release)
	for _, p := range append(pend, held) {
		if err := p.Wait(hangCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if first := appendT(t, j, biz("hall", "x")); first != 12 {
		t.Fatalf("seq after the backlog = %d, want 12 (the refused record took none)", first)
	}
}
