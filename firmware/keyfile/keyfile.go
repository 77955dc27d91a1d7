package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// MaxSize bounds a key file; a longer one is refused unread.
const MaxSize = 4096

// ID names a public key: the first 8 bytes of its SHA-256, in hex.
func ID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// line returns the single non-comment line of a key file.
func line(data []byte) ([]byte, error) {
	if len(data) > MaxSize {
		return nil, errors.New("key file too long")
	}
	var key []byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		if key != nil {
			return nil, errors.New("key file has more than one key line")
		}
		key = l
	}
	if key == nil {
		return nil, errors.New("key file has no key line")
	}
	return key, nil
}

// decode returns the key line's bytes, which must be size long.
func decode(data []byte, size int, what string) ([]byte, error) {
	l, err := line(data)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(string(l))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(raw) != size {
		return nil, fmt.Errorf("%s is %d bytes, want %d", what, len(raw), size)
	}
	return raw, nil
}

// ParsePublic decodes a public key file.
func ParsePublic(data []byte) (ed25519.PublicKey, error) {
	raw, err := decode(data, ed25519.PublicKeySize, "public key")
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(raw), nil
}

// ParsePrivate decodes a private key file (the seed).
func ParsePrivate(data []byte) (ed25519.PrivateKey, error) {
	seed, err := decode(data, ed25519.SeedSize, "private key seed")
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// MarshalPublic encodes pub as a public key file whose comment is what
// followed by the key's ID.
func MarshalPublic(pub ed25519.PublicKey, what string) []byte {
	return fmt.Appendf(nil, "# %s %s\n%s\n", what, ID(pub), base64.StdEncoding.EncodeToString(pub))
}

// MarshalPrivate encodes priv as a private key file whose comment is what
// followed by the key's ID and a warning to keep it secret.
func MarshalPrivate(priv ed25519.PrivateKey, what string) []byte {
	pub := priv.Public().(ed25519.PublicKey)
	return fmt.Appendf(nil, "# %s %s: keep secret\n%s\n", what, ID(pub), base64.StdEncoding.EncodeToString(priv.Seed()))
}
