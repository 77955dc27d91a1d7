package scanner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/scanner"
	"hallgw/drivers/scanner/scannersim"
	"hallgw/firmware/testkit"
)

// newDev returns a Dev on SANE's test backend with a hermetic
// configuration, run by the real scanimage.
func newDev(t testing.TB, o scanner.Opts) *scanner.Dev {
	t.Helper()
	o.Program = testkit.Tool(t, "scanimage")
	cfg, err := scannersim.Config(filepath.Join(t.TempDir(), "sane"))
	if err != nil {
		t.Fatal(err)
	}
	o.ConfigDir = cfg
	if o.Device == "" {
		o.Device = scannersim.Device
	}
	d, err := scanner.New(&o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func scan(t *testing.T, d *scanner.Dev, dir string) (scanner.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return d.Scan(ctx, dir)
}

var magic = map[scanner.Format][]byte{
	scanner.PNG:  []byte("\x89PNG\r\n\x1a\n"),
	scanner.PDF:  []byte("%PDF-"),
	scanner.TIFF: []byte("MM\x00*"),
	scanner.JPEG: []byte("\xff\xd8\xff"),
}

// checkFiles verifies that every file is complete and of the format, and
// that nothing else (no .part) is left in dir.
func checkFiles(t *testing.T, r scanner.Result, dir string) {
	t.Helper()
	for i, f := range r.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil || int64(len(b)) != f.Size || !bytes.HasPrefix(b, magic[r.Format]) {
			t.Errorf("file %d %s: %d bytes (%v), want a %s of %d bytes", i, f.Path, len(b), err, r.Format, f.Size)
		}
		if r.Format != scanner.PDF {
			if want := filepath.Join(dir, "p"+pad(i+1)+"."+r.Format.Ext()); f.Path != want {
				t.Errorf("file %d is %s, want %s", i, f.Path, want)
			}
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(r.Files) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %q, want exactly the %d files", names, len(r.Files))
	}
}

func pad(n int) string {
	s := "0" + string(rune('0'+n%10))
	if n >= 10 {
		s = string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	return s
}

func TestScanSANE(t *testing.T) {
	tests := []struct {
		name  string
		o     scanner.Opts
		pages int
		files int
	}{
		{"flatbed png", scanner.Opts{Source: scanner.Flatbed, Resolution: 100}, 1, 1},
		{"device default source", scanner.Opts{}, 1, 1},
		{"feeder until empty", scanner.Opts{Source: scanner.ADF, Feeder: true}, 10, 10},
		{"feeder bounded", scanner.Opts{Source: scanner.ADF, Feeder: true, MaxPages: 3}, 3, 3},
		{"feeder tiff colour", scanner.Opts{Source: scanner.ADF, Feeder: true, MaxPages: 2, Format: scanner.TIFF, Mode: "Color"}, 2, 2},
		{"flatbed jpeg", scanner.Opts{Format: scanner.JPEG, Args: []string{"--test-picture", "Grid"}}, 1, 1},
		{"feeder pdf", scanner.Opts{Source: scanner.ADF, Feeder: true, MaxPages: 4, Format: scanner.PDF}, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDev(t, tt.o)
			dir := filepath.Join(t.TempDir(), "batch")
			r, err := scan(t, d, dir)
			if err != nil {
				t.Fatalf("Scan = %v (%q)", err, r.Report.Messages)
			}
			if r.Pages != tt.pages || len(r.Files) != tt.files {
				t.Fatalf("Scan = %d pages in %d files, want %d in %d", r.Pages, len(r.Files), tt.pages, tt.files)
			}
			checkFiles(t, r, dir)
		})
	}
}

func TestScanFailuresSANE(t *testing.T) {
	tests := []struct {
		name    string
		o       scanner.Opts
		want    error
		pages   int
		wantMsg string
	}{
		{"jam on the first page", scanner.Opts{Source: scanner.ADF, Feeder: true, Args: scannersim.Jam()}, scanner.ErrJammed, 0, "jammed"},
		{"jam after three pages", scanner.Opts{Source: scanner.ADF, Feeder: true, Command: scannersim.JamAfter(3)}, scanner.ErrJammed, 3, "jammed"},
		{"flatbed jam", scanner.Opts{Args: scannersim.Jam()}, scanner.ErrJammed, 0, "jammed"},
		{"empty feeder", scanner.Opts{Source: scanner.ADF, Feeder: true, Args: scannersim.Status("SANE_STATUS_NO_DOCS")}, scanner.ErrNoDocs, 0, "out of documents"},
		{"cover open", scanner.Opts{Args: scannersim.Status("SANE_STATUS_COVER_OPEN")}, scanner.ErrCoverOpen, 0, "cover"},
		{"device busy", scanner.Opts{Args: scannersim.Status("SANE_STATUS_DEVICE_BUSY")}, scanner.ErrDeviceBusy, 0, "busy"},
		{"no such device", scanner.Opts{Device: "test:9"}, nil, 0, "open of device test:9 failed"},
		{"unknown option", scanner.Opts{Args: []string{"--no-such-option"}}, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDev(t, tt.o)
			dir := filepath.Join(t.TempDir(), "batch")
			r, err := scan(t, d, dir)
			if err == nil {
				t.Fatalf("Scan = %d pages, no error", r.Pages)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Scan error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "scanner: ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Scan error = %q, want scanner: … %s", err, tt.wantMsg)
			}
			var se *scanner.StatusError
			if tt.want != nil && (!errors.As(err, &se) || se.Pages != tt.pages) {
				t.Errorf("Scan error = %#v, want a *StatusError with %d pages", err, tt.pages)
			}
			if r.Pages != tt.pages {
				t.Fatalf("Scan kept %d pages, want %d", r.Pages, tt.pages)
			}
			checkFiles(t, r, dir)
		})
	}
}

func TestScanMissingProgram(t *testing.T) {
	d, err := scanner.New(&scanner.Opts{Device: "test:0", Program: filepath.Join(t.TempDir(), "no-scanimage")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scan(t, d, t.TempDir()); err == nil || !strings.Contains(err.Error(), "scanner: run no-scanimage") {
		t.Fatalf("Scan = %v, want a run error", err)
	}
}

// slowOpts make a page take about 15 s: 600 dpi with a 200 ms pause after
// every buffer.
func slowOpts() scanner.Opts {
	return scanner.Opts{Resolution: 600, Args: scannersim.Slow(200000)}
}

func TestScanTimeoutSANE(t *testing.T) {
	o := slowOpts()
	o.Timeout, o.Grace = 300*time.Millisecond, 2*time.Second
	d := newDev(t, o)
	dir := t.TempDir()
	r, err := scan(t, d, dir)
	if !errors.Is(err, scanner.ErrTimeout) {
		t.Fatalf("Scan = %v, want ErrTimeout", err)
	}
	if r.Pages != 0 {
		t.Errorf("Scan kept %d pages of an interrupted page", r.Pages)
	}
	checkFiles(t, r, dir) // the .part is gone
}

func TestScanHaltAndInUseSANE(t *testing.T) {
	d := newDev(t, slowOpts())
	dir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		_, err := d.Scan(context.Background(), dir)
		done <- err
	}()
	// Once the first scan writes its page, a second one is refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "p01.png.part")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first scan never started its page")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := d.Scan(context.Background(), t.TempDir()); !errors.Is(err, scanner.ErrInUse) {
		t.Fatalf("second Scan = %v, want ErrInUse while the first runs", err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, scanner.ErrHalted) {
			t.Fatalf("halted Scan = %v, want ErrHalted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Scan did not end after Halt")
	}
}

func TestScanContextSANE(t *testing.T) {
	d := newDev(t, slowOpts())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := d.Scan(ctx, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan with a cancelled context = %v, want context.Canceled", err)
	}
}
