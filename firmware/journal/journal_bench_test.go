package journal

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchData is a typical hall event: about 100 bytes of encoded payload.
var benchData = []byte("ticket-issued A0417 service=social-security window=07 queue=12 wait=00:14:32 source=kiosk-02 ....")

var benchAt = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// BenchmarkAppendGroupCommit64 runs 64 producers that each Append one event
// at a time and wait for its fsync; the writer shares commits among them.
func BenchmarkAppendGroupCommit64(b *testing.B) {
	j, err := Open(Options{Path: filepath.Join(b.TempDir(), "journal.db"), GatewayID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	rec := Record{Class: Business, Kind: "hall", At: benchAt, Data: benchData}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := j.Append(ctx, rec); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/float64(j.commits.Load()), "events/commit")
}

// BenchmarkAppendBaselineOneTxPerEvent writes the same events with one bbolt
// Update (two fsyncs) each, with the journal's bbolt options.
func BenchmarkAppendBaselineOneTxPerEvent(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "baseline.db"), 0o600, boltOptions(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bkBusiness); return err }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		v := encodeValue(Business, "hall", benchAt, benchData)
		err := db.Update(func(tx *bolt.Tx) error {
			bus := tx.Bucket(bkBusiness)
			if err := bus.Put(seqKey(uint64(i+1)), v); err != nil {
				return err
			}
			return bus.SetSequence(uint64(i + 1))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

const scanRecords = 1_000_000

var scanFile struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// scanJournal builds, once per test binary run, a journal of a million
// records in a temp dir that TestMain removes.
func scanJournal(b *testing.B) string {
	scanFile.once.Do(func() {
		scanFile.dir, scanFile.err = os.MkdirTemp("", "journal-bench-")
		if scanFile.err != nil {
			return
		}
		scanFile.path = filepath.Join(scanFile.dir, "scan.db")
		j, err := Open(Options{Path: scanFile.path, GatewayID: "bench"})
		if err != nil {
			scanFile.err = err
			return
		}
		recs := make([]Record, DefaultMaxBatch)
		for i := range recs {
			recs[i] = Record{Class: Business, Kind: "hall", At: benchAt, Data: benchData}
		}
		var last *Pending
		for n := 0; n < scanRecords; n += len(recs) {
			if last, err = j.Submit(recs[:min(len(recs), scanRecords-n)]...); err != nil {
				scanFile.err = err
				break
			}
			if err = last.Wait(context.Background()); err != nil {
				scanFile.err = err
				break
			}
		}
		if err := j.Close(); err != nil && scanFile.err == nil {
			scanFile.err = err
		}
	})
	if scanFile.err != nil {
		b.Fatal(scanFile.err)
	}
	return scanFile.path
}

func cleanupBenchFiles() {
	if scanFile.dir != "" {
		os.RemoveAll(scanFile.dir)
	}
}

// BenchmarkScan1M replays a journal of a million records with Scan.
func BenchmarkScan1M(b *testing.B) {
	path := scanJournal(b)
	j, err := Open(Options{Path: path, GatewayID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	for b.Loop() {
		n, bytes := 0, 0
		err := j.Scan(0, func(r Record) error {
			n++
			bytes += len(r.Data)
			return nil
		})
		if err != nil || n != scanRecords || bytes != scanRecords*len(benchData) {
			b.Fatalf("Scan(0) = %v after %d records, %d bytes; want %d records", err, n, bytes, scanRecords)
		}
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(scanRecords/per, "records/s")
	b.ReportMetric(per*1e9/scanRecords, "ns/record")
}

// BenchmarkOpen1M opens and closes the million-record journal: the price of
// NoFreelistSync is a scan of the file at open to rebuild the freelist.
func BenchmarkOpen1M(b *testing.B) {
	path := scanJournal(b)
	for b.Loop() {
		j, err := Open(Options{Path: path, GatewayID: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if j.Committed() != scanRecords {
			b.Fatalf("Committed() = %d, want %d", j.Committed(), scanRecords)
		}
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
