package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"periph.io/x/conn/v3"
)

// Format is the file format scanimage writes.
type Format string

// Formats scanimage 1.1 writes. PDF puts all the pages of a batch in one
// file.
const (
	PNG  Format = "png"
	PDF  Format = "pdf"
	TIFF Format = "tiff"
	JPEG Format = "jpeg"
)

// Ext returns the file extension of the format, without the dot.
func (f Format) Ext() string {
	switch f {
	case TIFF:
		return "tif"
	case JPEG:
		return "jpg"
	}
	return string(f)
}

func (f Format) valid() bool { return f == PNG || f == PDF || f == TIFF || f == JPEG }

// Sources most backends name; a backend may use its own (ADF Duplex, …).
const (
	Flatbed = "Flatbed"
	ADF     = "Automatic Document Feeder"
)

// Commander makes the command that runs the scanner program. It must use
// exec.CommandContext with ctx (the Dev sets Cancel, WaitDelay, Env and
// the output buffers on the result).
type Commander func(ctx context.Context, name string, args ...string) *exec.Cmd

// Opts configures a Dev. A zero field takes its value from DefaultOpts.
type Opts struct {
	// Program is the scanimage executable, a name looked up on PATH or a
	// path.
	Program string
	// Device is the SANE device name (scanimage -L): required.
	Device string
	// ConfigDir, when set, is passed as SANE_CONFIG_DIR.
	ConfigDir string
	// Source is the backend's source option value (Flatbed, ADF, …);
	// empty leaves the device's default and passes no --source.
	Source string
	// Feeder scans until the feeder is empty (at most MaxPages); without it
	// a scan is one page.
	Feeder   bool
	MaxPages int
	// Resolution in dpi and Mode (Gray, Color, Lineart); 0 and "" leave
	// the device's default.
	Resolution int
	Mode       string
	Format     Format
	// Timeout bounds a whole scan; Grace is how long the program has to
	// stop after SIGTERM before it is killed.
	Timeout time.Duration
	Grace   time.Duration
	// Args are more backend options, appended last.
	Args []string
	// Command starts the program; nil means exec.CommandContext.
	Command Commander
}

// DefaultOpts are PNG pages, at most 100 per feeder batch, two minutes per
// scan.
var DefaultOpts = Opts{
	Program:  "scanimage",
	Format:   PNG,
	MaxPages: 100,
	Timeout:  2 * time.Minute,
	Grace:    3 * time.Second,
}

// maxOutput bounds the output of one scan kept for parsing.
const maxOutput = 256 << 10

// Dev is one scanner. Scan may be called from any goroutine; a Scan while
// another runs returns ErrInUse.
type Dev struct {
	o Opts

	mu   sync.Mutex
	busy bool

	haltMu sync.Mutex
	halt   chan struct{}
}

var _ conn.Resource = (*Dev)(nil)

// New returns a Dev. New runs nothing.
func New(o *Opts) (*Dev, error) {
	if o == nil {
		return nil, errors.New("scanner: no options (Device is required)")
	}
	opts := *o
	def := DefaultOpts
	if opts.Program == "" {
		opts.Program = def.Program
	}
	if opts.Format == "" {
		opts.Format = def.Format
	}
	if opts.MaxPages == 0 {
		opts.MaxPages = def.MaxPages
	}
	if opts.Timeout == 0 {
		opts.Timeout = def.Timeout
	}
	if opts.Grace == 0 {
		opts.Grace = def.Grace
	}
	if opts.Command == nil {
		opts.Command = exec.CommandContext
	}
	switch {
	case opts.Device == "" || strings.HasPrefix(opts.Device, "-"):
		return nil, fmt.Errorf("scanner: device %q: want a SANE device name", opts.Device)
	case !opts.Format.valid():
		return nil, fmt.Errorf("scanner: format %q: want png, pdf, tiff or jpeg", opts.Format)
	case opts.Resolution < 0:
		return nil, fmt.Errorf("scanner: resolution %d", opts.Resolution)
	case opts.MaxPages < 1 || opts.MaxPages > 10000:
		return nil, fmt.Errorf("scanner: MaxPages %d: want 1…10000", opts.MaxPages)
	case opts.Timeout < 0 || opts.Grace < 0:
		return nil, errors.New("scanner: negative timeout")
	}
	opts.Args = append([]string(nil), opts.Args...)
	return &Dev{o: opts, halt: make(chan struct{})}, nil
}

// String names the device.
func (d *Dev) String() string { return "scanner(" + d.o.Device + ")" }

// Opts returns the options in effect.
func (d *Dev) Opts() Opts { return d.o }

// Halt stops a scan in progress: it returns ErrHalted with the pages
// completed so far. Later scans work as before.
func (d *Dev) Halt() error {
	d.haltMu.Lock()
	close(d.halt)
	d.halt = make(chan struct{})
	d.haltMu.Unlock()
	return nil
}

// pattern is the batch file name pattern in dir; scanimage expands it with
// printf, so a '%' in dir is doubled.
func (d *Dev) pattern(dir string) string {
	return filepath.Join(strings.ReplaceAll(dir, "%", "%%"), "p%02d."+d.o.Format.Ext())
}

// Args returns scanimage's arguments for a scan into dir.
func (d *Dev) Args(dir string) []string {
	args := []string{"-d", d.o.Device}
	if d.o.Source != "" {
		args = append(args, "--source", d.o.Source)
	}
	if d.o.Resolution > 0 {
		args = append(args, "--resolution", strconv.Itoa(d.o.Resolution))
	}
	if d.o.Mode != "" {
		args = append(args, "--mode", d.o.Mode)
	}
	count := 1
	if d.o.Feeder {
		count = d.o.MaxPages
	}
	args = append(args, "--format="+string(d.o.Format), "--batch="+d.pattern(dir), "--batch-print",
		"--batch-count="+strconv.Itoa(count))
	return append(args, d.o.Args...)
}

// Page is a complete file of a scan.
type Page struct {
	Path string
	Size int64
}

// Result is what a scan produced.
type Result struct {
	// Files are the complete files in page order: one per page, or a
	// single PDF.
	Files []Page
	// Pages is the number of pages in Files.
	Pages  int
	Format Format
	// Report is scanimage's account of the batch.
	Report Report
}

// Scan scans into dir (created if needed) and returns the complete pages.
// On a jam, an empty feeder, an open cover or any other failure it returns
// the pages completed before it together with the error (a *StatusError
// for a SANE status, ErrTimeout, ErrHalted, the context's error); partial
// pages are removed.
func (d *Dev) Scan(ctx context.Context, dir string) (Result, error) {
	d.mu.Lock()
	if d.busy {
		d.mu.Unlock()
		return Result{}, ErrInUse
	}
	d.busy = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.busy = false
		d.mu.Unlock()
	}()
	res := Result{Format: d.o.Format}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, fmt.Errorf("scanner: %w", err)
	}

	d.haltMu.Lock()
	halt := d.halt
	d.haltMu.Unlock()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(d.o.Timeout, func() { cancel(ErrTimeout) })
	defer timer.Stop()
	go func() {
		select {
		case <-halt:
			cancel(ErrHalted)
		case <-runCtx.Done():
		}
	}()

	cmd := d.o.Command(runCtx, d.o.Program, d.Args(dir)...)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	if d.o.ConfigDir != "" {
		cmd.Env = append(cmd.Env, "SANE_CONFIG_DIR="+d.o.ConfigDir)
	}
	var stdout, stderr limitBuffer
	stderr.watch, stderr.seen = []byte(batchEnd), make(chan struct{})
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = d.o.Grace
	// A program still running Grace after it reported the end of the
	// batch (the test backend sometimes hangs on close) is stopped: the
	// pages are on disk.
	go func() {
		select {
		case <-stderr.seen:
		case <-runCtx.Done():
			return
		}
		t := time.NewTimer(d.o.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(errLingered)
		case <-runCtx.Done():
		}
	}()
	runErr := cmd.Run()

	res.Report = ParseOutput(stdout.bytes(), stderr.bytes())
	res.Files, res.Pages = d.collect(dir, res.Report)
	removeParts(dir)

	cause := context.Cause(runCtx)
	if runErr != nil && cause != nil && !errors.Is(cause, errLingered) {
		switch {
		case errors.Is(cause, ErrTimeout):
			return res, fmt.Errorf("%w after %v (%d page(s) kept)", ErrTimeout, d.o.Timeout, res.Pages)
		case errors.Is(cause, ErrHalted):
			return res, ErrHalted
		}
		return res, fmt.Errorf("scanner: %w", cause)
	}
	code := 0
	var exit *exec.ExitError
	switch {
	case runErr == nil:
	case errors.Is(cause, errLingered):
		code = -1
	case errors.As(runErr, &exit):
		code = exit.ExitCode()
	default:
		return res, fmt.Errorf("scanner: run %s: %w", filepath.Base(d.o.Program), runErr)
	}
	return res, d.verdict(res, code, exit)
}

// batchEnd is the line scanimage writes when a batch is over.
const batchEnd = "Batch terminated"

// errLingered ends a program that did not exit after its batch.
var errLingered = errors.New("scanner: program still running after the batch")

// verdict judges a finished batch from the exit code (-1: stopped after
// the batch) and the statuses scanimage printed. The printed status of
// the last page counts too: scanimage's signal handler exits 0 on a second
// SIGPIPE, which the test backend can cause right after a failed read.
func (d *Dev) verdict(res Result, code int, exit *exec.ExitError) error {
	failed := func(s Status) bool { return s != StatusGood && s != StatusEOF }
	st, msg := StatusGood, res.Report.Message()
	switch {
	case code > 1 && code <= int(StatusAccessDenied):
		st = Status(code)
	case failed(res.Report.Last):
		st = res.Report.Last
	case code != 0 && code != -1:
		return fmt.Errorf("scanner: %s exited with %s: %s", filepath.Base(d.o.Program), exit.ProcessState, msg)
	}
	switch {
	case st == StatusNoDocs && d.o.Feeder && res.Pages > 0:
		// With --batch-count, the feeder running empty before the count
		// ends the batch with status 7: the normal end.
		return nil
	case st != StatusGood:
		return &StatusError{Status: st, Msg: msg, Pages: res.Pages}
	case res.Pages == 0:
		return fmt.Errorf("scanner: no page scanned (%s)", msg)
	}
	return nil
}

// collect returns the complete, non-empty files of the batch in dir and
// their page count.
func (d *Dev) collect(dir string, r Report) ([]Page, int) {
	if d.o.Format == PDF {
		// One file for the batch, which --batch-print does not name.
		p := filepath.Join(dir, "p01.pdf")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() > 0 && r.Pages > 0 {
			return []Page{{Path: p, Size: st.Size()}}, r.Pages
		}
		return nil, 0
	}
	var out []Page
	seen := map[string]bool{}
	for _, f := range r.Files {
		// Only names of this batch in dir: never a path scanimage did not
		// write for us.
		if filepath.Dir(f) != filepath.Clean(dir) || !strings.HasPrefix(filepath.Base(f), "p") ||
			!strings.HasSuffix(f, "."+d.o.Format.Ext()) || seen[f] {
			continue
		}
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			continue
		}
		seen[f] = true
		out = append(out, Page{Path: f, Size: st.Size()})
	}
	return out, len(out)
}

// removeParts deletes the partial pages an interrupted batch leaves.
func removeParts(dir string) {
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	for _, p := range parts {
		os.Remove(p)
	}
}

// limitBuffer keeps the first maxOutput bytes written and drops the rest;
// seen is closed once watch has been written.
type limitBuffer struct {
	mu    sync.Mutex
	b     []byte
	watch []byte
	seen  chan struct{}
	fired bool
}

func (l *limitBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := max(len(l.b)-len(l.watch), 0)
	if room := maxOutput - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(len(p), room)]...)
	}
	if l.seen != nil && !l.fired && bytes.Contains(l.b[from:], l.watch) {
		l.fired = true
		close(l.seen)
	}
	return len(p), nil
}

func (l *limitBuffer) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b
}
