package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "10s", "1h30m" or "2d" in the file.
type Duration time.Duration

func (d *Duration) setYAML(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errNoValue
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("want a duration like 30s, 5m, 2h or 7d, got %q", s)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration like 30s, 5m, 2h or 7d, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as the file would.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Size is a byte count written as "256MiB", "64MB", "1GiB" or a plain number.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

func (z *Size) setYAML(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	num := s
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a size like 512KiB, 256MiB or 2GiB, got %q", s)
	}
	*z = Size(v * mult)
	return nil
}

func (z Size) String() string {
	switch v := int64(z); {
	case v >= 1<<30 && v%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", v>>30)
	case v >= 1<<20 && v%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", v>>20)
	case v >= 1<<10 && v%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", v>>10)
	default:
		return strconv.FormatInt(v, 10)
	}
}

// MarshalText writes the size as the file would.
func (z Size) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

// TimeOfDay is a local wall-clock time written "04:00" or "17:30".
type TimeOfDay time.Duration

func (t *TimeOfDay) setYAML(s string) error {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return fmt.Errorf("want a time of day like 04:00, got %q", s)
	}
	*t = TimeOfDay(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	return nil
}

// D returns the offset from midnight.
func (t TimeOfDay) D() time.Duration { return time.Duration(t) }

func (t TimeOfDay) String() string {
	d := time.Duration(t)
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// MarshalText writes the time as the file would.
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Secret is a string that never prints: a password, a token or a key. It is
// read from the file as is, or from a file named after "file:" so that the
// secret can live outside the configuration (mode 0600).
type Secret string

func (s *Secret) setYAML(v string) error {
	if name, ok := strings.CutPrefix(v, "file:"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("secret file: %w", err)
		}
		v = strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return fmt.Errorf("secret file %s is empty", name)
		}
	}
	*s = Secret(v)
	return nil
}

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// MarshalText hides the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
