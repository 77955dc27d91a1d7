package update

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"
)

// Names inside a bundle and a slot.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	RecordName    = "slot.json"
	// BinaryName is the daemon's name inside a slot; the bundle file whose
	// Arch matches the device is installed under it.
	BinaryName = "hallgw"
)

// Limits that keep a hostile bundle from exhausting the device.
const (
	ManifestFormat  = 1
	MaxManifestSize = 1 << 20
	MaxFiles        = 64
	MaxFileSize     = 512 << 20
	MaxBundleSize   = 1 << 30
	maxTextLen      = 64
)

// Manifest describes a bundle. Its exact bytes are what manifest.sig signs.
type Manifest struct {
	Format          int       `json:"format"`
	Version         string    `json:"version"`
	SecurityVersion uint64    `json:"security_version"`
	Compatible      string    `json:"compatible"`
	Created         time.Time `json:"created"`
	Files           []File    `json:"files"`
	// TrustedKeys, when present, replaces the device's key list once this
	// bundle is committed (base64 public keys): that is how keys rotate.
	TrustedKeys []string `json:"trusted_keys,omitempty"`
}

// File is one payload of a bundle.
type File struct {
	Name string `json:"name"`
	// Arch is set on daemon binaries ("arm64", "armv7", …). The binary for
	// the device's arch is installed as BinaryName; the others are skipped.
	Arch   string `json:"arch,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   string `json:"mode"` // octal permission bits, e.g. "0755"
}

// Perm returns the file's permission bits (0644 when Mode is invalid, which
// validation rules out).
func (f File) Perm() fs.FileMode {
	m, err := parseMode(f.Mode)
	if err != nil {
		return 0o644
	}
	return m
}

// ParseManifest decodes and validates a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest larger than %d bytes", ErrMalformed, MaxManifestSize)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	return &m, nil
}

// validate checks everything the installer relies on.
func (m *Manifest) validate() error {
	if m.Format != ManifestFormat {
		return fmt.Errorf("format %d, want %d", m.Format, ManifestFormat)
	}
	if !validText(m.Version) {
		return fmt.Errorf("bad version %q", m.Version)
	}
	if !validText(m.Compatible) {
		return fmt.Errorf("bad compatible board %q", m.Compatible)
	}
	if len(m.Files) == 0 || len(m.Files) > MaxFiles {
		return fmt.Errorf("%d files, want 1 to %d", len(m.Files), MaxFiles)
	}
	if err := checkFiles(m.Files, true); err != nil {
		return err
	}
	if len(m.TrustedKeys) > maxTrustedKeys {
		return fmt.Errorf("%d trusted keys, at most %d", len(m.TrustedKeys), maxTrustedKeys)
	}
	for _, k := range m.TrustedKeys {
		if _, err := ParsePublicKey([]byte(k)); err != nil {
			return fmt.Errorf("trusted key: %v", err)
		}
	}
	return nil
}

// checkFiles validates a file list; bundle lists need a daemon for at least
// one arch, and an arch-less file may not take the daemon's name.
func checkFiles(files []File, bundle bool) error {
	names := map[string]bool{}
	archs := map[string]bool{}
	var total int64
	for _, f := range files {
		if !validName(f.Name) {
			return fmt.Errorf("bad file name %q", f.Name)
		}
		switch f.Name {
		case ManifestName, SignatureName, RecordName:
			return fmt.Errorf("reserved file name %q", f.Name)
		}
		if names[f.Name] {
			return fmt.Errorf("file %q listed twice", f.Name)
		}
		names[f.Name] = true
		if f.Arch != "" {
			if !bundle || !validArch(f.Arch) {
				return fmt.Errorf("file %q: bad arch %q", f.Name, f.Arch)
			}
			if archs[f.Arch] {
				return fmt.Errorf("two daemons for arch %q", f.Arch)
			}
			archs[f.Arch] = true
		} else if bundle && f.Name == BinaryName {
			return fmt.Errorf("file %q needs an arch", f.Name)
		}
		if f.Size < 0 || f.Size > MaxFileSize {
			return fmt.Errorf("file %q: size %d out of range", f.Name, f.Size)
		}
		total += f.Size
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || hex.EncodeToString(b) != f.SHA256 {
			return fmt.Errorf("file %q: sha256 must be 64 lower-case hex digits", f.Name)
		}
		if _, err := parseMode(f.Mode); err != nil {
			return fmt.Errorf("file %q: %v", f.Name, err)
		}
	}
	if total > MaxBundleSize {
		return fmt.Errorf("files total %d bytes, more than %d", total, int64(MaxBundleSize))
	}
	if bundle && len(archs) == 0 {
		return errors.New("no daemon binary (a file with an arch)")
	}
	return nil
}

// parseMode parses octal permission bits.
func parseMode(s string) (fs.FileMode, error) {
	if len(s) < 3 || len(s) > 4 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	return fs.FileMode(v), nil
}

// formatMode is the inverse of parseMode.
func formatMode(m fs.FileMode) string {
	return fmt.Sprintf("%04o", uint32(m.Perm()))
}

// validName accepts a plain file name: letters, digits, '.', '_', '-', not
// starting with '.', at most 100 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// validText accepts a version or board string: 1 to 64 printable ASCII
// characters without spaces.
func validText(s string) bool {
	if s == "" || len(s) > maxTextLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// validArch accepts a processor name such as "arm64" or "armv7".
func validArch(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
