package otaupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/firmware/update"
)

// Appender journals records durably; *journal.Journal is one.
type Appender interface {
	Append(ctx context.Context, recs ...journal.Record) (first uint64, err error)
}

// Refusals of Offer, besides the offer's own ErrWire and
// update.ErrTrialPending.
var (
	// ErrInstalling: a downloaded bundle is being installed; it cannot be
	// replaced now.
	ErrInstalling = errors.New("otaupdate: an update is being installed")
	// ErrNoSpace: the staging file system has less than twice the bundle's
	// size free (the download, then the slot's copy).
	ErrNoSpace = errors.New("otaupdate: not enough free space for the bundle")
	// ErrNotStarted: Offer before Start.
	ErrNotStarted = errors.New("otaupdate: updater not started")
)

// Download states (Progress.State).
const (
	StateDownloading = "downloading"
	StateRetrying    = "retrying" // the last attempt failed; the next one waits for RetryAt
	StateInstalling  = "installing"
)

// Opts configure an Updater.
type Opts struct {
	// Slots is the device's slot store; its staging area holds the
	// download. Required.
	Slots *update.Slots
	// DataDir holds the job file (JobFile). Required.
	DataDir string
	// Journal receives the firmware records. Required.
	Journal Appender
	// GatewayID names the records in the command's reply (event ids).
	GatewayID string
	// Link fetches chunks (a *Transport over the uplink). Required.
	Link Link
	// Restart is called once an update is installed and its record (seq)
	// is durable: the daemon exits and systemd starts the trial. Required.
	Restart func(seq uint64)
	// RetryMin and RetryMax bound the jittered wait between attempts of a
	// download that failed (no answer, a platform error).
	RetryMin, RetryMax time.Duration
	// FreeBytes reports the space free on the file system of dir; nil
	// measures it (statfs).
	FreeBytes func(dir string) (uint64, error)
	// Clock paces retries and stamps records; nil means the real clock.
	Clock  clockwork.Clock
	Logger *slog.Logger
}

// DefaultOpts hold the defaults New applies to zero fields.
var DefaultOpts = Opts{RetryMin: 5 * time.Second, RetryMax: 5 * time.Minute}

// Progress is the download under way, in the firmware status section.
type Progress struct {
	State     string    `json:"state"` // State* constants
	Version   string    `json:"version,omitempty"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	Received  int       `json:"received"` // chunks on disk
	Chunks    int       `json:"chunks"`
	Accepted  time.Time `json:"accepted"`
	LastError string    `json:"last_error,omitempty"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
}

// Status is the firmware status section: the slots (update.Report), the
// download under way and the last step recorded.
type Status struct {
	*update.Report
	// Error is set when the slot state cannot be read.
	Error    string    `json:"error,omitempty"`
	Download *Progress `json:"download,omitempty"`
	Last     *Record   `json:"last,omitempty"`
}

// Accepted is the result of the update command.
type Accepted struct {
	Accepted bool   `json:"accepted"`
	Version  string `json:"version,omitempty"`
	SHA256   string `json:"sha256"`
	Chunks   int    `json:"chunks"`
	Received int    `json:"received"` // chunks already on disk
	// Resumed is set when this bundle was already being downloaded.
	Resumed bool `json:"resumed,omitempty"`
	// Events names the "accepted" record (<gateway>:<seq>); the outcome is
	// the next firmware record with the same sha256.
	Events []string `json:"events"`
}

// Updater downloads offered bundles in resumable chunks, installs them into
// the inactive slot and asks for the restart into the trial. One update at
// a time; a new offer replaces a download under way.
type Updater struct {
	o       Opts
	clock   clockwork.Clock
	log     *slog.Logger
	jobs    jobStore
	staging *update.Staging

	opMu sync.Mutex // Start, Offer, Stop
	ctx  context.Context
	// retryNow cuts short the wait of a paused download (the same offer
	// came again).
	retryNow chan struct{}

	mu      sync.Mutex
	job     *Job
	dl      *update.Download
	state   string
	lastErr string
	retryAt time.Time
	last    *Record
	cancel  context.CancelFunc
	done    chan struct{}
}

// New checks o and returns an Updater; Start resumes an unfinished update.
func New(o *Opts) (*Updater, error) {
	if o == nil || o.Slots == nil || o.DataDir == "" || o.Journal == nil || o.Link == nil || o.Restart == nil {
		return nil, errors.New("otaupdate: slots, data dir, journal, link and restart are required")
	}
	opts := *o
	if opts.RetryMin == 0 {
		opts.RetryMin = DefaultOpts.RetryMin
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = max(DefaultOpts.RetryMax, opts.RetryMin)
	}
	if opts.RetryMin < 0 || opts.RetryMax < opts.RetryMin {
		return nil, fmt.Errorf("otaupdate: retry bounds %v…%v", opts.RetryMin, opts.RetryMax)
	}
	u := &Updater{o: opts, clock: opts.Clock, log: opts.Logger, jobs: newJobStore(opts.Slots.FS, opts.DataDir),
		staging: opts.Slots.Staging(), retryNow: make(chan struct{}, 1)}
	if u.clock == nil {
		u.clock = clockwork.NewRealClock()
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.o.FreeBytes == nil {
		u.o.FreeBytes = freeBytes
	}
	return u, nil
}

// String names the updater.
func (u *Updater) String() string { return "otaupdate(" + u.o.Slots.Root + ")" }

// Start resumes the update a previous run left unfinished (the job file
// and the staging area survive restarts), or clears a staging area left
// without one; a damaged job file is dropped. The work runs until ctx ends
// or Stop. It always returns nil: nothing here stops the gateway.
func (u *Updater) Start(ctx context.Context) error {
	u.opMu.Lock()
	defer u.opMu.Unlock()
	u.ctx = ctx
	job, err := u.jobs.load()
	if err != nil {
		// A damaged job file must not keep the gateway from starting.
		u.log.Warn("firmware update: dropping an unreadable job file", "err", err)
		if err := u.jobs.remove(); err != nil {
			u.log.Error("firmware update", "err", err)
		}
	}
	if job == nil {
		if err := u.staging.Prune(""); err != nil {
			u.log.Warn("firmware update: clearing the staging area", "err", err)
		}
		return nil
	}
	rec := Record{Type: StepResumed}
	if job.Installing {
		rec.Reason = "the install was interrupted"
	}
	dl, err := u.staging.Begin(job.Offer)
	if err == nil {
		rec.Received, _ = dl.Progress()
	}
	if _, err := u.record(ctx, job, rec); err != nil {
		u.log.Error("firmware update: journal", "err", err)
	}
	u.log.Info("firmware update resumed", "version", job.Offer.Version, "sha256", job.Offer.SHA256, "received", rec.Received)
	u.startWorker(job, dl)
	return nil
}

// Stop ends the work under way, leaving the download to resume at the next
// Start; it returns when the worker has stopped or ctx ends.
func (u *Updater) Stop(ctx context.Context) error {
	u.opMu.Lock()
	defer u.opMu.Unlock()
	u.mu.Lock()
	cancel, done := u.cancel, u.done
	u.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Halt stops the updater within 10 s.
func (u *Updater) Halt() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return u.Stop(ctx)
}

// Offer takes the platform's offer of a bundle: the download starts (or,
// for the bundle already under way, continues at once, even from a pause)
// in the background and the offer is journaled. A different bundle under way is given up for it.
// It refuses an offer while an update is on trial (update.ErrTrialPending)
// or being installed (ErrInstalling), and when the disk has too little
// room (ErrNoSpace).
func (u *Updater) Offer(ctx context.Context, o update.Offer) (*Accepted, error) {
	if err := CheckOffer(o); err != nil {
		return nil, err
	}
	u.opMu.Lock()
	defer u.opMu.Unlock()
	if u.ctx == nil {
		return nil, ErrNotStarted
	}
	rep, err := u.o.Slots.Status()
	if err != nil {
		return nil, err
	}
	if rep.Trial != "" {
		return nil, fmt.Errorf("%w: slot %s must be committed or rolled back first", update.ErrTrialPending, rep.Trial)
	}
	u.mu.Lock()
	installing, cur, dl := u.state == StateInstalling, u.job, u.dl
	u.mu.Unlock()
	if installing {
		return nil, ErrInstalling
	}
	if cur != nil && sameOffer(cur.Offer, o) {
		rec := Record{Type: StepAccepted, Reason: "already downloading"}
		if dl != nil {
			rec.Received, _ = dl.Progress()
		}
		seq, err := u.record(ctx, cur, rec)
		if err != nil {
			return nil, err
		}
		select {
		case u.retryNow <- struct{}{}:
		default:
		}
		return u.accepted(cur.Offer, rec.Received, seq, true), nil
	}
	if err := u.checkSpace(o); err != nil {
		return nil, err
	}
	if cur != nil {
		u.mu.Lock()
		if u.state == StateInstalling {
			u.mu.Unlock()
			return nil, ErrInstalling
		}
		// Cancelled under mu: the worker checks under mu before it installs.
		u.cancel()
		done := u.done
		u.mu.Unlock()
		<-done
		rec := Record{Type: StepFailed, Code: CodeSuperseded, Reason: "superseded by the offer of " + describe(o)}
		if _, err := u.record(ctx, cur, rec); err != nil {
			u.log.Error("firmware update: journal", "err", err)
		}
		u.clear(nil)
	}
	job := &Job{Offer: o, Accepted: u.clock.Now().UTC()}
	if err := u.jobs.save(job); err != nil {
		return nil, err
	}
	if err := u.staging.Prune(o.SHA256); err != nil {
		u.log.Warn("firmware update: clearing the staging area", "err", err)
	}
	dl, err = u.staging.Begin(o)
	if err != nil {
		u.jobs.remove()
		return nil, err
	}
	rec := Record{Type: StepAccepted}
	rec.Received, _ = dl.Progress()
	seq, err := u.record(ctx, job, rec)
	if err != nil {
		u.jobs.remove()
		return nil, err
	}
	u.log.Info("firmware update accepted", "version", o.Version, "sha256", o.SHA256, "size", o.Size, "chunks", o.Chunks())
	u.startWorker(job, dl)
	return u.accepted(o, rec.Received, seq, false), nil
}

func (u *Updater) accepted(o update.Offer, received int, seq uint64, resumed bool) *Accepted {
	return &Accepted{Accepted: true, Version: o.Version, SHA256: o.SHA256, Chunks: o.Chunks(), Received: received,
		Resumed: resumed, Events: []string{journal.EventID(u.o.GatewayID, seq)}}
}

func sameOffer(a, b update.Offer) bool {
	return a.SHA256 == b.SHA256 && a.Size == b.Size && a.ChunkSize == b.ChunkSize
}

func describe(o update.Offer) string {
	s := o.SHA256[:12]
	if o.Version != "" {
		return "version " + o.Version + " (" + s + "…)"
	}
	return s + "…"
}

// checkSpace refuses a bundle the staging file system cannot hold twice.
func (u *Updater) checkSpace(o update.Offer) error {
	dir := u.staging.Dir
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			break
		}
		dir = filepath.Dir(dir)
	}
	free, err := u.o.FreeBytes(dir)
	if err != nil {
		return nil // unknown: the download itself will tell
	}
	if need := 2 * uint64(o.Size); free < need {
		return fmt.Errorf("%w: %d bytes free, %d needed", ErrNoSpace, free, need)
	}
	return nil
}

func freeBytes(dir string) (uint64, error) {
	d := health.Disk(dir)
	if d.Err != "" {
		return 0, errors.New(d.Err)
	}
	return d.FreeBytes, nil
}

// Status returns the firmware status section. It reads the slot state
// from disk (a few small files) and never waits for the download.
func (u *Updater) Status() Status {
	var st Status
	if rep, err := u.o.Slots.Status(); err != nil {
		st.Error = err.Error()
	} else {
		st.Report = rep
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if j := u.job; j != nil {
		p := &Progress{State: u.state, Version: j.Offer.Version, SHA256: j.Offer.SHA256, Size: j.Offer.Size,
			Chunks: j.Offer.Chunks(), Accepted: j.Accepted, LastError: u.lastErr}
		if u.dl != nil {
			p.Received, p.Chunks = u.dl.Progress()
		}
		if u.state == StateRetrying {
			p.RetryAt = u.retryAt
		}
		st.Download = p
	}
	if u.last != nil {
		l := *u.last
		st.Last = &l
	}
	return st
}

// record journals a firmware record of job and waits until it is durable.
func (u *Updater) record(ctx context.Context, job *Job, r Record) (uint64, error) {
	r = u.fill(job, r)
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("otaupdate: encode record: %w", err)
	}
	seq, err := u.o.Journal.Append(ctx, journal.Record{Kind: KindFirmware, At: r.At, Data: b})
	if err != nil {
		return 0, fmt.Errorf("otaupdate: journal %s: %w", r.Type, err)
	}
	u.mu.Lock()
	u.last = &r
	u.mu.Unlock()
	return seq, nil
}

// fill completes a record of job: time, offer, version.
func (u *Updater) fill(job *Job, r Record) Record {
	if r.At.IsZero() {
		r.At = u.clock.Now().UTC()
	}
	r.SHA256, r.Size, r.Chunks = job.Offer.SHA256, job.Offer.Size, job.Offer.Chunks()
	if r.Version == "" {
		r.Version = job.Offer.Version
	}
	return r
}

// startWorker runs job's download and install in the background.
func (u *Updater) startWorker(job *Job, dl *update.Download) {
	ctx, cancel := context.WithCancel(u.ctx)
	done := make(chan struct{})
	u.mu.Lock()
	u.job, u.dl, u.state, u.lastErr, u.cancel, u.done = job, dl, StateDownloading, "", cancel, done
	u.mu.Unlock()
	go func() {
		defer close(done)
		u.run(ctx, job)
	}()
}

// clear forgets the job: its download, its file and its state. A non-nil
// last becomes the last record shown.
func (u *Updater) clear(last *Record) {
	if err := u.staging.Prune(""); err != nil {
		u.log.Warn("firmware update: clearing the staging area", "err", err)
	}
	if err := u.jobs.remove(); err != nil {
		u.log.Warn("firmware update", "err", err)
	}
	u.mu.Lock()
	u.job, u.dl, u.state, u.lastErr, u.retryAt = nil, nil, "", "", time.Time{}
	if last != nil {
		u.last = last
	}
	u.mu.Unlock()
}

// finish journals the last record of job and forgets it; it returns the
// record's seq (0 when it could not be written). The record is written
// even while the daemon stops.
func (u *Updater) finish(ctx context.Context, job *Job, r Record) uint64 {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r = u.fill(job, r)
	seq, err := u.record(ctx, job, r)
	if err != nil {
		u.log.Error("firmware update: journal", "err", err)
	}
	u.clear(&r)
	switch r.Type {
	case StepInstalled:
		u.log.Info("firmware update installed", "version", r.Version, "slot", r.Slot, "key", r.KeyID)
	default:
		u.log.Warn("firmware update "+r.Type, "version", r.Version, "code", r.Code, "reason", r.Reason)
	}
	return seq
}

// backoff returns the jittered wait before attempt n+1.
func (u *Updater) backoff(n int) time.Duration {
	d := u.o.RetryMax
	if n < 30 {
		d = min(u.o.RetryMin<<n, u.o.RetryMax)
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// run downloads job's bundle, installs it and asks for the restart.
func (u *Updater) run(ctx context.Context, job *Job) {
	resumedInstall := job.Installing
	attempt := 0
	var path string
	for {
		select { // an offer from before this attempt does not cut its pause short
		case <-u.retryNow:
		default:
		}
		dl, err := u.staging.Begin(job.Offer)
		if err == nil {
			u.mu.Lock()
			u.dl, u.state = dl, StateDownloading
			u.mu.Unlock()
			before, _ := dl.Progress()
			src := u.o.Link.Source(dl)
			path, err = update.Fetch(ctx, dl, src)
			src.Close()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			if code := refusal(err); code != "" {
				u.finish(ctx, job, Record{Type: StepRefused, Code: code, Reason: err.Error()})
				return
			}
			if after, _ := dl.Progress(); after > before {
				attempt = 0
			}
		}
		if ctx.Err() != nil {
			return
		}
		wait := u.backoff(attempt)
		attempt++
		u.mu.Lock()
		u.state, u.lastErr, u.retryAt = StateRetrying, err.Error(), u.clock.Now().Add(wait).UTC()
		u.mu.Unlock()
		u.log.Warn("firmware update: download paused", "err", err, "retry_in", wait)
		if sleep(ctx, u.clock, wait, u.retryNow) != nil {
			return
		}
	}
	if !resumedInstall {
		if _, err := u.record(ctx, job, Record{Type: StepDownloaded}); err != nil {
			u.log.Error("firmware update: journal", "err", err)
		}
	}
	u.mu.Lock()
	if ctx.Err() != nil {
		u.mu.Unlock()
		return
	}
	u.state, u.lastErr = StateInstalling, ""
	inst := *job
	inst.Installing = true
	u.job = &inst
	u.mu.Unlock()
	if err := u.jobs.save(&inst); err != nil {
		u.log.Warn("firmware update", "err", err)
	}
	u.install(ctx, &inst, path, resumedInstall)
}

// install installs the downloaded bundle at path. After an interrupted
// install it first looks for the bundle in the slots.
func (u *Updater) install(ctx context.Context, job *Job, path string, resumed bool) {
	rs, closeFn, err := u.openBundle(path)
	if err != nil {
		u.finish(ctx, job, Record{Type: StepFailed, Reason: err.Error()})
		return
	}
	defer closeFn()
	if resumed {
		done, restart, seq := u.alreadyInstalled(ctx, job, rs)
		if done {
			if restart {
				u.o.Restart(seq)
			}
			return
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			u.finish(ctx, job, Record{Type: StepFailed, Reason: err.Error()})
			return
		}
	}
	in, err := u.o.Slots.Install(ctx, rs)
	if err != nil {
		if ctx.Err() != nil {
			return // the job stays: the next start looks again
		}
		r := Record{Type: StepFailed, Reason: err.Error()}
		if code := refusal(err); code != "" {
			r.Type, r.Code = StepRefused, code
		}
		u.finish(ctx, job, r)
		return
	}
	seq := u.finish(ctx, job, Record{Type: StepInstalled, Version: in.Manifest.Version, Slot: in.Slot, KeyID: in.KeyID,
		SecurityVersion: in.Manifest.SecurityVersion})
	u.o.Restart(seq)
}

// alreadyInstalled finishes an interrupted install that had in fact
// completed: a slot holds the bundle's signed manifest, byte for byte. It
// reports whether it did, whether the daemon must restart to run it, and
// the seq of the record.
func (u *Updater) alreadyInstalled(ctx context.Context, job *Job, r io.Reader) (done, restart bool, seq uint64) {
	raw, err := ReadManifest(r)
	if err != nil {
		return false, false, 0
	}
	rep, err := u.o.Slots.Status()
	if err != nil {
		return false, false, 0
	}
	fsys := u.o.Slots.FS
	if fsys == nil {
		fsys = update.OSFS{}
	}
	running := rep.Booted
	if running == "" {
		running = rep.Active
	}
	for _, s := range rep.Slots {
		b, err := fsys.ReadFile(filepath.Join(u.o.Slots.Root, filepath.FromSlash(update.SlotsDir), s.Name, update.ManifestName))
		if err != nil || !bytes.Equal(b, raw) || s.Problem != "" {
			continue
		}
		if s.Name != running && s.Name != rep.Trial {
			continue // the fallback slot: a rolled-back version is installed again
		}
		seq := u.finish(ctx, job, Record{Type: StepInstalled, Version: s.Version, Slot: s.Name, KeyID: s.KeyID,
			SecurityVersion: s.SecurityVersion, Reason: "installed before the gateway restarted"})
		return true, s.Name != running, seq
	}
	return false, false, 0
}

// openBundle opens the downloaded file for Install, which reads it twice.
func (u *Updater) openBundle(path string) (io.ReadSeeker, func(), error) {
	fsys := u.o.Slots.FS
	if fsys == nil {
		fsys = update.OSFS{}
	}
	rc, err := fsys.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("otaupdate: open bundle: %w", err)
	}
	if rs, ok := rc.(io.ReadSeeker); ok {
		return rs, func() { rc.Close() }, nil
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, update.MaxBundleSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("otaupdate: read bundle: %w", err)
	}
	return bytes.NewReader(b), func() {}, nil
}
