package config

import (
	"go.yaml.in/yaml/v3"
)

// Marshal writes c as a configuration file that Parse reads back to the same
// values. Secrets are written as they are: the result is a file to keep at
// mode 0600, not a text to log.
func Marshal(c *Config) ([]byte, error) {
	return yaml.Marshal(c)
}

// MarshalYAML writes the secret itself, for configuration files only; every
// other encoding (String, JSON, logs) hides it.
func (s Secret) MarshalYAML() (any, error) { return string(s), nil }
