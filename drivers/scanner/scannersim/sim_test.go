package scannersim

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	dir, err := Config(filepath.Join(t.TempDir(), "sane.d"))
	if err != nil {
		t.Fatal(err)
	}
	dll, err := os.ReadFile(filepath.Join(dir, "dll.conf"))
	if err != nil || string(dll) != "test\n" {
		t.Errorf("dll.conf = %q, %v; want the test backend only", dll, err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "test.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// The geometry lines are what make pages bigger than 1×1 pixel.
	for _, line := range []string{"number_of_devices 2", "br_x 80.0", "br_y 100.0", "resolution 50.0"} {
		if !strings.Contains(string(conf), line+"\n") {
			t.Errorf("test.conf lacks %q", line)
		}
	}
}

func TestJamAfter(t *testing.T) {
	cmd := JamAfter(3)(context.Background(), "/usr/bin/scanimage", "-d", "test:0", "--batch-count=100")
	if !strings.HasSuffix(cmd.Path, "sh") || cmd.Args[1] != "-c" {
		t.Fatalf("JamAfter runs %q, want sh -c", cmd.Args)
	}
	script := cmd.Args[2]
	for _, want := range []string{"--batch-count=3", "--batch-start=4", "--batch-count=1", "SANE_STATUS_JAMMED"} {
		if !strings.Contains(script, want) {
			t.Errorf("script %q lacks %q", script, want)
		}
	}
	if got := cmd.Args[3:]; !slices.Equal(got, []string{"sh", "/usr/bin/scanimage", "-d", "test:0", "--batch-count=100"}) {
		t.Errorf("script arguments = %q", got)
	}
}
