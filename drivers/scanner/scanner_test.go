package scanner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		o    *Opts
		want string // "" = accepted
	}{
		{"nil", nil, "Device is required"},
		{"no device", &Opts{}, "device"},
		{"option as device", &Opts{Device: "-L"}, "device"},
		{"bad format", &Opts{Device: "test:0", Format: "bmp"}, "format"},
		{"negative resolution", &Opts{Device: "test:0", Resolution: -1}, "resolution"},
		{"too many pages", &Opts{Device: "test:0", MaxPages: 20000}, "MaxPages"},
		{"negative timeout", &Opts{Device: "test:0", Timeout: -1}, "timeout"},
		{"minimal", &Opts{Device: "test:0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New = %v, want a Dev", err)
				}
				if o := d.Opts(); o.Program != "scanimage" || o.Format != PNG || o.MaxPages != 100 || o.Timeout != DefaultOpts.Timeout {
					t.Errorf("New filled %+v, want DefaultOpts for zero fields", o)
				}
				if d.String() != "scanner(test:0)" {
					t.Errorf("String() = %q", d.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name string
		o    Opts
		dir  string
		want []string
	}{
		{"device defaults", Opts{Device: "test:0"}, "/d",
			[]string{"-d", "test:0", "--format=png", "--batch=/d/p%02d.png", "--batch-print", "--batch-count=1"}},
		{"flatbed options", Opts{Device: "test:0", Source: Flatbed, Resolution: 300, Mode: "Color", Format: JPEG}, "/d",
			[]string{"-d", "test:0", "--source", "Flatbed", "--resolution", "300", "--mode", "Color", "--format=jpeg",
				"--batch=/d/p%02d.jpg", "--batch-print", "--batch-count=1"}},
		{"feeder", Opts{Device: "fujitsu:fi-7160:1", Source: ADF, Feeder: true, MaxPages: 40, Format: TIFF}, "/d",
			[]string{"-d", "fujitsu:fi-7160:1", "--source", "Automatic Document Feeder", "--format=tiff",
				"--batch=/d/p%02d.tif", "--batch-print", "--batch-count=40"}},
		{"percent in dir and backend args", Opts{Device: "test:0", Format: PDF, Args: []string{"--test-picture", "Grid"}}, "/a%b",
			[]string{"-d", "test:0", "--format=pdf", "--batch=/a%%b/p%02d.pdf", "--batch-print", "--batch-count=1",
				"--test-picture", "Grid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(&tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Args(tt.dir); !slices.Equal(got, tt.want) {
				t.Errorf("Args(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The testdata files are scanimage 1.1.1's real output with the test
// backend.
func TestParseOutput(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		files   int
		pages   int
		last    Status
		scanned int
		msg     string
	}{
		{"feeder of ten pages", "adf10", 10, 10, StatusEOF, 10, "sane_start: Document feeder out of documents"},
		{"jam on the first page", "jam", 0, 0, StatusJammed, 1, "sane_read: Document feeder jammed"},
		{"empty feeder", "nodocs", 0, 0, StatusNoDocs, 1, "sane_read: Document feeder out of documents"},
		{"no such device", "nodevice", 0, 0, StatusGood, -1, "open of device test:9 failed: Invalid argument"},
		{"pdf of three pages", "pdf3", 0, 3, StatusEOF, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ParseOutput(readTestdata(t, tt.out+".stdout"), readTestdata(t, tt.out+".stderr"))
			if len(r.Files) != tt.files || r.Pages != tt.pages || r.Last != tt.last || r.Scanned != tt.scanned || r.Message() != tt.msg {
				t.Errorf("ParseOutput = %d files, %d pages, last %v, scanned %d, message %q; want %d, %d, %v, %d, %q",
					len(r.Files), r.Pages, r.Last, r.Scanned, r.Message(), tt.files, tt.pages, tt.last, tt.scanned, tt.msg)
			}
		})
	}
	r := ParseOutput(readTestdata(t, "adf10.stdout"), nil)
	if r.Files[0] != "/data/cases/.staging/w1/p01.png" || r.Files[9] != "/data/cases/.staging/w1/p10.png" {
		t.Errorf("files = %q, want p01…p10 in order", r.Files)
	}
}

func TestParseOutputGarbage(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		last   Status
		msgs   int
	}{
		{"crlf and tabs", "Scanned page 1. (scanner status = 5)\r\n\tscanimage: x\x01y\r\n", StatusEOF, 1},
		{"bad status", "Scanned page 1. (scanner status = five)\n", StatusGood, 0},
		{"invalid utf-8", "\xff\xfe scanimage: \xc0\n", StatusGood, 1},
		{"message flood", strings.Repeat("libpng error: x\n", 1000), StatusGood, maxMessages},
		{"long line", strings.Repeat("a", 10000), StatusGood, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ParseOutput(nil, []byte(tt.stderr))
			if r.Last != tt.last || len(r.Messages) != tt.msgs {
				t.Fatalf("ParseOutput = last %v, %d messages; want %v, %d", r.Last, len(r.Messages), tt.last, tt.msgs)
			}
			for _, m := range r.Messages {
				if len(m) > maxLine*3 || strings.ContainsAny(m, "\x00\x01\r\n\t") {
					t.Errorf("message %q not cleaned", m)
				}
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		st   Status
		want error
	}{
		{StatusJammed, ErrJammed}, {StatusNoDocs, ErrNoDocs}, {StatusCoverOpen, ErrCoverOpen}, {StatusDeviceBusy, ErrDeviceBusy},
	}
	for _, tt := range tests {
		t.Run(tt.st.String(), func(t *testing.T) {
			err := error(&StatusError{Status: tt.st, Msg: "sane_read: x", Pages: 2})
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
			for _, other := range []error{ErrJammed, ErrNoDocs, ErrCoverOpen, ErrDeviceBusy, ErrTimeout} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("errors.Is(%v, %v) = true", err, other)
				}
			}
			if !strings.HasPrefix(err.Error(), "scanner: ") || !strings.Contains(err.Error(), "2 page(s)") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
	if Status(42).String() != "status 42" || StatusJammed.String() != "document feeder jammed" {
		t.Errorf("Status strings = %q, %q", Status(42), StatusJammed)
	}
}

func TestVerdict(t *testing.T) {
	ok := Report{Last: StatusEOF, Scanned: 1}
	tests := []struct {
		name   string
		feeder bool
		code   int
		r      Report
		pages  int
		want   error  // nil: success
		substr string // for errors without a sentinel
	}{
		{"clean page", false, 0, ok, 1, nil, ""},
		{"feeder emptied", true, 7, ok, 10, nil, ""},
		{"feeder empty at once", true, 7, Report{Last: StatusNoDocs}, 0, ErrNoDocs, ""},
		{"jam exit code", true, 6, Report{Last: StatusJammed}, 3, ErrJammed, ""},
		{"jam but exit 0 (signal handler)", true, 0, Report{Last: StatusJammed}, 3, ErrJammed, ""},
		{"jam, stopped after the batch", true, -1, Report{Last: StatusJammed}, 2, ErrJammed, ""},
		{"lingered after a good batch", false, -1, ok, 1, nil, ""},
		{"cover open", false, 8, Report{Last: StatusCoverOpen}, 0, ErrCoverOpen, ""},
		{"generic failure", false, 1, Report{Messages: []string{"open of device x failed"}}, 0, nil, "open of device x failed"},
		{"exit 0, nothing", false, 0, Report{}, 0, nil, "no page scanned"},
		{"flatbed out of documents", false, 7, Report{Last: StatusNoDocs}, 0, ErrNoDocs, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(&Opts{Device: "test:0", Feeder: tt.feeder})
			if err != nil {
				t.Fatal(err)
			}
			var exit *exec.ExitError
			if tt.code > 0 {
				exit = exitError(t, tt.code)
			}
			got := d.verdict(Result{Pages: tt.pages, Report: tt.r}, tt.code, exit)
			switch {
			case tt.want != nil && !errors.Is(got, tt.want):
				t.Errorf("verdict = %v, want %v", got, tt.want)
			case tt.want == nil && tt.substr == "" && got != nil:
				t.Errorf("verdict = %v, want success", got)
			case tt.substr != "" && (got == nil || !strings.Contains(got.Error(), tt.substr)):
				t.Errorf("verdict = %v, want an error with %q", got, tt.substr)
			}
		})
	}
}

// exitError returns a real *exec.ExitError with the code.
func exitError(t *testing.T, code int) *exec.ExitError {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("sh exit %d gave %v", code, err)
	}
	return exit
}

// TestLingering: a program that writes its page and the end of the batch,
// then never exits, is stopped after the grace period; the page counts.
func TestLingering(t *testing.T) {
	fake := func(ctx context.Context, _ string, args ...string) *exec.Cmd {
		dir := filepath.Dir(strings.TrimPrefix(args[slices.IndexFunc(args, func(a string) bool {
			return strings.HasPrefix(a, "--batch=")
		})], "--batch="))
		script := `printf '\x89PNG' > "$1/p01.png"; echo "$1/p01.png"; echo "Scanned page 1. (scanner status = 5)" >&2; ` +
			`echo "Batch terminated, 1 page scanned" >&2; exec sleep 30`
		return exec.CommandContext(ctx, "sh", "-c", script, "sh", dir)
	}
	d, err := New(&Opts{Device: "test:0", Grace: 100 * time.Millisecond, Command: fake})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := d.Scan(ctx, t.TempDir())
	if err != nil || r.Pages != 1 {
		t.Fatalf("Scan = %d pages, %v; want the page and no error", r.Pages, err)
	}
}
