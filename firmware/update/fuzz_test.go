package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to the bundle reader: it must refuse them
// with an error, never panic or accept anything not signed by the trusted key.
func FuzzVerify(f *testing.F) {
	pub, priv := testKey(1)
	sp := spec("2.0.0", 2)
	f.Add(mustBundle(f, sp, priv))
	sp.Gzip = true
	f.Add(mustBundle(f, sp, priv))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Verify(bytes.NewReader(b), Policy{Keys: Keyring{pub}, Board: testBoard, Arch: "arm64"})
		if err != nil {
			return
		}
		// Accepted: the manifest must be exactly the signed one of a real bundle.
		if v.KeyID != KeyID(pub) || v.Manifest.Compatible != testBoard {
			t.Fatalf("Verify accepted %+v", v)
		}
	})
}

// FuzzParseManifest checks that any accepted manifest is one the installer
// can rely on.
func FuzzParseManifest(f *testing.F) {
	_, priv := testKey(1)
	es := untar(f, mustBundle(f, spec("2.0.0", 2), priv))
	f.Add(es[0].data)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseManifest error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := m.validate(); err != nil {
			t.Fatalf("accepted manifest fails validation: %v", err)
		}
		for _, file := range m.Files {
			if !validName(file.Name) || file.Size < 0 || file.Size > MaxFileSize {
				t.Fatalf("accepted file %+v", file)
			}
		}
	})
}

// FuzzParseState checks that an accepted state re-encodes to an accepted
// state with the same content.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"format":1,"active":"a","trial":"b","tries_left":2,"trial_tries":3,"booted":"b","security_version":3}`))
	f.Add([]byte(`{"format":1,"active":"b","security_version":1,"history":[{"at":"2026-01-01T00:00:00Z","kind":"committed","slot":"b"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseState(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		st2, err := ParseState(again)
		if err != nil {
			t.Fatalf("re-encoded state refused: %v\n%s", err, again)
		}
		if st2.Active != st.Active || st2.Trial != st.Trial || st2.TriesLeft != st.TriesLeft {
			t.Fatalf("round trip changed the state: %+v vs %+v", st, st2)
		}
	})
}

// FuzzParseDownloadState checks the chunk bitmap decoder.
func FuzzParseDownloadState(f *testing.F) {
	sha := testOffer([]byte("x"), 1024).SHA256
	f.Add([]byte(`{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"BQ=="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, have, err := parseDownloadState(b)
		if err != nil {
			return
		}
		if len(have) != (o.Chunks()+7)/8 {
			t.Fatalf("bitmap of %d bytes for %d chunks", len(have), o.Chunks())
		}
	})
}

// FuzzParsePublicKey checks the key file decoder.
func FuzzParsePublicKey(f *testing.F) {
	pub, _ := testKey(1)
	f.Add(MarshalPublicKey(pub))
	f.Add([]byte("# comment\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		if len(k) != 32 {
			t.Fatalf("accepted a %d-byte key", len(k))
		}
		if again, err := ParsePublicKey(MarshalPublicKey(k)); err != nil || !again.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParseSlotRecord checks the slot record decoder.
func FuzzParseSlotRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"version":"1.0.0","security_version":1,"installed":"2026-01-01T00:00:00Z","files":[{"name":"hallgw","size":3,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mode":"0755"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseSlotRecord(b)
		if err != nil {
			return
		}
		found := false
		for _, file := range r.Files {
			found = found || file.Name == BinaryName
			if !validName(file.Name) {
				t.Fatalf("accepted file name %q", file.Name)
			}
		}
		if !found {
			t.Fatalf("accepted a record without %s", BinaryName)
		}
	})
}
