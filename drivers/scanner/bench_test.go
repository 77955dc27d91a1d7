package scanner_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"hallgw/drivers/scanner"
)

// BenchmarkScanimageDirect is the baseline: running scanimage for one
// flatbed page with the same arguments, without the driver.
func BenchmarkScanimageDirect(b *testing.B) {
	d := newDev(b, scanner.Opts{Resolution: 100})
	dir := b.TempDir()
	args := d.Args(dir)
	for b.Loop() {
		cmd := exec.Command(d.Opts().Program, args...)
		cmd.Env = append(os.Environ(), "SANE_CONFIG_DIR="+d.Opts().ConfigDir)
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "p01.png"))
	}
}

// BenchmarkScan is the same page through the driver: output capture,
// parsing, file checks and clean-up.
func BenchmarkScan(b *testing.B) {
	d := newDev(b, scanner.Opts{Resolution: 100})
	dir := b.TempDir()
	ctx := context.Background()
	for b.Loop() {
		r, err := d.Scan(ctx, dir)
		if err != nil || r.Pages != 1 {
			b.Fatal(err)
		}
		os.Remove(r.Files[0].Path)
	}
}
