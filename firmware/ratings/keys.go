package ratings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"

	"hallgw/firmware/keyfile"
)

// The key files in the data directory. The private key file holds one
// base64 line (standard alphabet) with the 32-byte ed25519 seed and must be
// mode 0600; the public key file one base64 line with the 32-byte public
// key. Lines starting with '#' are comments: the formats of package keyfile, as
// update keys.
const (
	PrivateKeyFile = "rating.key"
	PublicKeyFile  = "rating.pub"
)

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string { return keyfile.ID(pub) }

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
	body := keyfile.MarshalPrivate(key, "hallgw rating key")
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

// ParsePrivateKey decodes a private key file (the base64 seed).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	key, err := keyfile.ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("want the %d-byte seed in base64: %w", ed25519.SeedSize, err)
	}
	return key, nil
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
	pub, err := keyfile.ParsePublic(data)
	if err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	return pub, nil
}

// MarshalPublicKey encodes pub as a public key file with a comment naming
// its ID.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	return keyfile.MarshalPublic(pub, "hallgw rating public key")
}
