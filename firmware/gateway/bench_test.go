package gateway

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"hallgw/firmware/journal"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// BenchmarkRebuild1M rebuilds the hall from a journal of 1,000,000 hall
// events with no snapshot: the worst case of a restart (scan, decode,
// apply). Target: ≤ 5 s on a 2-core machine.
func BenchmarkRebuild1M(b *testing.B) {
	const n = 1000000
	evs, err := halltest.LongJournal(n)
	if err != nil {
		b.Fatal(err)
	}
	evs = evs[:n]
	j, err := journal.Open(journal.Options{Path: filepath.Join(b.TempDir(), "journal.db"), GatewayID: "gw-b",
		BusinessLimit: 1 << 30, MaxFileSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	const batch = 20000
	for i := 0; i < n; i += batch {
		recs := make([]journal.Record, 0, batch)
		for _, e := range evs[i:min(i+batch, n)] {
			data, err := e.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, journal.Record{Class: journal.Business, Kind: KindHall, At: e.At, Data: data})
		}
		if _, err := j.Append(context.Background(), recs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		h, _, replayed, err := Rebuild(j, 0)
		if err != nil {
			b.Fatal(err)
		}
		if replayed != n || h == nil {
			b.Fatalf("replayed %d events, want %d", replayed, n)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/rebuild")
}

// BenchmarkDoConcurrent64 runs hall commands (ticket issue) from 64
// goroutines through decide → journal (fsync) → apply, the path of every key
// press; compare with BenchmarkDoSerial to see the group commit.
func BenchmarkDoConcurrent64(b *testing.B) { benchDo(b, 64) }

// BenchmarkDoSerial is the same with one caller at a time.
func BenchmarkDoSerial(b *testing.B) { benchDo(b, 1) }

func benchDo(b *testing.B, workers int) {
	clk := &fakeClock{t: halltest.Start()}
	j, err := journal.Open(journal.Options{Path: filepath.Join(b.TempDir(), "journal.db"), GatewayID: "gw-b", Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	cfg := halltest.Config()
	for i := range cfg.Services {
		cfg.Services[i].DailyCap = 0
	}
	g, err := Open(context.Background(), Options{Journal: j, GatewayID: "gw-b", Hall: cfg, Now: clk.Now, SnapshotEvery: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	ctx := context.Background()
	svc := cfg.Services[0].ID
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		next <- struct{}{}
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, err := g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: svc}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}
