package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	code := m.Run()
	cleanupBenchFiles()
	os.Exit(code)
}

// hang bounds every wait in the tests so a bug fails instead of hanging.
const hang = 10 * time.Second

func hangCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable clock for timestamps and alarm rate limits.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// alarms records the alarms a journal raises.
type alarms struct {
	mu   sync.Mutex
	list []Alarm
	ch   chan Alarm
}

func newAlarms() *alarms { return &alarms{ch: make(chan Alarm, 1024)} }

func (a *alarms) on(al Alarm) {
	a.mu.Lock()
	a.list = append(a.list, al)
	a.mu.Unlock()
	select {
	case a.ch <- al:
	default:
	}
}

func (a *alarms) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, al := range a.list {
		out = append(out, al.Kind)
	}
	return out
}

func (a *alarms) count(kind string) int {
	n := 0
	for _, k := range a.kinds() {
		if k == kind {
			n++
		}
	}
	return n
}

// waitFor waits (bounded by hang) until an alarm of that kind was raised.
func (a *alarms) waitFor(t testing.TB, kind string) Alarm {
	t.Helper()
	timeout := time.After(hang)
	for {
		a.mu.Lock()
		for _, al := range a.list {
			if al.Kind == kind {
				a.mu.Unlock()
				return al
			}
		}
		a.mu.Unlock()
		select {
		case <-a.ch:
		case <-timeout:
			t.Fatalf("alarm %q not raised; got %v", kind, a.kinds())
		}
	}
}

// testOpts returns options for a journal in a fresh temp dir.
func testOpts(t testing.TB) Options {
	return Options{
		Path:           filepath.Join(t.TempDir(), "journal.db"),
		GatewayID:      "gw-test",
		RetryBackoff:   time.Millisecond,
		TelemetryDelay: time.Millisecond,
	}
}

// openT opens a journal and closes it at the end of the test.
func openT(t testing.TB, o Options) *Journal {
	t.Helper()
	j, err := Open(o)
	if err != nil {
		t.Fatalf("Open(%s) = %v", o.Path, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func reopen(t testing.TB, j *Journal) *Journal {
	t.Helper()
	o := j.opts
	if err := j.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return openT(t, o)
}

func biz(kind, data string) Record {
	return Record{Class: Business, Kind: kind, Data: []byte(data)}
}

func appendT(t testing.TB, j *Journal, recs ...Record) uint64 {
	t.Helper()
	first, err := j.Append(hangCtx(t), recs...)
	if err != nil {
		t.Fatalf("Append(%d records) = %v", len(recs), err)
	}
	return first
}

// appendN appends n business records "<prefix>-<i>" one by one.
func appendN(t testing.TB, j *Journal, prefix string, n int) {
	t.Helper()
	for i := range n {
		appendT(t, j, biz("hall", fmt.Sprintf("%s-%04d", prefix, i)))
	}
}

func scanAll(t testing.TB, j *Journal) []Record {
	t.Helper()
	var out []Record
	err := j.Scan(0, func(r Record) error {
		r.Data = slices.Clone(r.Data)
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(0) = %v", err)
	}
	return out
}

// checkGapFree fails unless recs are seqs First..Committed without a gap.
func checkGapFree(t testing.TB, j *Journal, recs []Record) {
	t.Helper()
	first, last := j.First(), j.Committed()
	if want := int(last - first + 1); len(recs) != want {
		t.Fatalf("stored records = %d, want %d (First %d, Committed %d)", len(recs), want, first, last)
	}
	for i, r := range recs {
		if want := first + uint64(i); r.Seq != want {
			t.Fatalf("record %d: Seq = %d, want %d", i, r.Seq, want)
		}
	}
}

// checkCounters compares the journal's counters with a recount of the file.
func checkCounters(t testing.TB, j *Journal) {
	t.Helper()
	u := j.Usage()
	err := j.db.View(func(tx *bolt.Tx) error {
		bb, bn := countBucket(tx.Bucket(bkBusiness))
		tb, tn := countBucket(tx.Bucket(bkTelemetry))
		if bb != u.BusinessBytes || int(bn) != u.BusinessRecords || tb != u.TelemetryBytes || int(tn) != u.TelemetryRecords {
			t.Errorf("Usage() = business %d B/%d, telemetry %d B/%d; recount business %d B/%d, telemetry %d B/%d",
				u.BusinessBytes, u.BusinessRecords, u.TelemetryBytes, u.TelemetryRecords, bb, bn, tb, tn)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recSize is what a business record of that kind and data counts.
func recSize(kind string, data int) int64 { return int64(keyLen + headerBase + len(kind) + data) }
