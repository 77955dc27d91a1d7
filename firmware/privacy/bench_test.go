package privacy

import (
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// BenchmarkBaselineJSON is the floor under Seal and Open: encoding the
// subject as JSON.
func BenchmarkBaselineJSON(b *testing.B) {
	s := subject()
	for b.Loop() {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal seals a subject with a cached day key.
func BenchmarkSeal(b *testing.B) {
	k := open(b, b.TempDir(), clockwork.NewFakeClockAt(t0), 30*24*time.Hour)
	s := subject()
	for b.Loop() {
		if _, err := k.Seal(t0, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens a sealed subject.
func BenchmarkOpen(b *testing.B) {
	k := open(b, b.TempDir(), clockwork.NewFakeClockAt(t0), 30*24*time.Hour)
	sealed, err := k.Seal(t0, subject())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var s Subject
		if err := k.Open(sealed, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineSHA256 is the floor under HolderHash: a plain SHA-256
// of the number.
func BenchmarkBaselineSHA256(b *testing.B) {
	n := []byte("11010519491231002X")
	for b.Loop() {
		sha256.Sum256(n)
	}
}

// BenchmarkHolderHash normalises and hashes a number.
func BenchmarkHolderHash(b *testing.B) {
	k := open(b, b.TempDir(), clockwork.NewFakeClockAt(t0), time.Hour)
	for b.Loop() {
		if len(k.HolderHash("11010519491231002x")) != 67 {
			b.Fatal("bad hash")
		}
	}
}
