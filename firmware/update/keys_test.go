package update

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePublicKey(t *testing.T) {
	pub, _ := testKey(7)
	good := MarshalPublicKey(pub)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "marshalled", in: string(good), ok: true},
		{name: "bare line", in: strings.Split(string(good), "\n")[1], ok: true},
		{name: "crlf and blank lines", in: "\r\n# c\r\n\r\n" + strings.Split(string(good), "\n")[1] + "\r\n", ok: true},
		{name: "empty", in: ""},
		{name: "comment only", in: "# nothing\n"},
		{name: "two keys", in: string(good) + strings.Split(string(good), "\n")[1] + "\n"},
		{name: "not base64", in: "not base64!!\n"},
		{name: "31 bytes", in: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"},
		{name: "private seed is the same length", in: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", ok: true},
		{name: "too long", in: strings.Repeat("#", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ParsePublicKey(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err == nil && tt.name == "marshalled" && !bytes.Equal(got, pub) {
				t.Errorf("ParsePublicKey(MarshalPublicKey(k)) = %x, want %x", got, pub)
			}
		})
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	_, priv := testKey(9)
	got, err := ParsePrivateKey(MarshalPrivateKey(priv))
	if err != nil {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	if !bytes.Equal(got, priv) {
		t.Errorf("ParsePrivateKey(MarshalPrivateKey(k)) differs from k")
	}
	pub, _ := testKey(9)
	if _, err := ParsePrivateKey(MarshalPublicKey(pub[:31])); err == nil {
		t.Errorf("ParsePrivateKey(31-byte key) = nil error, want one")
	}
}

func TestGenerateKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	id, err := GenerateKeyFiles(dir, "release", rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKeyFiles: %v", err)
	}
	keyData, err := os.ReadFile(filepath.Join(dir, "release.key"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(keyData)
	if err != nil {
		t.Fatalf("ParsePrivateKey(release.key): %v", err)
	}
	ring, err := LoadKeyring(dir)
	if err != nil {
		t.Fatalf("LoadKeyring: %v", err)
	}
	if len(ring) != 1 || !ring[0].Equal(priv.Public()) {
		t.Fatalf("LoadKeyring = %d keys, want the generated public key", len(ring))
	}
	if got := KeyID(ring[0]); got != id {
		t.Errorf("KeyID(pub) = %s, want %s", got, id)
	}
	fi, err := os.Stat(filepath.Join(dir, "release.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("release.key mode = %v, want 0600", fi.Mode().Perm())
	}
	if _, err := GenerateKeyFiles(dir, "release", rand.Reader); err == nil {
		t.Errorf("GenerateKeyFiles over an existing key = nil error, want refusal")
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "release.key")); !bytes.Equal(again, keyData) {
		t.Errorf("refused GenerateKeyFiles changed release.key")
	}
	if _, err := GenerateKeyFiles(dir, "../x", rand.Reader); err == nil {
		t.Errorf("GenerateKeyFiles(name ../x) = nil error, want refusal")
	}
}

func TestLoadKeyring(t *testing.T) {
	a, _ := testKey(1)
	b, _ := testKey(2)
	tests := []struct {
		name  string
		files map[string]string
		want  []string // key IDs in order
		bad   bool
	}{
		{name: "missing directory", files: nil},
		{name: "empty directory", files: map[string]string{}},
		{name: "two keys sorted by file name", files: map[string]string{"z.pub": string(MarshalPublicKey(a)), "m.pub": string(MarshalPublicKey(b))}, want: []string{KeyID(b), KeyID(a)}},
		{name: "other files ignored", files: map[string]string{"a.pub": string(MarshalPublicKey(a)), "README": "x", "a.pub.bak": "x", ".hidden.pub": "x"}, want: []string{KeyID(a)}},
		{name: "damaged key fails closed", files: map[string]string{"a.pub": string(MarshalPublicKey(a)), "b.pub": "garbage"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			if tt.files != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for n, c := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ring, err := LoadKeyring(dir)
			if tt.bad {
				if err == nil {
					t.Fatalf("LoadKeyring = %v, want an error", ring.IDs())
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKeyring: %v", err)
			}
			if got := strings.Join(ring.IDs(), ","); got != strings.Join(tt.want, ",") {
				t.Errorf("LoadKeyring IDs = %s, want %s", got, strings.Join(tt.want, ","))
			}
		})
	}
}
