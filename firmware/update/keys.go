package update

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"hallgw/firmware/keyfile"
)

// Key files (package keyfile) hold one base64 (standard alphabet) line: the 32-byte ed25519
// public key in NAME.pub, the 32-byte seed in NAME.key. Lines starting with
// '#' are comments.
const (
	PublicKeySuffix  = ".pub"
	PrivateKeySuffix = ".key"
	maxTrustedKeys   = 16
)

// Keyring is the list of public keys a device trusts. Several keys allow
// rotation: a device that trusts both the old and the new key accepts bundles
// signed by either. An empty Keyring trusts nothing.
type Keyring []ed25519.PublicKey

// KeyID names a public key: the first 8 bytes of its sha256, in hex.
func KeyID(pub ed25519.PublicKey) string { return keyfile.ID(pub) }

// find returns the key whose signature over msg is sig.
func (k Keyring) find(msg, sig []byte) (ed25519.PublicKey, bool) {
	if len(sig) != ed25519.SignatureSize {
		return nil, false
	}
	for _, pub := range k {
		if len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig) {
			return pub, true
		}
	}
	return nil, false
}

// IDs lists the key IDs of the ring.
func (k Keyring) IDs() []string {
	ids := make([]string, len(k))
	for i, pub := range k {
		ids[i] = KeyID(pub)
	}
	return ids
}

// ParsePublicKey decodes a .pub key file.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	pub, err := keyfile.ParsePublic(data)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return pub, nil
}

// ParsePrivateKey decodes a .key file (the 32-byte seed).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	priv, err := keyfile.ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return priv, nil
}

// MarshalPublicKey encodes pub as a .pub file with a comment naming its ID.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	return keyfile.MarshalPublic(pub, "hallgw update key")
}

// MarshalPrivateKey encodes priv as a .key file.
func MarshalPrivateKey(priv ed25519.PrivateKey) []byte {
	return keyfile.MarshalPrivate(priv, "hallgw update signing key")
}

// GenerateKeyFiles creates a new key pair from rand and writes dir/name.key
// (mode 0600) and dir/name.pub. It refuses to overwrite existing files. It
// returns the new key's ID.
func GenerateKeyFiles(dir, name string, rand io.Reader) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("update: bad key name %q", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return "", fmt.Errorf("update: generate key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("update: %w", err)
	}
	keyPath := filepath.Join(dir, name+PrivateKeySuffix)
	pubPath := filepath.Join(dir, name+PublicKeySuffix)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", fmt.Errorf("update: %s exists: refusing to overwrite a key", p)
		}
	}
	if err := writeNew(keyPath, MarshalPrivateKey(priv), 0o600); err != nil {
		return "", err
	}
	if err := writeNew(pubPath, MarshalPublicKey(pub), 0o644); err != nil {
		return "", err
	}
	return KeyID(pub), nil
}

// writeNew creates a file that must not exist yet.
func writeNew(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("update: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("update: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// LoadKeyring reads every *.pub file in dir. A missing directory gives an
// empty ring (which refuses every bundle); an unreadable key file is an
// error, so a damaged key list fails closed too.
func LoadKeyring(dir string) (Keyring, error) {
	ks, err := loadKeys(OSFS{}, dir)
	if err != nil {
		return nil, err
	}
	ring := make(Keyring, len(ks))
	for i, k := range ks {
		ring[i] = k.pub
	}
	return ring, nil
}

// keyFile is one key file of a key directory.
type keyFile struct {
	name string // base name
	pub  ed25519.PublicKey
	err  error
}

// loadKeys reads the .pub files of dir, sorted by name; any unreadable key
// file is an error.
func loadKeys(fsys FS, dir string) ([]keyFile, error) {
	files, err := keyFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.err != nil {
			return nil, fmt.Errorf("update: trusted key %s: %w", f.name, f.err)
		}
	}
	return files, nil
}

// keyFiles reads every .pub file of dir, recording parse errors per file.
func keyFiles(fsys FS, dir string) ([]keyFile, error) {
	ents, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("update: trusted keys: %w", err)
	}
	var out []keyFile
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), PublicKeySuffix) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		kf := keyFile{name: e.Name()}
		data, err := fsys.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			kf.pub, err = ParsePublicKey(data)
		}
		kf.err = err
		out = append(out, kf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}
