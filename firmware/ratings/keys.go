package ratings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// The key files in the data directory. The private key file holds one
// base64 line (standard alphabet) with the 32-byte ed25519 seed and must be
// mode 0600; the public key file one base64 line with the 32-byte public
// key. Lines starting with '#' are comments. These are the formats of the
// update keys.
const (
	PrivateKeyFile = "rating.key"
	PublicKeyFile  = "rating.pub"
	maxKeyFile     = 4096
)

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// LoadOrCreateKey returns the gateway's rating key from dir, generating it
// on first start (from rand; nil means crypto/rand). It never replaces an
// existing key: a new key starts a new chain the platform has to be told
// of. A key file readable by others than its owner is refused. The public
// key file is rewritten when it is missing or does not match.
func LoadOrCreateKey(dir string, rnd io.Reader) (key ed25519.PrivateKey, created bool, err error) {
	path := filepath.Join(dir, PrivateKeyFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		key, err = createKey(path, rnd)
		if err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, fmt.Errorf("ratings: read key: %w", err)
	default:
		fi, err := os.Stat(path)
		if err != nil {
			return nil, false, fmt.Errorf("ratings: key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("ratings: key file %s is mode %04o, want 0600 (chmod 600 it)", path, fi.Mode().Perm())
		}
		key, err = ParsePrivateKey(data)
		if err != nil {
			return nil, false, fmt.Errorf("ratings: key file %s: %w", path, err)
		}
	}
	pub, _ := key.Public().(ed25519.PublicKey)
	pubPath := filepath.Join(dir, PublicKeyFile)
	want := MarshalPublicKey(pub)
	if have, err := os.ReadFile(pubPath); err != nil || !bytes.Equal(have, want) {
		if err := renameio.WriteFile(pubPath, want, 0o644); err != nil {
			return nil, false, fmt.Errorf("ratings: write public key: %w", err)
		}
	}
	return key, created, nil
}

// createKey generates a key and stores it at path without ever replacing a
// file there: written to a temporary file, synced, then hard-linked into
// place (which fails if path appeared meanwhile).
func createKey(path string, rnd io.Reader) (ed25519.PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return nil, fmt.Errorf("ratings: generate key: %w", err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub, _ := key.Public().(ed25519.PublicKey)
	body := fmt.Appendf(nil, "# hallgw rating key %s: keep secret, never copy\n%s\n", KeyID(pub), base64.StdEncoding.EncodeToString(seed))
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rating.key-*")
	if err != nil {
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("ratings: create key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return key, nil
}

// keyLine returns the single non-comment line of a key file.
func keyLine(data []byte) ([]byte, error) {
	if len(data) > maxKeyFile {
		return nil, errors.New("key file too long")
	}
	var line []byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		if line != nil {
			return nil, errors.New("key file has more than one key line")
		}
		line = l
	}
	if line == nil {
		return nil, errors.New("key file has no key line")
	}
	return line, nil
}

// ParsePrivateKey decodes a private key file (the base64 seed).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	line, err := keyLine(data)
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(string(line))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("want the %d-byte seed in base64", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey decodes a public key: the gateway's rating.pub (one
// base64 line), or a PEM "PUBLIC KEY" block (PKIX, as openssl writes it),
// or the base64 alone as published in the birth message.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(data); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("ratings: PEM block %q, want PUBLIC KEY", blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ratings: public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("ratings: public key is %T, want ed25519", k)
		}
		return pub, nil
	}
	line, err := keyLine(data)
	if err != nil {
		return nil, fmt.Errorf("ratings: public key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(line))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ratings: public key: want the %d-byte key in base64", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// MarshalPublicKey encodes pub as a public key file with a comment naming
// its ID.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	return fmt.Appendf(nil, "# hallgw rating public key %s\n%s\n", KeyID(pub), base64.StdEncoding.EncodeToString(pub))
}
