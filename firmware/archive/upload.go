package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/journal"
)

// DeliveredRecord is the JSON of a KindDelivered journal record: every file
// of a batch is at the platform, hash confirmed, and deleted here.
type DeliveredRecord struct {
	V     int       `json:"v"`
	Case  string    `json:"case"`
	Batch string    `json:"batch"`
	Files int       `json:"files"`
	Bytes int64     `json:"bytes"`
	At    time.Time `json:"at"`
}

// ErrAckTimeout is returned when the platform did not acknowledge a chunk
// within Opts.AckTimeout.
var ErrAckTimeout = errors.New("archive: no acknowledgement from the platform")

// UploadID returns the upload id of a file: <gateway>/<case>/<file>.
func UploadID(gateway, caseID, file string) string { return gateway + "/" + caseID + "/" + file }

// next returns the next file to deliver: oldest case first, batches and
// files in order, journaled batches only.
func (a *Archive) next() (*Manifest, *Batch, *File) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ms := make([]*Manifest, 0, len(a.cases))
	for _, m := range a.cases {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool {
		if !ms[i].Created.Equal(ms[j].Created) {
			return ms[i].Created.Before(ms[j].Created)
		}
		return ms[i].Case < ms[j].Case
	})
	for _, m := range ms {
		for _, b := range m.Batches {
			if b.Seq == 0 {
				continue
			}
			for _, f := range b.Files {
				if f.pending() {
					return m, b, f
				}
			}
		}
	}
	return nil, nil, nil
}

// Drain delivers files until none is left, the transport fails or ctx
// ends. It returns the number of files delivered and the first error
// (ErrNotConnected without a transport).
func (a *Archive) Drain(ctx context.Context) (n int, err error) {
	defer func() {
		if n > 0 {
			a.updateHealth()
		}
	}()
	for {
		a.mu.Lock()
		t := a.transport
		a.mu.Unlock()
		m, b, f := a.next()
		if f == nil {
			return n, nil
		}
		if t == nil {
			return n, ErrNotConnected
		}
		if err := a.upload(ctx, t, m, b, f); err != nil {
			a.mu.Lock()
			a.lastErr = err.Error()
			a.mu.Unlock()
			return n, err
		}
		n++
	}
}

// maxResumes bounds how often one upload call restarts on the platform's
// request before giving up until the next try.
const maxResumes = 3

// upload sends one file from its last acknowledged byte.
func (a *Archive) upload(ctx context.Context, t Transport, m *Manifest, b *Batch, f *File) error {
	path := filepath.Join(a.o.Root, m.Case, f.Name)
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("archive: upload %s/%s: %w", m.Case, f.Name, err)
	}
	defer fh.Close()
	a.mu.Lock()
	offset := f.Acked
	a.mu.Unlock()
	id := UploadID(a.o.GatewayID, m.Case, f.Name)
	buf := make([]byte, a.o.ChunkSize)
	resumes := 0
	for {
		n, err := fh.ReadAt(buf[:min(int64(len(buf)), f.Size-offset)], offset)
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == f.Size-offset) {
			return fmt.Errorf("archive: read %s/%s: %w", m.Case, f.Name, err)
		}
		c := Chunk{V: WireVersion, Upload: id, Gateway: a.o.GatewayID, Case: m.Case, File: f.Name,
			Offset: offset, Size: f.Size, SHA256: f.SHA256, Data: buf[:n]}
		sctx, cancel := context.WithTimeout(ctx, a.o.AckTimeout)
		ack, err := t.Send(sctx, c)
		timedOut := errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		switch {
		case err != nil && timedOut:
			return fmt.Errorf("%w for %s at %d", ErrAckTimeout, id, offset)
		case err != nil:
			return err
		case ack.Upload != id || ack.Offset != offset:
			return fmt.Errorf("archive: acknowledgement of %s at %d answers %s at %d", id, offset, ack.Upload, ack.Offset)
		case !ack.OK && ack.Resume != nil && *ack.Resume < f.Size && resumes < maxResumes:
			resumes++
			a.log.Warn("platform asks to resend", "upload", id, "from", *ack.Resume, "reason", ack.Error)
			offset = *ack.Resume
			if err := a.setAcked(m, f, offset); err != nil {
				return err
			}
			continue
		case !ack.OK:
			return fmt.Errorf("archive: platform refused %s at %d: %s", id, offset, ack.Error)
		}
		offset += int64(n)
		if offset < f.Size {
			if err := a.setAcked(m, f, offset); err != nil {
				return err
			}
			continue
		}
		if !ack.Final || ack.SHA256 != f.SHA256 {
			// The platform holds something else: send it all again.
			if err := a.setAcked(m, f, 0); err != nil {
				return err
			}
			return fmt.Errorf("archive: platform's copy of %s does not match (final %v): resending", id, ack.Final)
		}
		return a.delivered(ctx, m, b, f)
	}
}

// setAcked records the acknowledged byte count durably.
func (a *Archive) setAcked(m *Manifest, f *File, n int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	f.Acked = n
	return writeManifest(filepath.Join(a.o.Root, m.Case), m)
}

// delivered deletes a file the platform confirmed, journals the batch when
// it is complete and removes the case when all of it is delivered.
func (a *Archive) delivered(ctx context.Context, m *Manifest, b *Batch, f *File) error {
	now := a.o.Now()
	dir := filepath.Join(a.o.Root, m.Case)
	a.mu.Lock()
	f.Acked, f.Delivered = f.Size, now.UTC()
	a.used -= f.Size
	a.roomLocked() // may end a full episode
	a.lastOK = now
	a.lastErr = ""
	// The manifest first: a crash before the removal leaves a delivered
	// file behind, never a pending file missing.
	err := writeManifest(dir, m)
	if err == nil {
		if rerr := os.Remove(filepath.Join(dir, f.Name)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			a.log.Warn("remove delivered file", "case", m.Case, "file", f.Name, "err", rerr)
		}
	}
	complete := true
	var bytes int64
	for _, g := range b.Files {
		complete = complete && !g.pending()
		bytes += g.Size
	}
	a.mu.Unlock()
	if err != nil || !complete {
		return err
	}
	rec, err := json.Marshal(DeliveredRecord{V: 1, Case: m.Case, Batch: b.ID, Files: len(b.Files), Bytes: bytes, At: now.UTC()})
	if err != nil {
		return err
	}
	if _, err := a.o.Journal.Append(ctx, journal.Record{Kind: KindDelivered, At: now.UTC(), Data: rec}); err != nil {
		// The files are delivered; the record is missing. Say so: the
		// platform has the files and their scan records anyway.
		a.log.Error("journal delivery", "case", m.Case, "batch", b.ID, "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b.Delivered = now.UTC()
	if done(m) && a.cases[m.Case] == m {
		delete(a.cases, m.Case)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("archive: remove delivered case: %w", err)
		}
		return nil
	}
	return writeManifest(dir, m)
}

// Run delivers files and checks deadlines until ctx ends: at once, after
// every scan, when a transport is set, and after a failure with a backoff
// from RetryMin doubling to RetryMax.
func (a *Archive) Run(ctx context.Context) {
	check := a.o.Clock.NewTicker(a.o.CheckEvery)
	defer check.Stop()
	if _, err := a.CheckOverdue(ctx); err != nil {
		a.log.Warn("archive deadline check", "err", err)
	}
	backoff := a.o.RetryMin
	for {
		a.retryJournal(ctx)
		_, err := a.Drain(ctx)
		var timer clockwork.Timer
		var wait <-chan time.Time
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			backoff = a.o.RetryMin
		default:
			if errors.Is(err, ErrNotConnected) {
				// Nothing to learn from retrying fast, nothing to log
				// either: the uplink reports the link.
				backoff = min(backoff, notConnectedRetry)
			} else {
				a.log.Warn("archive upload", "err", err, "retry_in", backoff)
			}
			timer = a.o.Clock.NewTimer(backoff)
			wait = timer.Chan()
			backoff = min(2*backoff, a.o.RetryMax)
		}
		select {
		case <-ctx.Done():
		case <-a.wake:
		case <-wait:
		case <-check.Chan():
			if _, err := a.CheckOverdue(ctx); err != nil {
				a.log.Warn("archive deadline check", "err", err)
			}
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// notConnectedRetry caps the wait between tries while there is no link.
const notConnectedRetry = 30 * time.Second
