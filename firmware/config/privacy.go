package config

import (
	"bytes"
	"fmt"
	"os"
	"time"
)

// Privacy protects personal data (docs/privacy.md). The hall secret keys the
// holder hash (HMAC-SHA256 of a normalised ID number) that goes upstream and
// matches appointments and staff cards, and wraps the day keys that encrypt
// personal fields at rest; retention is how long those fields stay
// readable.
type Privacy struct {
	// Secret is the hall secret itself; SecretFile names a file holding it
	// (mode 0600, one line). At most one of them; one is required when ID-card
	// readers are configured.
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Retention is how long personal data stays readable; 0 means
	// DefaultRetention.
	Retention Duration `yaml:"retention"`
	// UpstreamClear lets clear names and ID numbers go to the platform
	// where an exchange carries a person. Off by default: the platform gets
	// the holder hash and masked values only.
	UpstreamClear bool `yaml:"upstream_clear"`
}

// Privacy defaults and bounds.
const (
	DefaultRetention = 30 * 24 * time.Hour
	MinRetention     = time.Hour
	MaxRetention     = 3650 * 24 * time.Hour
	// MinSecretLen is the shortest hall secret accepted, in bytes.
	MinSecretLen = 16
)

// RetentionOrDefault returns the retention, DefaultRetention when unset.
func (p Privacy) RetentionOrDefault() time.Duration {
	if p.Retention <= 0 {
		return DefaultRetention
	}
	return p.Retention.D()
}

// SecretBytes returns the hall secret: Secret, or the content of SecretFile
// (placed by path, e.g. Daemon.Path, when not nil) with trailing line breaks
// and spaces removed. It returns nil and no error when neither is set.
func (p Privacy) SecretBytes(path func(string) string) ([]byte, error) {
	if p.Secret != "" {
		return []byte(p.Secret), nil
	}
	if p.SecretFile == "" {
		return nil, nil
	}
	name := p.SecretFile
	if path != nil {
		name = path(name)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: privacy.secret_file: %w", err)
	}
	b = bytes.TrimRight(b, " \t\r\n")
	if len(b) < MinSecretLen {
		return nil, fmt.Errorf("config: privacy.secret_file %s: %d bytes, want at least %d", name, len(b), MinSecretLen)
	}
	return b, nil
}

// validate checks the section; cardReaders says whether any ID-card reader
// (window readers, kiosk readers) is configured, which makes a secret
// required.
func (p *Privacy) validate(v *validator, cardReaders bool) {
	switch {
	case p.Secret != "" && p.SecretFile != "":
		v.errf("privacy.secret", "set secret or secret_file, not both")
	case p.Secret == "" && p.SecretFile == "" && cardReaders:
		v.errf("privacy.secret", "required when ID-card readers are configured (or secret_file)")
	case p.Secret != "" && len(p.Secret) < MinSecretLen:
		v.errf("privacy.secret", "%d bytes: want at least %d", len(p.Secret), MinSecretLen)
	}
	if r := p.Retention.D(); r != 0 && (r < MinRetention || r > MaxRetention) {
		v.errf("privacy.retention", "%s: want 1h…3650d", p.Retention)
	}
}
