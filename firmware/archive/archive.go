package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/scanner"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Device is a scanner: *scanner.Dev.
type Device interface {
	Scan(ctx context.Context, dir string) (scanner.Result, error)
	String() string
}

// Journal stores business records durably: *journal.Journal.
type Journal interface {
	Append(ctx context.Context, recs ...journal.Record) (uint64, error)
}

// HallView reads the hall: *gateway.Gateway. The archive takes the staff
// member signed in at the window from it.
type HallView interface {
	View(ctx context.Context, fn func(h *hall.Hall)) error
}

// Journal kinds written by the archive.
const (
	KindScan      = "scan"           // a batch filed (ScanRecord)
	KindDelivered = "scan_delivered" // a batch's files all delivered (DeliveredRecord)
	KindAlarm     = "alarm"          // archive_full, archive_overdue (AlarmRecord)
)

// HealthID is the archive's device in the health registry.
const HealthID = "archive"

// ScannerHealthID returns the health id of a window's scanner.
func ScannerHealthID(window string) string { return "window-" + window + "/scanner" }

// Opts configures an Archive.
type Opts struct {
	// Root is the archive directory, <data>/cases.
	Root      string
	GatewayID string
	// Devices are the scanners by window id.
	Devices map[string]Device
	Journal Journal
	// Hall, when set, names the staff member signed in at the window.
	Hall HallView
	// Transport, when set, delivers the files; SetTransport may set it
	// later.
	Transport Transport
	// Health, when set, receives the archive's and the scanners' health.
	Health *health.Registry
	// MaxBytes bounds the files waiting for delivery; MinFree is the free
	// space below which scans are refused. Free measures the free space of
	// the file system holding a directory; nil means statfs.
	MaxBytes int64
	MinFree  int64
	Free     func(dir string) (uint64, error)
	// ChunkSize is the upload chunk (≤ MaxChunk); AckTimeout bounds the
	// wait for each acknowledgement.
	ChunkSize  int
	AckTimeout time.Duration
	// DeliverWithin is the delivery deadline after a scan; 0 means one
	// calendar month.
	DeliverWithin time.Duration
	// RetryMin and RetryMax bound the backoff between failed uploads.
	RetryMin, RetryMax time.Duration
	// CheckEvery is the period of the overdue check; 0 means an hour.
	CheckEvery time.Duration
	// Now tells the time (the daemon's clock); Clock times retries and
	// checks. nil means the real ones.
	Now    func() time.Time
	Clock  clockwork.Clock
	Logger *slog.Logger
	// OnScan, when set, is told the outcome of every scan (the window's
	// display shows Notice of it). It must not block.
	OnScan func(window string, r ScanResult, err error)
}

// Defaults of Opts' zero fields.
const (
	DefaultMaxBytes   = 2 << 30
	DefaultMinFree    = 256 << 20
	DefaultChunkSize  = 256 << 10
	DefaultAckTimeout = 30 * time.Second
)

// Errors callers branch on.
var (
	// ErrFull refuses a scan while the undelivered files exceed the bound
	// or the disk is nearly full.
	ErrFull = errors.New("archive: storage full, scans refused until files are delivered")
	// ErrNoScanner is returned for a window without a scanner.
	ErrNoScanner = errors.New("archive: no scanner at this window")
	// ErrBusy is returned while the window's scanner is scanning.
	ErrBusy = errors.New("archive: the window's scanner is busy")
	// ErrBadCase refuses a case number that cannot name a directory.
	ErrBadCase = errors.New("archive: bad case number")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("archive: closed")
)

// Archive files scans under case numbers and delivers them. Its methods
// are safe for concurrent use.
type Archive struct {
	o   Opts
	log *slog.Logger

	mu          sync.Mutex
	cases       map[string]*Manifest
	used        int64             // bytes of files waiting for delivery
	current     map[string]string // window → current case
	busy        map[string]bool   // window → scanning
	journaling  map[*Batch]bool   // batches whose scan record is being written
	provisional map[string]bool   // provisional ids made by this process
	transport   Transport
	full        bool // over a bound: scans are refused
	fullAlarmed bool // the archive_full alarm of this episode was journaled
	fullReason  string
	overdue     []Overdue
	lastErr     string
	lastOK      time.Time
	closed      bool
	onScan      func(window string, r ScanResult, err error)

	wake chan struct{}
}

// Open loads the archive in o.Root, creating it if needed: interrupted
// scans are cleared, batches filed but not journaled before a crash are
// journaled now, cases delivered in full are removed.
func Open(ctx context.Context, o Opts) (*Archive, error) {
	if o.Root == "" || o.Journal == nil {
		return nil, errors.New("archive: Root and Journal are required")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MinFree == 0 {
		o.MinFree = DefaultMinFree
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.RetryMin == 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = time.Hour
	}
	switch {
	case o.ChunkSize < 1 || o.ChunkSize > MaxChunk:
		return nil, fmt.Errorf("archive: chunk size %d: want 1…%d", o.ChunkSize, MaxChunk)
	case o.MaxBytes < 0 || o.MinFree < 0 || o.AckTimeout < 0 || o.DeliverWithin < 0 || o.RetryMin < 0 || o.RetryMax < o.RetryMin:
		return nil, errors.New("archive: negative bound or timeout")
	}
	if o.Free == nil {
		o.Free = statfsFree
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Archive{
		o: o, log: o.Logger, cases: map[string]*Manifest{}, current: map[string]string{},
		busy: map[string]bool{}, journaling: map[*Batch]bool{}, provisional: map[string]bool{}, transport: o.Transport,
		wake: make(chan struct{}, 1), onScan: o.OnScan,
	}
	if err := os.MkdirAll(o.Root, 0o750); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if err := a.load(); err != nil {
		return nil, err
	}
	a.retryJournal(ctx)
	a.updateHealth()
	return a, nil
}

func statfsFree(dir string) (uint64, error) {
	d := health.Disk(dir)
	if d.Err != "" {
		return 0, errors.New(d.Err)
	}
	return d.FreeBytes, nil
}

const stagingDir = ".staging"

// load reads every case directory.
func (a *Archive) load() error {
	if err := os.RemoveAll(filepath.Join(a.o.Root, stagingDir)); err != nil {
		return fmt.Errorf("archive: clear interrupted scans: %w", err)
	}
	ents, err := os.ReadDir(a.o.Root)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || !ValidCase(e.Name()) {
			continue
		}
		dir := filepath.Join(a.o.Root, e.Name())
		m, err := readManifest(dir)
		if err != nil {
			// Kept as it is for a person to look at; never deleted.
			a.log.Error("case directory skipped: unreadable manifest", "case", e.Name(), "err", err)
			continue
		}
		if m.Case != e.Name() {
			a.log.Error("case directory skipped: manifest of another case", "dir", e.Name(), "case", m.Case)
			continue
		}
		changed := false
		kept := m.Batches[:0]
		for _, b := range m.Batches {
			if b.Seq == 0 {
				// Filed before a crash, never journaled: keep the files
				// that made it into the directory.
				files := b.Files[:0]
				for _, f := range b.Files {
					if _, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
						files = append(files, f)
					} else {
						changed = true
					}
				}
				b.Files = files
				if len(files) == 0 {
					changed = true
					continue
				}
			}
			for _, f := range b.Files {
				if !f.pending() {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, f.Name)); err != nil {
					a.log.Error("archived file missing", "case", m.Case, "file", f.Name, "err", err)
					continue
				}
				a.used += f.Size
			}
			kept = append(kept, b)
		}
		m.Batches = kept
		if done(m) {
			if err := os.RemoveAll(dir); err != nil {
				a.log.Warn("remove delivered case", "case", m.Case, "err", err)
			}
			continue
		}
		if changed {
			if err := writeManifest(dir, m); err != nil {
				return err
			}
		}
		a.cases[m.Case] = m
	}
	return nil
}

// done reports whether every batch of m was delivered (or m is empty).
func done(m *Manifest) bool {
	for _, b := range m.Batches {
		if b.Delivered.IsZero() {
			return false
		}
	}
	return true
}

// String names the archive.
func (a *Archive) String() string { return "archive(" + a.o.Root + ")" }

// SetTransport sets (or, with nil, removes) the link to the platform and
// wakes the uploader.
func (a *Archive) SetTransport(t Transport) {
	a.mu.Lock()
	a.transport = t
	a.mu.Unlock()
	a.Wake()
}

// SetOnScan sets the hook told the outcome of every scan (Opts.OnScan).
func (a *Archive) SetOnScan(fn func(window string, r ScanResult, err error)) {
	a.mu.Lock()
	a.onScan = fn
	a.mu.Unlock()
}

// Trigger starts a scan at window under its current case and returns at
// once; the outcome goes to the OnScan hook. The foot pedal and the
// window's scan key use it.
func (a *Archive) Trigger(ctx context.Context, window string) {
	go func() {
		if _, err := a.Scan(ctx, window, ""); err != nil {
			a.log.Info("scan", "window", window, "err", err)
		}
	}()
}

// Observe keeps the windows' current cases in step with the hall: a call,
// a finished ticket, or a window opening or closing ends the case at that
// window.
func (a *Archive) Observe(ev hall.Event) {
	switch ev.Type {
	case hall.EvTicketCalled, hall.EvTicketFinished, hall.EvWindowOpened, hall.EvWindowClosed:
		if ev.Window != "" {
			a.ClearCase(ev.Window)
		}
	}
}

// Wake makes the uploader look for work now.
func (a *Archive) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// SetCase makes caseNumber the window's current case: scans without a
// case number go under it until ClearCase or the next SetCase.
func (a *Archive) SetCase(window, caseNumber string) error {
	if !ValidCase(caseNumber) {
		return fmt.Errorf("%w: want 1–64 of A–Z a–z 0–9 . _ -", ErrBadCase)
	}
	a.mu.Lock()
	a.current[window] = caseNumber
	a.mu.Unlock()
	return nil
}

// Case returns the window's current case, "" when none.
func (a *Archive) Case(window string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current[window]
}

// ClearCase forgets the window's current case (the next citizen is
// called).
func (a *Archive) ClearCase(window string) {
	a.mu.Lock()
	delete(a.current, window)
	a.mu.Unlock()
}

// ScanResult is a filed scan.
type ScanResult struct {
	Case        string
	Provisional bool
	Batch       string // "" when nothing was filed
	Window      string
	Staff       string
	Pages       int
	Files       []FileRecord
	Seq         uint64 // journal seq of the scan record
}

// FileRecord describes a filed file in journal records.
type FileRecord struct {
	Name   string `json:"name"`
	Pages  int    `json:"pages"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ScanRecord is the JSON of a KindScan journal record. It holds no
// personal data: case numbers, window and staff ids are not.
type ScanRecord struct {
	V           int          `json:"v"`
	Case        string       `json:"case"`
	Provisional bool         `json:"provisional,omitempty"`
	Batch       string       `json:"batch"`
	At          time.Time    `json:"at"`
	Window      string       `json:"window"`
	Staff       string       `json:"staff,omitempty"`
	Pages       int          `json:"pages"`
	Format      string       `json:"format"`
	Status      string       `json:"status"`
	Files       []FileRecord `json:"files"`
	// Recovered marks a batch journaled at start-up: the gateway stopped
	// between filing and journaling it.
	Recovered bool `json:"recovered,omitempty"`
}

// Scan scans at window and files the pages under caseNumber, or the
// window's current case, or a new provisional id. It returns ErrNoScanner,
// ErrBusy, ErrBadCase or ErrFull without scanning. A scan that stops early
// (a jam: scanner.ErrJammed) files the pages scanned before it and returns
// them with the error.
func (a *Archive) Scan(ctx context.Context, window, caseNumber string) (res ScanResult, err error) {
	res.Window = window
	defer func() {
		a.mu.Lock()
		fn := a.onScan
		a.mu.Unlock()
		if fn != nil {
			fn(window, res, err)
		}
	}()
	dev := a.o.Devices[window]
	if dev == nil {
		return res, ErrNoScanner
	}
	if caseNumber != "" && !ValidCase(caseNumber) {
		return res, fmt.Errorf("%w: want 1–64 of A–Z a–z 0–9 . _ -", ErrBadCase)
	}
	now := a.o.Now()
	a.mu.Lock()
	switch {
	case a.closed:
		a.mu.Unlock()
		return res, ErrClosed
	case a.busy[window]:
		a.mu.Unlock()
		return res, ErrBusy
	}
	if err := a.roomLocked(); err != nil {
		a.mu.Unlock()
		a.alarmFull(ctx)
		return res, err
	}
	switch {
	case caseNumber != "":
		res.Case = caseNumber
	case a.current[window] != "":
		res.Case = a.current[window]
	default:
		res.Case = provisionalID(window, now)
		a.current[window] = res.Case
		a.provisional[res.Case] = true
	}
	res.Provisional = a.provisional[res.Case]
	if m := a.cases[res.Case]; m != nil {
		res.Provisional = m.Provisional
	}
	a.busy[window] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.busy, window)
		a.mu.Unlock()
	}()

	res.Staff = a.staffOf(ctx, window)
	staging := filepath.Join(a.o.Root, stagingDir, window+"-"+strconv.FormatInt(now.UnixNano(), 10))
	defer os.RemoveAll(staging)
	scanned, scanErr := dev.Scan(ctx, staging)
	a.scannerHealth(window, dev, scanErr)
	if scanned.Pages == 0 {
		if scanErr == nil {
			scanErr = errors.New("archive: the scanner gave no page")
		}
		return res, scanErr
	}
	b, m, err := a.file(res, now, scanned, scanErr)
	if err != nil {
		return res, err
	}
	res.Batch, res.Pages = b.ID, b.Pages
	for _, f := range b.Files {
		res.Files = append(res.Files, FileRecord{Name: f.Name, Pages: f.Pages, Size: f.Size, SHA256: f.SHA256})
	}
	if seq, err := a.journalScan(ctx, m, b, false); err != nil {
		a.log.Error("scan filed but not journaled yet; retried later", "case", res.Case, "batch", b.ID, "err", err)
	} else {
		res.Seq = seq
	}
	a.Wake()
	a.mu.Lock()
	over := a.roomLocked() != nil
	a.mu.Unlock()
	if over {
		a.alarmFull(ctx) // this scan is kept; the next ones are refused
	} else {
		a.updateHealth()
	}
	if scanErr != nil {
		return res, fmt.Errorf("archive: %d page(s) filed under %s: %w", res.Pages, res.Case, scanErr)
	}
	return res, nil
}

// roomLocked refuses a scan when the archive is over its bounds, and
// notes when it has room again.
func (a *Archive) roomLocked() error {
	reason := ""
	if a.used >= a.o.MaxBytes {
		reason = fmt.Sprintf("%d bytes wait for delivery, bound %d", a.used, a.o.MaxBytes)
	} else if free, err := a.o.Free(a.o.Root); err != nil {
		a.log.Warn("archive free space unknown", "err", err)
	} else if free < uint64(a.o.MinFree) {
		reason = fmt.Sprintf("%d bytes free on the data disk, want at least %d", free, a.o.MinFree)
	}
	if reason != "" {
		a.full, a.fullReason = true, reason
		return fmt.Errorf("%w: %s", ErrFull, reason)
	}
	if a.full {
		a.full, a.fullAlarmed, a.fullReason = false, false, ""
		a.log.Info("archive has room again", "used", a.used, "max", a.o.MaxBytes)
	}
	return nil
}

const provisionalPrefix = "TMP-"

// provisionalID names a case scanned without a number.
func provisionalID(window string, at time.Time) string {
	if len(window) > 40 {
		window = window[:40]
	}
	return provisionalPrefix + window + "-" + at.UTC().Format("20060102T150405")
}

func (a *Archive) staffOf(ctx context.Context, window string) string {
	if a.o.Hall == nil {
		return ""
	}
	staff := ""
	err := a.o.Hall.View(ctx, func(h *hall.Hall) {
		if w, ok := h.Window(window); ok {
			staff = w.Staff
		}
	})
	if err != nil {
		a.log.Warn("archive: window staff unknown", "window", window, "err", err)
	}
	return staff
}

// file moves the scanned pages into the case directory under the new
// batch and records them in the manifest.
func (a *Archive) file(res ScanResult, at time.Time, scanned scanner.Result, scanErr error) (*Batch, *Manifest, error) {
	type page struct {
		src   string
		size  int64
		sum   string
		pages int
	}
	var pages []page
	for _, f := range scanned.Files {
		sum, size, err := hashFile(f.Path)
		if err != nil {
			return nil, nil, err
		}
		pages = append(pages, page{src: f.Path, size: size, sum: sum, pages: 1})
	}
	if scanned.Format == scanner.PDF && len(pages) == 1 {
		pages[0].pages = scanned.Pages
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	dir := filepath.Join(a.o.Root, res.Case)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("archive: %w", err)
	}
	m := a.cases[res.Case]
	if m == nil {
		m = &Manifest{V: 1, Case: res.Case, Provisional: res.Provisional, Created: at.UTC()}
	}
	b := &Batch{ID: batchID(m, at), At: at.UTC(), Window: res.Window, Staff: res.Staff,
		Format: string(scanned.Format), Pages: scanned.Pages, Status: statusOf(scanErr)}
	ext := scanned.Format.Ext()
	for i, p := range pages {
		name := fmt.Sprintf("%s-p%02d.%s", b.ID, i+1, ext)
		if scanned.Format == scanner.PDF {
			name = b.ID + ".pdf"
		}
		b.Files = append(b.Files, &File{Name: name, Pages: p.pages, Size: p.size, SHA256: p.sum})
	}
	// The manifest first: after a crash, a batch whose files did not all
	// arrive is trimmed to those that did (load).
	m.Batches = append(m.Batches, b)
	a.journaling[b] = true
	undo := func(err error) (*Batch, *Manifest, error) {
		m.Batches = m.Batches[:len(m.Batches)-1]
		delete(a.journaling, b)
		for _, f := range b.Files {
			os.Remove(filepath.Join(dir, f.Name))
		}
		if len(m.Batches) > 0 {
			writeManifest(dir, m)
		} else {
			os.RemoveAll(dir)
		}
		return nil, nil, err
	}
	if err := writeManifest(dir, m); err != nil {
		return undo(err)
	}
	for i, p := range pages {
		if err := os.Rename(p.src, filepath.Join(dir, b.Files[i].Name)); err != nil {
			return undo(fmt.Errorf("archive: file page: %w", err))
		}
	}
	if err := syncDir(dir); err != nil {
		return undo(fmt.Errorf("archive: %w", err))
	}
	a.cases[m.Case] = m
	for _, f := range b.Files {
		a.used += f.Size
	}
	return b, m, nil
}

// batchID is the batch's UTC time, made unique within the case.
func batchID(m *Manifest, at time.Time) string {
	base := at.UTC().Format("20060102T150405Z")
	taken := map[string]bool{}
	for _, b := range m.Batches {
		taken[b.ID] = true
	}
	id := base
	for n := 2; taken[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	return id
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("archive: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// statusOf names why a scan stopped.
func statusOf(err error) string {
	var se *scanner.StatusError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, scanner.ErrTimeout):
		return "timeout"
	case errors.Is(err, scanner.ErrHalted), errors.Is(err, context.Canceled):
		return "stopped"
	case errors.As(err, &se):
		switch se.Status {
		case scanner.StatusJammed:
			return "jammed"
		case scanner.StatusNoDocs:
			return "no_documents"
		case scanner.StatusCoverOpen:
			return "cover_open"
		case scanner.StatusDeviceBusy:
			return "device_busy"
		case scanner.StatusIOError:
			return "io_error"
		}
	}
	return "error"
}

// journalScan writes the batch's scan record and records its seq.
func (a *Archive) journalScan(ctx context.Context, m *Manifest, b *Batch, recovered bool) (uint64, error) {
	a.mu.Lock()
	rec := ScanRecord{V: 1, Case: m.Case, Provisional: m.Provisional, Batch: b.ID, At: b.At, Window: b.Window,
		Staff: b.Staff, Pages: b.Pages, Format: b.Format, Status: b.Status, Recovered: recovered}
	for _, f := range b.Files {
		rec.Files = append(rec.Files, FileRecord{Name: f.Name, Pages: f.Pages, Size: f.Size, SHA256: f.SHA256})
	}
	a.mu.Unlock()
	data, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	seq, err := a.o.Journal.Append(ctx, journal.Record{Kind: KindScan, At: b.At, Data: data})
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.journaling, b)
	if err != nil {
		return 0, fmt.Errorf("archive: journal scan: %w", err)
	}
	b.Seq = seq
	if a.cases[m.Case] == m {
		if err := writeManifest(filepath.Join(a.o.Root, m.Case), m); err != nil {
			return seq, err
		}
	}
	return seq, nil
}

// retryJournal journals the batches filed but not journaled (a failed
// journal write, or a crash in between).
func (a *Archive) retryJournal(ctx context.Context) {
	type item struct {
		m *Manifest
		b *Batch
	}
	var todo []item
	a.mu.Lock()
	for _, m := range a.cases {
		for _, b := range m.Batches {
			if b.Seq == 0 && !a.journaling[b] {
				a.journaling[b] = true
				todo = append(todo, item{m, b})
			}
		}
	}
	a.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].b.At.Before(todo[j].b.At) })
	for _, it := range todo {
		if _, err := a.journalScan(ctx, it.m, it.b, true); err != nil {
			a.log.Error("journal filed scan", "case", it.m.Case, "batch", it.b.ID, "err", err)
		}
	}
}

// scannerHealth reports a scan's outcome as the scanner's health.
func (a *Archive) scannerHealth(window string, dev Device, err error) {
	if a.o.Health == nil {
		return
	}
	id := ScannerHealthID(window)
	var se *scanner.StatusError
	switch {
	case err == nil:
		a.o.Health.Update(id, "scanner", func(d *health.Device) {
			d.State, d.Reason, d.LastSeen, d.Port = health.Up, "", a.o.Now(), dev.String()
		})
	case errors.Is(err, scanner.ErrHalted), errors.Is(err, context.Canceled):
	case errors.As(err, &se) && (errors.Is(err, scanner.ErrJammed) || errors.Is(err, scanner.ErrNoDocs) || errors.Is(err, scanner.ErrCoverOpen)):
		// The scanner answered: paper handling, not a fault of the device.
		a.o.Health.Count(id, "scanner", statusOf(err))
		a.o.Health.Update(id, "scanner", func(d *health.Device) {
			d.State, d.Reason, d.LastSeen, d.Port = health.Degraded, se.Status.String(), a.o.Now(), dev.String()
		})
	default:
		a.o.Health.Count(id, "scanner", statusOf(err))
		a.o.Health.Update(id, "scanner", func(d *health.Device) {
			d.State, d.Reason, d.Port = health.Down, err.Error(), dev.String()
		})
	}
}

// Close stops new scans. The caller stops Run first.
func (a *Archive) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	return nil
}
