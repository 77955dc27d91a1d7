package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if len(c.Windows) != 20 {
		t.Errorf("default has %d windows, want 20", len(c.Windows))
	}
	if c.Gateway.ID == "" || c.Gateway.HallName == "" {
		t.Errorf("default gateway = %+v, want id and hall name", c.Gateway)
	}
	hc, err := c.HallConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := hc.Validate(); err != nil {
		t.Fatalf("default hall config invalid: %v", err)
	}
	if hc.Rules.ResetAt != 4*time.Hour || hc.Rules.RecallMinGap != 10*time.Second {
		t.Errorf("rules = %+v", hc.Rules)
	}
}

func TestFileOverridesDefaults(t *testing.T) {
	l, err := Parse("hall.yaml", []byte("gateway:\n  id: gw-7\n  hall_id: hn-cs\n  hall_name: 长沙\nqueue:\n  recall_max: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Gateway.ID != "gw-7" || l.Queue.RecallMax != 5 {
		t.Errorf("got id %q recall_max %d", l.Gateway.ID, l.Queue.RecallMax)
	}
	if l.Queue.PriorityRatio != 3 || len(l.Windows) != 20 {
		t.Errorf("defaults lost: priority_ratio %d, %d windows", l.Queue.PriorityRatio, len(l.Windows))
	}
	if l.ConfigVersion() != l.Hash[:12] {
		t.Errorf("version %q, want hash prefix", l.ConfigVersion())
	}
}

func TestBrokenFiles(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole first error line
	}{
		{
			"unknown field with suggestion",
			"gateway:\n  id: gw-1\n  hal_name: x\n",
			`f.yaml:3:3: gateway.hal_name: unknown field (did you mean "hall_name"?)`,
		},
		{
			"wrong type",
			"queue:\n  number_width: three\n",
			`f.yaml:2:17: queue.number_width: want a whole number, got "three"`,
		},
		{
			"bad duration",
			"queue:\n  recall_min_gap: 10 seconds\n",
			`f.yaml:2:19: queue.recall_min_gap: want a duration like 30s, 5m, 2h or 7d, got "10 seconds"`,
		},
		{
			"bad time of day",
			"queue:\n  reset_at: \"25:00\"\n",
			`f.yaml:2:13: queue.reset_at: want a time of day like 04:00, got "25:00"`,
		},
		{
			"list where a mapping goes",
			"gateway: [a, b]\n",
			`f.yaml:1:10: gateway: want a mapping, got a list`,
		},
		{
			"set twice",
			"gateway:\n  id: a\n  id: b\n",
			"f.yaml:3:3: gateway.id: set twice",
		},
		{
			"syntax",
			"gateway:\n  id: [\n",
			"f.yaml:2:1: syntax: did not find expected node content",
		},
		{
			"bad gateway id",
			"gateway:\n  id: \"gw 1/x\"\n",
			`f.yaml:2:7: gateway.id: "gw 1/x": use letters, digits, '-', '_' or '.' (at most 64), starting with a letter or digit`,
		},
		{
			"bad broker url",
			"mqtt:\n  brokers: [\"http://x:1\"]\n",
			`f.yaml:2:13: mqtt.brokers[0]: "http://x:1": scheme "http": want tcp, ssl, tls, ws or wss`,
		},
		{
			"bus terminal on unknown window",
			"devices:\n  buses:\n    - id: bus1\n      port: /dev/ttyS1\n      baud: 9600\n      terminals:\n        - {address: 1, window: \"99\"}\n",
			`f.yaml:7:32: devices.buses[0].terminals[0].window: unknown window "99"`,
		},
		{
			"duplicate bus address",
			"devices:\n  buses:\n    - id: bus1\n      port: /dev/ttyS1\n      terminals: [{address: 1, window: \"1\"}]\n      displays: [{address: 1, name: hall}]\n",
			`f.yaml:6:28: devices.buses[0].displays[0].address: 1: already used by a terminal on this bus`,
		},
		{
			"window serving an unknown service",
			"windows:\n  - {id: \"1\", number: 1, name: one, kind: intake, services: [general, nosuch]}\n",
			`f.yaml:2:71: windows[0].services[1]: unknown service "nosuch"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.yaml)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("err = %T %v, want Errors", err, err)
			}
			first := es[0].Error()
			if !strings.HasPrefix(first, tt.want) {
				t.Errorf("first error = %q, want prefix %q", first, tt.want)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want Size
	}{
		{"512KiB", 512 << 10}, {"256MiB", 256 << 20}, {"2GiB", 2 << 30}, {"64MB", 64e6}, {"1000", 1000},
	}
	for _, tt := range tests {
		var s Size
		if err := s.setYAML(tt.in); err != nil || s != tt.want {
			t.Errorf("Size(%q) = %d, %v; want %d", tt.in, s, err, tt.want)
		}
	}
	var s Size
	if err := s.setYAML("lots"); err == nil {
		t.Error(`Size("lots") accepted`)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	if strings.Contains(s.String(), "hunter2") {
		t.Fatal("secret printed")
	}
	b, _ := s.MarshalText()
	if strings.Contains(string(b), "hunter2") {
		t.Fatal("secret marshalled")
	}
}

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	name := dir + "/pw"
	if err := os.WriteFile(name, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s Secret
	if err := s.setYAML("file:" + name); err != nil || string(s) != "s3cret" {
		t.Fatalf("Secret(file:) = %q, %v; want s3cret", string(s), err)
	}
	if err := s.setYAML("file:" + dir + "/missing"); err == nil {
		t.Fatal("missing secret file accepted")
	}
}
