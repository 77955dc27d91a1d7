package powerd

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"hallgw/firmware/testkit"
)

func TestParseTestArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    testArgs
		wantErr bool
	}{
		{"none", ``, testArgs{}, false},
		{"blank", ` `, testArgs{}, false},
		{"minutes", `{"minutes":40}`, testArgs{Minutes: 40}, false},
		{"deep", `{"deep":true}`, testArgs{Deep: true}, false},
		{"stop", `{"stop":true}`, testArgs{Stop: true}, false},
		{"unknown field", `{"hours":4}`, testArgs{}, true},
		{"stop with minutes", `{"stop":true,"minutes":5}`, testArgs{}, true},
		{"two objects", `{"deep":true}{"deep":false}`, testArgs{}, true},
		{"not an object", `[40]`, testArgs{}, true},
		{"minutes as text", `{"minutes":"40"}`, testArgs{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTestArgs([]byte(tt.args))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseTestArgs(%s) = %+v, %v, want %+v, error %v", tt.args, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzTestArgs: any arguments either are refused or give a valid test
// spec (whole minutes 1–99, or deep) or a plain stop.
func FuzzTestArgs(f *testing.F) {
	for _, s := range []string{``, `{"minutes":40}`, `{"deep":true}`, `{"stop":true}`, `{"minutes":0}`, `{"minutes":100}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		a, err := parseTestArgs(args)
		if err != nil {
			return
		}
		if a.Stop {
			if a.Deep || a.Minutes != 0 {
				t.Fatalf("stop with other arguments accepted: %+v", a)
			}
			return
		}
		spec, err := TestRequest{Minutes: a.Minutes, Deep: a.Deep}.Spec(time.Second)
		if err != nil {
			return
		}
		if d := spec.Duration; d%time.Minute != 0 || d < 0 || d > 99*time.Minute || (d == 0) != a.Deep {
			t.Fatalf("args %s gave spec %+v", args, spec)
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := parseTestArgs(b); err != nil || back != a {
			t.Fatalf("round trip of %+v = %+v, %v", a, back, err)
		}
	})
}

func TestExecRunner(t *testing.T) {
	tru, fls := testkit.Tool(t, "true"), testkit.Tool(t, "false")
	tests := []struct {
		name    string
		argv    []string
		wantErr bool
	}{
		{"success", []string{tru}, false},
		{"failure", []string{fls, "--poweroff"}, true},
		{"empty", nil, true},
		{"missing program", []string{"/nonexistent/poweroff"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ExecRunner(context.Background(), tt.argv)
			if (err != nil) != tt.wantErr {
				t.Errorf("ExecRunner(%q) = %v, want error %v", tt.argv, err, tt.wantErr)
			}
		})
	}
}
