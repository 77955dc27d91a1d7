package archive

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hallgw/firmware/journal"
)

const benchSize = 1 << 20

// BenchmarkBaselineReadHash is the floor of a delivery: reading a 1 MiB
// file and hashing it.
func BenchmarkBaselineReadHash(b *testing.B) {
	path := filepath.Join(b.TempDir(), "f")
	data := make([]byte, benchSize)
	rand.Read(data)
	os.WriteFile(path, data, 0o640)
	b.SetBytes(benchSize)
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
	}
}

// BenchmarkDeliver delivers a filed 1 MiB page in 256 KiB chunks to an
// in-memory platform: chunk reads, the wire format both ways, a durable
// manifest write per acknowledged chunk, the delivery record and the
// clean-up.
func BenchmarkDeliver(b *testing.B) {
	dir := b.TempDir()
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: gwID})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	a, err := Open(ctx, Opts{Root: filepath.Join(dir, "cases"), GatewayID: gwID, Journal: j,
		Free: func(string) (uint64, error) { return 1 << 40, nil }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, benchSize)
	rand.Read(data)
	sum := hexSHA(data)
	a.SetTransport(newPlatform())
	b.SetBytes(benchSize)
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		caseDir := filepath.Join(a.o.Root, caseNo)
		os.MkdirAll(caseDir, 0o750)
		os.WriteFile(filepath.Join(caseDir, "20260302T020000Z-p01.png"), data, 0o640)
		m := &Manifest{V: 1, Case: caseNo, Created: at, Batches: []*Batch{{ID: "20260302T020000Z", At: at, Window: "w1",
			Format: "png", Pages: 1, Status: "ok", Seq: 1,
			Files: []*File{{Name: "20260302T020000Z-p01.png", Pages: 1, Size: benchSize, SHA256: sum}}}}}
		writeManifest(caseDir, m)
		a.mu.Lock()
		a.cases[caseNo], a.used = m, benchSize
		a.mu.Unlock()
		b.StartTimer()
		if n, err := a.Drain(ctx); err != nil || n != 1 {
			b.Fatal(n, err)
		}
	}
}
