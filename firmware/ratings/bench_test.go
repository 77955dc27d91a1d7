package ratings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"hallgw/hall"
)

var benchEvent = hall.Event{Type: hall.EvRatingGiven, At: time.Date(2026, 3, 2, 1, 9, 0, 0, time.UTC), Rating: 2,
	Ticket: 2, Number: "A002", Service: "social", Window: "w2", Staff: "s-012", Case: "2026-SB-0042",
	Grade: hall.GradeVeryDissatisfied, Reasons: []string{"attitude", "waiting"}, Source: hall.PadTablet}

// BenchmarkSign is the cost of one signed record: payload, canonical JSON,
// hash, signature and the record's JSON. Compare with BenchmarkSignBaseline,
// the ed25519 signature alone.
func BenchmarkSign(b *testing.B) {
	key := testKey(1)
	head := Head{ChainSeq: 1, Hash: ZeroHash}
	for b.Loop() {
		p, err := NewPayload("gw-cs-01", 42, 2, &benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := Sign(p, head, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignBaseline is ed25519.Sign over a SHA-256: the floor of
// BenchmarkSign.
func BenchmarkSignBaseline(b *testing.B) {
	key := testKey(1)
	msg := []byte(`{"v":1,"gateway":"gw-cs-01","chain_seq":2}`)
	for b.Loop() {
		sum := sha256.Sum256(msg)
		ed25519.Sign(key, sum[:])
	}
}

// BenchmarkVerifyExport is Verify over a morning's export, per signed
// record; BenchmarkVerifyBaseline is ed25519.Verify alone.
func BenchmarkVerifyExport(b *testing.B) {
	ls, pub := sampleExport(b)
	data := encodeLines(b, ls)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(bytes.NewReader(data), VerifyOptions{Keys: []ed25519.PublicKey{pub}})
		if err != nil || !rep.OK() {
			b.Fatalf("Verify() = %v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5, "ns/record")
}

// BenchmarkVerifyBaseline is one ed25519.Verify.
func BenchmarkVerifyBaseline(b *testing.B) {
	key := testKey(1)
	sum := sha256.Sum256([]byte("x"))
	sig := ed25519.Sign(key, sum[:])
	pub := key.Public().(ed25519.PublicKey)
	for b.Loop() {
		if !ed25519.Verify(pub, sum[:], sig) {
			b.Fatal("verify")
		}
	}
}
