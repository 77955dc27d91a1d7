package scannersim

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"hallgw/drivers/scanner"
)

// Device is the test backend's first device.
const Device = "test:0"

//go:embed test.conf
var testConf []byte

// Config writes a SANE configuration with only the test backend into dir
// (created if needed) and returns dir, for scanner.Opts.ConfigDir.
func Config(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("scannersim: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		return "", fmt.Errorf("scannersim: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.conf"), testConf, 0o644); err != nil {
		return "", fmt.Errorf("scannersim: %w", err)
	}
	return dir, nil
}

// Jam is the backend option that makes every read end in a paper jam.
func Jam() []string { return []string{"--read-return-value", "SANE_STATUS_JAMMED"} }

// Status is the backend option that makes every read end with the given
// SANE status, e.g. "SANE_STATUS_COVER_OPEN".
func Status(name string) []string { return []string{"--read-return-value", name} }

// Slow is the backend options that make the scanner pause delay
// microseconds (1000…200000) after each buffer of data, so that a page at
// a high resolution takes seconds.
func Slow(delayMicros int) []string {
	return []string{"--read-delay=yes", "--read-delay-duration=" + strconv.Itoa(delayMicros)}
}

// JamAfter returns a scanner.Commander for a feeder that scans n good pages
// and jams on the next: it runs the real program twice through sh, the
// second time from page n+1 with a jam, and exits with the jam's status.
// The file names and the output are those of one batch.
func JamAfter(n int) scanner.Commander {
	return func(ctx context.Context, name string, args ...string) *exec.Cmd {
		script := `prog=$1; shift
"$prog" "$@" --batch-count=` + strconv.Itoa(n) + ` || exit $?
exec "$prog" "$@" --batch-start=` + strconv.Itoa(n+1) + ` --batch-count=1 ` + strings.Join(Jam(), " ")
		return exec.CommandContext(ctx, "sh", append([]string{"-c", script, "sh", name}, args...)...)
	}
}
