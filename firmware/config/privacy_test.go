package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// messages runs a validation and returns "path: msg" for each problem.
func messages(fn func(v *validator)) []string {
	v := &validator{}
	fn(v)
	out := make([]string, len(v.errs))
	for i, e := range v.errs {
		out[i] = e.Path + ": " + e.Msg
	}
	return out
}

// wantProblems checks that got has exactly one problem per wanted path
// fragment, in order ("" = no problem).
func wantProblems(t *testing.T, got []string, want string) {
	t.Helper()
	if want == "" {
		if len(got) != 0 {
			t.Errorf("problems = %q, want none", got)
		}
		return
	}
	if len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("problems = %q, want one containing %q", got, want)
	}
}

func TestPrivacyValidate(t *testing.T) {
	long := Secret("0123456789abcdef-hall")
	tests := []struct {
		name    string
		p       Privacy
		readers bool
		want    string
	}{
		{"nothing without readers", Privacy{}, false, ""},
		{"secret required with readers", Privacy{}, true, "privacy.secret: required"},
		{"secret file is enough", Privacy{SecretFile: "/etc/hallgw/secret"}, true, ""},
		{"both", Privacy{Secret: long, SecretFile: "f"}, true, "not both"},
		{"short secret", Privacy{Secret: "short"}, true, "at least 16"},
		{"retention default", Privacy{Secret: long}, true, ""},
		{"retention 7d", Privacy{Secret: long, Retention: Duration(7 * 24 * time.Hour)}, true, ""},
		{"retention too short", Privacy{Secret: long, Retention: Duration(time.Minute)}, true, "privacy.retention"},
		{"retention too long", Privacy{Secret: long, Retention: Duration(4000 * 24 * time.Hour)}, true, "privacy.retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, messages(func(v *validator) { tt.p.validate(v, tt.readers) }), tt.want)
		})
	}
}

func TestPrivacyDecode(t *testing.T) {
	var p struct {
		Privacy Privacy `yaml:"privacy"`
	}
	src := "privacy:\n  secret: 0123456789abcdef-hall\n  retention: 7d\n  upstream_clear: true\n"
	if _, err := parseYAML("t.yaml", []byte(src), &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Privacy.RetentionOrDefault(); got != 7*24*time.Hour {
		t.Errorf("RetentionOrDefault() = %v, want 168h", got)
	}
	if !p.Privacy.UpstreamClear || string(p.Privacy.Secret) != "0123456789abcdef-hall" {
		t.Errorf("decoded %+v", p.Privacy)
	}
	if got := (Privacy{}).RetentionOrDefault(); got != DefaultRetention {
		t.Errorf("default RetentionOrDefault() = %v, want %v", got, DefaultRetention)
	}
}

func TestPrivacySecretBytes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("0123456789abcdef-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short"), []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		name    string
		p       Privacy
		want    string
		wantErr string
	}{
		{"inline", Privacy{Secret: "0123456789abcdef-inline"}, "0123456789abcdef-inline", ""},
		{"file under root, newline trimmed", Privacy{SecretFile: "secret"}, "0123456789abcdef-file", ""},
		{"none", Privacy{}, "", ""},
		{"missing file", Privacy{SecretFile: "nope"}, "", "no such file"},
		{"short file", Privacy{SecretFile: "short"}, "", "at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.SecretBytes(root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SecretBytes() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("SecretBytes() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestWindowReadersValidate(t *testing.T) {
	windows := []Window{{ID: "w1"}, {ID: "w2"}}
	tests := []struct {
		name string
		rs   []WindowReader
		want string
	}{
		{"ok", []WindowReader{{Window: "w1", Port: "/dev/ttyUSB1"}, {Window: "w2", Port: "usb:1a86:7523", Baud: 115200}}, ""},
		{"unknown window", []WindowReader{{Window: "w9", Port: "/dev/ttyUSB1"}}, `unknown window "w9"`},
		{"two on one window", []WindowReader{{Window: "w1", Port: "/dev/a"}, {Window: "w1", Port: "/dev/b"}}, "already has a reader"},
		{"no port", []WindowReader{{Window: "w1"}}, "devices.window_readers[0].port: required"},
		{"bad baud", []WindowReader{{Window: "w1", Port: "/dev/a", Baud: 1234}}, "baud"},
		{"poll too fast", []WindowReader{{Window: "w1", Port: "/dev/a", Poll: Duration(time.Millisecond)}}, ".poll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, messages(func(v *validator) { validateWindowReaders(v, tt.rs, windows) }), tt.want)
		})
	}
	r := WindowReader{}
	if r.BaudOrDefault() != 115200 || r.PollOrDefault() != 500*time.Millisecond {
		t.Errorf("defaults = %d, %v; want 115200, 500ms", r.BaudOrDefault(), r.PollOrDefault())
	}
}

func TestStaffCardsValidate(t *testing.T) {
	h := "h1:" + strings.Repeat("ab", 32)
	tests := []struct {
		name  string
		cards []StaffCard
		want  string
	}{
		{"ok and empty", []StaffCard{{"s1", h}, {"s2", ""}}, ""},
		{"upper-case hex", []StaffCard{{"s1", strings.ToUpper(h)}}, "staff[0].id_hash"},
		{"clear number", []StaffCard{{"s1", "430102199001010011"}}, "staff[0].id_hash"},
		{"duplicate", []StaffCard{{"s1", h}, {"s2", h}}, `staff[1].id_hash: same card as staff "s1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, messages(func(v *validator) { validateStaffCards(v, tt.cards) }), tt.want)
		})
	}
}

func TestScannersValidate(t *testing.T) {
	windows := []Window{{ID: "w1"}, {ID: "w2"}}
	tests := []struct {
		name string
		ss   []Scanner
		want string
	}{
		{"ok", []Scanner{{Window: "w1", Device: "test:0"}, {Window: "w2", Device: "fujitsu:fi-7160:1", Source: "adf", Format: "pdf", Pedal: "GPIO17"}}, ""},
		{"unknown window", []Scanner{{Window: "x", Device: "test:0"}}, "unknown window"},
		{"two per window", []Scanner{{Window: "w1", Device: "test:0"}, {Window: "w1", Device: "test:1"}}, "already has a scanner"},
		{"no device", []Scanner{{Window: "w1"}}, ".device: required"},
		{"option as device", []Scanner{{Window: "w1", Device: "--help"}}, "not a SANE device"},
		{"bad source", []Scanner{{Window: "w1", Device: "test:0", Source: "feeder"}}, ".source"},
		{"bad format", []Scanner{{Window: "w1", Device: "test:0", Format: "bmp"}}, ".format"},
		{"bad mode", []Scanner{{Window: "w1", Device: "test:0", Mode: "gray"}}, ".mode"},
		{"bad resolution", []Scanner{{Window: "w1", Device: "test:0", Resolution: 5000}}, ".resolution"},
		{"bad pages", []Scanner{{Window: "w1", Device: "test:0", MaxPages: -1}}, ".max_pages"},
		{"bad timeout", []Scanner{{Window: "w1", Device: "test:0", Timeout: Duration(time.Millisecond)}}, ".timeout"},
		{"shared pedal", []Scanner{{Window: "w1", Device: "test:0", Pedal: "GPIO5"}, {Window: "w2", Device: "test:1", Pedal: "GPIO5"}}, ".pedal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, messages(func(v *validator) { validateScanners(v, tt.ss, windows) }), tt.want)
		})
	}
	d := Scanner{}.WithDefaults()
	if d.Source != "" || d.Resolution != 200 || d.Format != "png" || d.Mode != "Gray" || d.MaxPages != 100 || d.Timeout.D() != 2*time.Minute {
		t.Errorf("Scanner defaults = %+v", d)
	}
}

func TestArchiveValidate(t *testing.T) {
	tests := []struct {
		name string
		a    Archive
		want string
	}{
		{"zero is defaults", Archive{}, ""},
		{"small bound", Archive{MaxBytes: 1 << 20}, "archive.max_bytes"},
		{"huge chunk", Archive{ChunkSize: 4 << 20}, "archive.chunk_size"},
		{"tiny chunk", Archive{ChunkSize: 100}, "archive.chunk_size"},
		{"ack timeout", Archive{AckTimeout: Duration(time.Hour)}, "archive.ack_timeout"},
		{"deliver within", Archive{DeliverWithin: Duration(time.Minute)}, "archive.deliver_within"},
		{"negative free", Archive{MinFree: -1}, "archive.min_free"},
		{"option as program", Archive{Program: "-x"}, "archive.program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, messages(func(v *validator) { tt.a.validate(v) }), tt.want)
		})
	}
	d := Archive{}.WithDefaults()
	if d.Program != "scanimage" || d.MaxBytes != 2<<30 || d.MinFree != 256<<20 || d.ChunkSize != 256<<10 || d.AckTimeout.D() != 30*time.Second {
		t.Errorf("Archive defaults = %+v", d)
	}
}
