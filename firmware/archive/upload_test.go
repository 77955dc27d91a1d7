package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/scanner"
	"hallgw/firmware/health"
)

// content returns the bytes of a scan's files, by name.
func content(r *rig, res ScanResult) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range res.Files {
		out[f.Name] = r.fileBytes(res.Case, f.Name)
	}
	return out
}

func TestDeliverDeletesOnlyAfterFinalAck(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": feeder(3)}, arch: Opts{ChunkSize: 1024}})
	res := r.mustScan("w1", caseNo)
	want := content(r, res)
	p := newPlatform()
	lastSeen := 0
	p.onLast = func(c Chunk) {
		// The gateway still holds the file while the last chunk is on
		// its way: it deletes only after the final acknowledgement.
		if _, err := os.Stat(filepath.Join(r.root, c.Case, c.File)); err != nil {
			t.Errorf("%s gone before the final acknowledgement: %v", c.File, err)
		}
		lastSeen++
	}
	r.a.SetTransport(p)
	n, err := r.a.Drain(r.ctx)
	if err != nil || n != 3 || lastSeen != 3 {
		t.Fatalf("Drain = %d, %v (last chunks %d); want 3 files delivered", n, err, lastSeen)
	}
	got := p.rcv.Received()
	if len(got) != 3 {
		t.Fatalf("platform holds %d files, want 3", len(got))
	}
	for _, f := range got {
		if !bytes.Equal(f.Data, want[f.File]) || f.Case != caseNo || f.Gateway != gwID || f.Upload != UploadID(gwID, caseNo, f.File) {
			t.Errorf("platform's %s differs from the scanned file", f.Upload)
		}
	}
	// 3.5 kB pages in 1 KiB chunks: several chunks each.
	if c := len(p.chunks()); c < 9 {
		t.Errorf("%d chunks for 3 files, want ≥ 9 at 1 KiB", c)
	}
	if _, err := os.Stat(filepath.Join(r.root, caseNo)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("case directory still there after delivery: %v", err)
	}
	recs := records[DeliveredRecord](t, r.j, KindDelivered)
	var total int64
	for _, b := range want {
		total += int64(len(b))
	}
	if len(recs) != 1 || recs[0].Case != caseNo || recs[0].Batch != res.Batch || recs[0].Files != 3 || recs[0].Bytes != total {
		t.Errorf("delivery records = %+v, want one for the batch of %d bytes", recs, total)
	}
	if st := r.a.Status(); st.Files != 0 || st.Bytes != 0 || st.Cases != 0 || st.LastDelivery.IsZero() {
		t.Errorf("status after delivery = %+v", st)
	}
}

func TestResumeAfterRestart(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": feeder(2)}, arch: Opts{ChunkSize: 1024}})
	res := r.mustScan("w1", caseNo)
	want := content(r, res)
	p := newPlatform()
	p.failAfter = 2 // the link drops after two chunks of the first file
	r.a.SetTransport(p)
	if n, err := r.a.Drain(r.ctx); !errors.Is(err, errLinkDown) || n != 0 {
		t.Fatalf("Drain = %d, %v; want the link failure", n, err)
	}
	first := res.Files[0].Name
	m, err := readManifest(filepath.Join(r.root, caseNo))
	if err != nil || m.Batches[0].Files[0].Acked != 2048 {
		t.Fatalf("manifest after the drop: %v, acked %d; want 2048", err, m.Batches[0].Files[0].Acked)
	}
	// The gateway restarts; the platform kept what it had.
	p.mu.Lock()
	p.failAfter = -1
	p.mu.Unlock()
	r.open(Opts{ChunkSize: 1024, Transport: p})
	if n, err := r.a.Drain(r.ctx); err != nil || n != 2 {
		t.Fatalf("Drain after restart = %d, %v; want 2 files", n, err)
	}
	var offsets []int64
	for _, c := range p.chunks() {
		if c.File == first {
			offsets = append(offsets, c.Offset)
		}
	}
	if len(offsets) < 4 || offsets[0] != 0 || offsets[1] != 1024 || offsets[2] != 2048 {
		t.Fatalf("offsets of %s = %v, want 0 1024 then 2048… (resumed, not restarted)", first, offsets)
	}
	for _, f := range p.rcv.Received() {
		if !bytes.Equal(f.Data, want[f.File]) {
			t.Errorf("platform's %s differs from the scanned file", f.File)
		}
	}
}

func TestBadFinalHashResends(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}, arch: Opts{ChunkSize: 1024}})
	res := r.mustScan("w1", caseNo)
	want := content(r, res)[res.Files[0].Name]
	p := newPlatform()
	p.badFinal = true // the platform's copy is damaged once
	deleted := false
	p.onLast = func(c Chunk) {
		if _, err := os.Stat(filepath.Join(r.root, c.Case, c.File)); err != nil {
			deleted = true
		}
	}
	r.a.SetTransport(p)
	if n, err := r.a.Drain(r.ctx); err != nil || n != 1 {
		t.Fatalf("Drain = %d, %v; want the file delivered after a resend", n, err)
	}
	if deleted {
		t.Error("file deleted before a matching final acknowledgement")
	}
	zeros := 0
	for _, c := range p.chunks() {
		if c.Offset == 0 {
			zeros++
		}
	}
	if got := p.rcv.Received(); zeros != 2 || len(got) != 1 || !bytes.Equal(got[0].Data, want) {
		t.Errorf("sent from 0 %d times, platform holds %d files; want the whole file sent twice and held once", zeros, len(got))
	}
}

// silent never answers.
type silent struct{}

func (silent) Send(ctx context.Context, c Chunk) (Ack, error) {
	<-ctx.Done()
	return Ack{}, ctx.Err()
}

func TestUploadFailuresKeepFiles(t *testing.T) {
	tests := []struct {
		name string
		t    Transport
		want error
	}{
		{"no transport", nil, ErrNotConnected},
		{"no acknowledgement", silent{}, ErrAckTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}, arch: Opts{AckTimeout: 200 * time.Millisecond}})
			res := r.mustScan("w1", caseNo)
			r.a.SetTransport(tt.t)
			if n, err := r.a.Drain(r.ctx); !errors.Is(err, tt.want) || n != 0 {
				t.Fatalf("Drain = %d, %v; want %v", n, err, tt.want)
			}
			r.fileBytes(caseNo, res.Files[0].Name)
			if st := r.a.Status(); st.Files != 1 || (tt.t != nil && !strings.Contains(st.LastError, "acknowledgement")) {
				t.Errorf("status = %+v, want the file pending", st)
			}
		})
	}
}

func TestDiskBound(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}, arch: Opts{MaxBytes: 5000, MinFree: 1 << 20}})
	first := r.mustScan("w1", caseNo)
	if first.Files[0].Size < 2600 || first.Files[0].Size >= 5000 {
		t.Fatalf("a page of %d bytes: the bound of this test needs 2600…4999", first.Files[0].Size)
	}
	// The second scan crosses the bound: it is kept, the alarm is raised.
	second := r.mustScan("w1", caseNo)
	if second.Pages != 1 {
		t.Fatalf("second scan = %+v", second)
	}
	alarms := records[AlarmRecord](t, r.j, KindAlarm)
	if len(alarms) != 1 || alarms[0].Type != "archive_full" || alarms[0].MaxBytes != 5000 {
		t.Fatalf("alarms = %+v, want one archive_full", alarms)
	}
	// Further scans are refused before scanning, with no new alarm.
	for range 3 {
		res, err := r.scan("w1", caseNo)
		if !errors.Is(err, ErrFull) || res.Batch != "" {
			t.Fatalf("scan over the bound = %+v, %v; want ErrFull", res, err)
		}
		if Notice(res, err) != "存储已满，暂停扫描" {
			t.Errorf("Notice = %q", Notice(res, err))
		}
	}
	if n := len(records[AlarmRecord](t, r.j, KindAlarm)); n != 1 {
		t.Errorf("%d alarms after refusals, want still 1", n)
	}
	if n := len(records[ScanRecord](t, r.j, KindScan)); n != 2 {
		t.Errorf("%d scan records, want 2 (nothing dropped, nothing added)", n)
	}
	if d, _ := r.health.Get(HealthID); d.State != health.Degraded || !strings.Contains(d.Reason, "storage full") {
		t.Errorf("archive health = %+v, want degraded: storage full", d)
	}
	if !r.a.Status().Full {
		t.Error("status does not say full")
	}
	// Delivery makes room.
	r.a.SetTransport(newPlatform())
	if n, err := r.a.Drain(r.ctx); err != nil || n != 2 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	r.mustScan("w1", caseNo)
	if d, _ := r.health.Get(HealthID); d.State != health.Up {
		t.Errorf("archive health after delivery = %+v, want up", d)
	}
	// A nearly full disk refuses too, and alarms again (a new episode).
	r.free = 1000
	if _, err := r.scan("w1", caseNo); !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "free on the data disk") {
		t.Errorf("scan on a full disk = %v, want ErrFull about free space", err)
	}
	if n := len(records[AlarmRecord](t, r.j, KindAlarm)); n != 2 {
		t.Errorf("%d alarms, want 2", n)
	}
}

func TestOverdue(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}})
	res := r.mustScan("w1", caseNo)
	scanned := r.clock.Now()
	// One calendar month: scanned 2 March 02:00 UTC, due 2 April 02:00 UTC.
	deadline := r.a.Deadline(scanned)
	if want := time.Date(2026, 4, 2, 1, 0, 0, 0, time.UTC); !deadline.Equal(want) {
		t.Fatalf("Deadline = %v, want %v", deadline.UTC(), want)
	}
	r.clock.Advance(deadline.Sub(r.clock.Now()) - time.Second)
	if od, err := r.a.CheckOverdue(r.ctx); err != nil || len(od) != 0 {
		t.Fatalf("CheckOverdue a second early = %v, %v; want none", od, err)
	}
	r.clock.Advance(time.Second)
	for i := range 2 {
		od, err := r.a.CheckOverdue(r.ctx)
		if err != nil || len(od) != 1 || od[0].Case != caseNo || od[0].Batch != res.Batch || od[0].Files != 1 || od[0].Window != "w1" {
			t.Fatalf("CheckOverdue #%d = %+v, %v; want the batch", i, od, err)
		}
	}
	// Reported once, even across a restart.
	r.open(Opts{})
	if _, err := r.a.CheckOverdue(r.ctx); err != nil {
		t.Fatal(err)
	}
	alarms := records[AlarmRecord](t, r.j, KindAlarm)
	if len(alarms) != 1 || alarms[0].Type != "archive_overdue" || alarms[0].Overdue == nil || alarms[0].Case != caseNo || !alarms[0].Deadline.Equal(deadline) {
		t.Fatalf("alarms = %+v, want one archive_overdue for the case", alarms)
	}
	if st := r.a.Status(); len(st.Overdue) != 1 {
		t.Errorf("status overdue = %+v", st.Overdue)
	}
	if d, _ := r.health.Get(HealthID); d.State != health.Degraded || !strings.Contains(d.Reason, "not delivered") {
		t.Errorf("archive health = %+v, want degraded", d)
	}
	// Delivered late, the report clears.
	r.a.SetTransport(newPlatform())
	if _, err := r.a.Drain(r.ctx); err != nil {
		t.Fatal(err)
	}
	if od, _ := r.a.CheckOverdue(r.ctx); len(od) != 0 {
		t.Errorf("overdue after delivery = %+v", od)
	}
	if d, _ := r.health.Get(HealthID); d.State != health.Up {
		t.Errorf("archive health after delivery = %+v, want up", d)
	}
}

func TestDeliverWithin(t *testing.T) {
	r := newRig(t, rigOpts{arch: Opts{DeliverWithin: 48 * time.Hour}})
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	if got := r.a.Deadline(at); !got.Equal(at.Add(48 * time.Hour)) {
		t.Errorf("Deadline = %v, want 48 h later", got)
	}
}

// TestRecoverAfterCrash lays out what a crash between filing and
// journaling leaves: a batch with seq 0, one of its files moved, one not,
// and an interrupted scan in the staging area.
func TestRecoverAfterCrash(t *testing.T) {
	r := newRig(t, rigOpts{})
	dir := filepath.Join(r.root, caseNo)
	if err := os.MkdirAll(filepath.Join(r.root, stagingDir, "w1-1"), 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(r.root, stagingDir, "w1-1", "p01.png.part"), []byte("half"), 0o640)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	page := []byte("\x89PNG page one")
	os.WriteFile(filepath.Join(dir, "20260302T020000Z-p01.png"), page, 0o640)
	sum := hexSHA(page)
	m := &Manifest{V: 1, Case: caseNo, Created: r.clock.Now().UTC(), Batches: []*Batch{{
		ID: "20260302T020000Z", At: r.clock.Now().UTC(), Window: "w1", Staff: "S001", Format: "png", Pages: 2, Status: "ok",
		Files: []*File{
			{Name: "20260302T020000Z-p01.png", Pages: 1, Size: int64(len(page)), SHA256: sum},
			{Name: "20260302T020000Z-p02.png", Pages: 1, Size: 9, SHA256: sum},
		},
	}}}
	if err := writeManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	r.open(Opts{})
	if _, err := os.Stat(filepath.Join(r.root, stagingDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staging area kept: %v", err)
	}
	recs := records[ScanRecord](t, r.j, KindScan)
	if len(recs) != 1 || !recs[0].Recovered || len(recs[0].Files) != 1 || recs[0].Files[0].SHA256 != sum {
		t.Fatalf("scan records = %+v, want one recovered record with the file that arrived", recs)
	}
	got, err := readManifest(dir)
	if err != nil || got.Batches[0].Seq == 0 || len(got.Batches[0].Files) != 1 {
		t.Fatalf("manifest after recovery = %+v, %v", got, err)
	}
	if st := r.a.Status(); st.Files != 1 || st.Bytes != int64(len(page)) {
		t.Errorf("status = %+v, want the one file pending", st)
	}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestRunDelivers runs the uploader as the daemon does: a scan wakes it,
// a failed link is retried after the backoff.
func TestRunDelivers(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}, arch: Opts{RetryMin: time.Minute, RetryMax: time.Hour}})
	p := newPlatform()
	p.failAfter = 0 // down at first
	r.a.SetTransport(p)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	r.mustScan("w1", caseNo)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (status %+v)", what, r.a.Status())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("a failed try", func() bool { return strings.Contains(r.a.Status().LastError, "link down") })
	p.mu.Lock()
	p.failAfter = -1
	p.mu.Unlock()
	// The retry waits for the backoff on the fake clock.
	waitFor("the retry delivering", func() bool {
		r.clock.Advance(time.Minute)
		return r.a.Status().Files == 0
	})
	if got := p.rcv.Received(); len(got) != 1 {
		t.Errorf("platform holds %d files, want 1", len(got))
	}
}
