package ratings

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzVerify checks that no export, however garbled, makes Verify panic or
// stall, and that what it counts stays consistent. The seed corpus in
// testdata holds parts of a real export (signed with testKey(7)).
func FuzzVerify(f *testing.F) {
	f.Add([]byte("{}\n{\"seq\":1}\nnot json\n"))
	pub := testKey(7).Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data), VerifyOptions{Keys: []ed25519.PublicKey{pub}, Head: &Head{ChainSeq: 3, Hash: ZeroHash}})
		if err != nil {
			return // a line too long
		}
		if rep.Signed > rep.Records || rep.Records > rep.Lines || (rep.Signed > 0 && rep.LastChain == 0) {
			t.Fatalf("Verify() = %+v: counts out of step", rep)
		}
	})
}

// FuzzParseRecord checks that ParseRecord never panics and that a record it
// accepts is self-consistent: encoding it again parses to the same. The
// seed corpus in testdata holds real records.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"type":"rating_sig","v":1,"chain_seq":1,"payload":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, p, err := ParseRecord(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("Marshal(%+v) = %v", rec, err)
		}
		rec2, p2, err := ParseRecord(b)
		if err != nil || !reflect.DeepEqual(p, p2) || rec2.Hash != rec.Hash {
			t.Fatalf("ParseRecord(Marshal(rec)) = %+v, %v, want %+v", p2, err, p)
		}
	})
}
