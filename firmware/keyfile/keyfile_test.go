package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
)

// seed is 32 bytes of 0x01; pub32 is 32 bytes of 0x02.
const (
	seed  = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	pub32 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		private bool
		wantErr string // "" means it parses
	}{
		{"public key", pub32 + "\n", false, ""},
		{"comments and blank lines", "# hallgw update key 0011\n\n  " + pub32 + "  \n# trailing\n", false, ""},
		{"no newline", pub32, false, ""},
		{"private seed", seed + "\n", true, ""},
		{"empty", "", false, "no key line"},
		{"only comments", "# a\n# b\n", false, "no key line"},
		{"two keys", pub32 + "\n" + pub32 + "\n", false, "more than one key line"},
		{"not base64", "not*base64\n", false, "public key"},
		{"short public key", "AgIC\n", false, "public key is 3 bytes, want 32"},
		{"short seed", "AgIC\n", true, "private key seed is 3 bytes, want 32"},
		{"too long", strings.Repeat("#", MaxSize) + "\n" + pub32, false, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.private {
				_, err = ParsePrivate([]byte(tt.in))
			} else {
				_, err = ParsePublic([]byte(tt.in))
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	pf := MarshalPublic(pub, "hallgw test key")
	if !bytes.HasPrefix(pf, []byte("# hallgw test key "+ID(pub)+"\n")) {
		t.Errorf("public key file %q does not start with its comment", pf)
	}
	got, err := ParsePublic(pf)
	if err != nil || !got.Equal(pub) {
		t.Errorf("ParsePublic(MarshalPublic) = %x, %v", got, err)
	}
	kf := MarshalPrivate(priv, "hallgw test signing key")
	if !bytes.Contains(kf, []byte("keep secret")) {
		t.Errorf("private key file %q does not warn", kf)
	}
	gotPriv, err := ParsePrivate(kf)
	if err != nil || !gotPriv.Equal(priv) {
		t.Errorf("ParsePrivate(MarshalPrivate) failed: %v", err)
	}
	if id := ID(pub); len(id) != 16 || id != ID(gotPriv.Public().(ed25519.PublicKey)) {
		t.Errorf("ID = %q", id)
	}
}

// FuzzParse: any input either parses into a key that marshals and parses
// back to itself, or is refused with an error; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{pub32 + "\n", seed, "# c\n" + pub32, "", "AgIC", pub32 + "\n" + seed} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if pub, err := ParsePublic(data); err == nil {
			if len(pub) != ed25519.PublicKeySize {
				t.Fatalf("a %d-byte public key", len(pub))
			}
			if again, err := ParsePublic(MarshalPublic(pub, "k")); err != nil || !again.Equal(pub) {
				t.Fatalf("round trip: %v", err)
			}
		}
		if priv, err := ParsePrivate(data); err == nil {
			if again, err := ParsePrivate(MarshalPrivate(priv, "k")); err != nil || !again.Equal(priv) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
