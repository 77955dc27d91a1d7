package update

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// benchPayload is the size of a typical stripped daemon.
const benchPayload = 8 << 20

func benchSpec() BundleSpec {
	sp := spec("2.0.0", 2)
	sp.Payloads[0].Data = bytes.Repeat([]byte{0x5a}, benchPayload)
	sp.Payloads = sp.Payloads[:1]
	return sp
}

// BenchmarkSHA256Baseline hashes the payload once: the floor for any
// verification.
func BenchmarkSHA256Baseline(b *testing.B) {
	data := bytes.Repeat([]byte{0x5a}, benchPayload)
	b.SetBytes(benchPayload)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkVerify verifies a bundle with one 8 MiB daemon (tar parsing,
// signature, hashing).
func BenchmarkVerify(b *testing.B) {
	pub, priv := testKey(1)
	bundle := mustBundle(b, benchSpec(), priv)
	pol := Policy{Keys: Keyring{pub}, Board: testBoard}
	b.SetBytes(benchPayload)
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(bundle), pol); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyGzip is BenchmarkVerify on a gzip bundle.
func BenchmarkVerifyGzip(b *testing.B) {
	pub, priv := testKey(1)
	sp := benchSpec()
	sp.Gzip = true
	bundle := mustBundle(b, sp, priv)
	pol := Policy{Keys: Keyring{pub}, Board: testBoard}
	b.SetBytes(benchPayload)
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(bundle), pol); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelect is one pre-start slot selection with an 8 MiB daemon in
// the active slot (it re-hashes the slot every start).
func BenchmarkSelect(b *testing.B) {
	d := &device{t: b, root: b.TempDir()}
	s := New(d.root)
	if _, err := s.Provision(ProvisionOpts{Binary: bytes.Repeat([]byte{0x5a}, benchPayload), Version: "1.0.0"}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchPayload)
	for b.Loop() {
		if _, err := s.Select(); err != nil {
			b.Fatal(err)
		}
	}
}
