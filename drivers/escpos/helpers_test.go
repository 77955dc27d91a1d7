package escpos

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hexdump formats p as upper-case hex, 16 bytes a line.
func hexdump(p []byte) string {
	var sb strings.Builder
	for i, c := range p {
		switch {
		case i == 0:
		case i%16 == 0:
			sb.WriteByte('\n')
		default:
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	if len(p) > 0 {
		sb.WriteByte('\n')
	}
	return sb.String()
}

// unhex reads "1B 40 | 1C 26" style vectors: hex pairs, anything else
// ignored.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	digits := make([]byte, 0, 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
			if len(digits) != 0 {
				t.Fatalf("unhex: odd digit in %q", s)
			}
			continue
		}
		digits = append(digits, c)
		if len(digits) == 2 {
			var b byte
			fmt.Sscanf(string(digits), "%02X", &b)
			out = append(out, b)
			digits = digits[:0]
		}
	}
	if len(digits) != 0 {
		t.Fatalf("unhex: odd digit in %q", s)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// fakeDev plays a printer behind a go.bug.st/serial-like port: a read with
// nothing waiting returns (0, nil) after advancing the fake clock, as a
// port read timeout would. It answers DLE EOT n from status, or from
// script first when script has entries left.
type fakeDev struct {
	clock   *fakeClock
	status  [4]byte
	script  [][]byte // replies to the next queries, in order; then status
	in      []byte
	late    []byte // delivered once the clock reaches lateAt
	lateAt  time.Time
	written []byte
	queries int
	// onWrite runs after each write that is not a status query.
	onWrite  func(d *fakeDev, p []byte)
	writeErr error
	readErr  error
}

func newFakeDev() *fakeDev {
	return &fakeDev{
		clock:  &fakeClock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)},
		status: [4]byte{0x12, 0x12, 0x12, 0x12},
	}
}

func (d *fakeDev) Write(p []byte) (int, error) {
	if d.writeErr != nil {
		return 0, d.writeErr
	}
	d.written = append(d.written, p...)
	if len(p) == 3 && p[0] == 0x10 && p[1] == 0x04 && p[2] >= 1 && p[2] <= 4 {
		d.queries++
		if len(d.script) > 0 {
			d.in = append(d.in, d.script[0]...)
			d.script = d.script[1:]
		} else {
			d.in = append(d.in, d.status[p[2]-1])
		}
		return len(p), nil
	}
	if d.onWrite != nil {
		d.onWrite(d, p)
	}
	return len(p), nil
}

func (d *fakeDev) Read(p []byte) (int, error) {
	if d.readErr != nil {
		return 0, d.readErr
	}
	if d.late != nil && !d.clock.t.Before(d.lateAt) {
		d.in, d.late = append(d.in, d.late...), nil
	}
	if len(d.in) == 0 {
		d.clock.t = d.clock.t.Add(10 * time.Millisecond)
		return 0, nil
	}
	n := copy(p, d.in)
	d.in = d.in[n:]
	return n, nil
}

func (d *fakeDev) Name() string { return "/dev/fake0" }

// newFakePrinter returns a Printer on a fakeDev with the fake clock.
func newFakePrinter(t *testing.T, o Opts) (*Printer, *fakeDev) {
	t.Helper()
	d := newFakeDev()
	o.Now = d.clock.now
	p, err := New(d, &o)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// testTime is the issue time of the golden tickets.
var testTime = time.Date(2026, 11, 3, 9, 15, 2, 0, time.FixedZone("CST", 8*3600))
