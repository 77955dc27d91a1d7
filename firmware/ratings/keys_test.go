package ratings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	key, created, err := LoadOrCreateKey(dir, bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey(new dir) = %v, %v, want a new key", created, err)
	}
	if !key.Equal(testKey(9)) {
		t.Errorf("key is not made from the random seed")
	}
	fi, err := os.Stat(filepath.Join(dir, PrivateKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v, want 0600", fi.Mode().Perm(), err)
	}
	pubData, err := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubData)
	if err != nil || !pub.Equal(key.Public()) {
		t.Errorf("public key file = %v, %v, want the key's public half", pub, err)
	}
	again, created, err := LoadOrCreateKey(dir, nil)
	if err != nil || created || !again.Equal(key) {
		t.Errorf("LoadOrCreateKey(again) = created %v, %v, want the same key", created, err)
	}
	// A missing public key file is written again.
	os.Remove(filepath.Join(dir, PublicKeyFile))
	if _, _, err := LoadOrCreateKey(dir, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, PublicKeyFile)); err != nil || !bytes.Equal(b, pubData) {
		t.Errorf("public key file after removal = %q, %v, want %q", b, err, pubData)
	}
}

func TestLoadKeyRefusals(t *testing.T) {
	cases := []struct {
		name string
		data string
		mode os.FileMode
		want string
	}{
		{"readable by others", "", 0o644, "mode 0644, want 0600"},
		{"not base64", "# c\nnot base64!\n", 0o600, "seed in base64"},
		{"short seed", base64.StdEncoding.EncodeToString([]byte("short")) + "\n", 0o600, "seed in base64"},
		{"two lines", "a\nb\n", 0o600, "more than one key line"},
		{"empty", "# only a comment\n", 0o600, "no key line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			data := c.data
			if data == "" {
				data = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n"
			}
			p := filepath.Join(dir, PrivateKeyFile)
			if err := os.WriteFile(p, []byte(data), c.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, c.mode)
			_, _, err := LoadOrCreateKey(dir, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("LoadOrCreateKey() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := testKey(3).Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"key file", MarshalPublicKey(pub), true},
		{"bare base64", []byte(base64.StdEncoding.EncodeToString(pub)), true},
		{"PEM", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), true},
		{"PEM of another type", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), false},
		{"PEM garbage", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}}), false},
		{"31 bytes", []byte(base64.StdEncoding.EncodeToString(pub[:31])), false},
		{"too long", bytes.Repeat([]byte("A"), 5000), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePublicKey(c.data)
			if c.ok && (err != nil || !got.Equal(pub)) {
				t.Errorf("ParsePublicKey() = %x, %v, want %x", got, err, pub)
			}
			if !c.ok && err == nil {
				t.Errorf("ParsePublicKey() = %x, want an error", got)
			}
		})
	}
}
