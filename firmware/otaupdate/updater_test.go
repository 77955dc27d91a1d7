package otaupdate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/journal"
	"hallgw/firmware/update"
)

// memLink serves chunks from memory, by sha256.
type memLink struct {
	mu      sync.Mutex
	bundles map[string][]byte
	calls   map[int]int
	fail    func(i int) error        // non-nil error: Chunk fails
	gate    map[string]chan struct{} // Chunk of that sha256 waits for it
}

func newMemLink() *memLink {
	return &memLink{bundles: map[string][]byte{}, calls: map[int]int{}, gate: map[string]chan struct{}{}}
}

func (l *memLink) add(b []byte, cs int, version string) update.Offer {
	o := offerOf(b, cs, version)
	l.mu.Lock()
	l.bundles[o.SHA256] = b
	l.mu.Unlock()
	return o
}

func (l *memLink) count(i int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[i]
}

func (l *memLink) Source(d *update.Download) ChunkSource { return &memSource{l: l, o: d.Offer()} }

type memSource struct {
	l *memLink
	o update.Offer
}

func (s *memSource) Chunk(ctx context.Context, i int) ([]byte, error) {
	s.l.mu.Lock()
	s.l.calls[i]++
	fail, gate, b := s.l.fail, s.l.gate[s.o.SHA256], s.l.bundles[s.o.SHA256]
	s.l.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		if err := fail(i); err != nil {
			return nil, err
		}
	}
	if b == nil {
		return nil, ErrPlatform
	}
	off := int64(i) * int64(s.o.ChunkSize)
	return b[off : off+int64(chunkLen(s.o, i))], nil
}

func (s *memSource) Close() {}

// device is a root with slots, keys and a board, and an updater on it.
type device struct {
	t        *testing.T
	root     string
	pub      ed25519.PublicKey
	priv     ed25519.PrivateKey
	j        *journal.Journal
	link     *memLink
	restarts chan struct{}
	free     uint64
}

func newDevice(t *testing.T, sv uint64) *device {
	t.Helper()
	pub, priv := testKey(9)
	dv := &device{t: t, root: newRoot(t, sv, "tcp://127.0.0.1:1", pub), pub: pub, priv: priv, link: newMemLink(),
		restarts: make(chan struct{}, 4), free: 1 << 40}
	j, err := journal.Open(journal.Options{Path: filepath.Join(dv.root, update.DataDir, "journal.db"), GatewayID: testGW})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	dv.j = j
	return dv
}

// updater starts an updater on the device; it stops with the test.
func (dv *device) updater(clock clockwork.Clock, retry time.Duration) *Updater {
	dv.t.Helper()
	u, err := New(&Opts{Slots: update.New(dv.root), DataDir: filepath.Join(dv.root, update.DataDir), Journal: dv.j,
		GatewayID: testGW, Link: dv.link, Restart: func(uint64) { dv.restarts <- struct{}{} }, RetryMin: retry, RetryMax: retry,
		FreeBytes: func(string) (uint64, error) { return dv.free, nil }, Clock: clock, Logger: testLogger(dv.t)})
	if err != nil {
		dv.t.Fatal(err)
	}
	if err := u.Start(dv.t.Context()); err != nil {
		dv.t.Fatal(err)
	}
	dv.t.Cleanup(func() { u.Halt() })
	return u
}

func (dv *device) records() []Record { return journalRecords(dv.t, dv.j) }

// waitLast waits until the updater's last record is of type step.
func waitLast(t *testing.T, u *Updater, step string) Record {
	t.Helper()
	var last Record
	eventually(t, "a "+step+" record", func() bool {
		st := u.Status()
		if st.Last != nil {
			last = *st.Last
		}
		return st.Last != nil && st.Last.Type == step && st.Download == nil
	})
	return last
}

func (dv *device) waitRestart() {
	dv.t.Helper()
	select {
	case <-dv.restarts:
	case <-time.After(20 * time.Second):
		dv.t.Fatal("no restart asked for")
	}
}

func TestUpdaterInstalls(t *testing.T) {
	dv := newDevice(t, 1)
	u := dv.updater(nil, time.Hour)
	b := makeBundle(t, bundleSpec("1.5.0", 2, 9000), dv.priv)
	o := dv.link.add(b, 1024, "1.5.0")
	a, err := u.Offer(t.Context(), o)
	if err != nil || !a.Accepted || a.Chunks != o.Chunks() || a.Received != 0 || len(a.Events) != 1 {
		t.Fatalf("Offer = %+v, %v, want accepted with %d chunks", a, err, o.Chunks())
	}
	dv.waitRestart()
	last := waitLast(t, u, StepInstalled)
	if last.Slot != "b" || last.Version != "1.5.0" || last.KeyID != update.KeyID(dv.pub) {
		t.Errorf("installed record = %+v", last)
	}
	if want := []string{StepAccepted, StepDownloaded, StepInstalled}; !slices.Equal(steps(dv.records()), want) {
		t.Errorf("records = %v, want %v", steps(dv.records()), want)
	}
	checkInstalled(t, dv.root, "1.5.0")
	for i := range o.Chunks() {
		if n := dv.link.count(i); n != 1 {
			t.Errorf("chunk %d fetched %d times, want once", i, n)
		}
	}
	st := u.Status()
	if st.Report == nil || st.Trial != "b" || st.Download != nil {
		t.Errorf("status = %+v, want slot b on trial and no download", st)
	}
	// An update on trial refuses the next offer.
	if _, err := u.Offer(t.Context(), o); !errors.Is(err, update.ErrTrialPending) {
		t.Errorf("Offer during the trial = %v, want ErrTrialPending", err)
	}
}

// TestUpdaterRefuses offers bundles that must be refused: each leaves the
// slots as they were and is journaled with its code.
func TestUpdaterRefuses(t *testing.T) {
	_, stranger := testKey(10)
	wrongArch := bundleSpec("1.6.0", 6, 3000)
	wrongArch.Payloads[0].Arch, wrongArch.Payloads[0].Name = "mips64", "hallgw-linux-mips64"
	otherBoard := bundleSpec("1.6.0", 6, 3000)
	otherBoard.Compatible = "another-board"
	tests := []struct {
		name string
		make func(dv *device) update.Offer
		code string
	}{
		{"tampered", func(dv *device) update.Offer {
			return dv.link.add(tamper(t, makeBundle(t, bundleSpec("1.6.0", 6, 3000), dv.priv)), 1024, "")
		}, CodeTampered},
		{"untrusted key", func(dv *device) update.Offer {
			return dv.link.add(makeBundle(t, bundleSpec("1.6.0", 6, 3000), stranger), 1024, "")
		}, CodeBadSignature},
		{"downgrade", func(dv *device) update.Offer {
			return dv.link.add(makeBundle(t, bundleSpec("1.6.0", 4, 3000), dv.priv), 1024, "")
		}, CodeDowngrade},
		{"wrong board", func(dv *device) update.Offer {
			return dv.link.add(makeBundle(t, otherBoard, dv.priv), 1024, "")
		}, CodeWrongBoard},
		{"wrong arch", func(dv *device) update.Offer {
			return dv.link.add(makeBundle(t, wrongArch, dv.priv), 1024, "")
		}, CodeWrongArch},
		{"not a bundle", func(dv *device) update.Offer {
			return dv.link.add(bytes.Repeat([]byte("junk"), 700), 1024, "")
		}, CodeMalformed},
		{"sha256 does not match", func(dv *device) update.Offer {
			o := dv.link.add(makeBundle(t, bundleSpec("1.6.0", 6, 3000), dv.priv), 1024, "")
			lie := o
			lie.SHA256 = sha0
			dv.link.bundles[sha0] = dv.link.bundles[o.SHA256]
			return lie
		}, CodeChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dv := newDevice(t, 5)
			u := dv.updater(nil, time.Hour)
			before := slotState(t, dv.root)
			if _, err := u.Offer(t.Context(), tt.make(dv)); err != nil {
				t.Fatalf("Offer = %v", err)
			}
			last := waitLast(t, u, StepRefused)
			if last.Code != tt.code || last.Reason == "" {
				t.Errorf("refused record = %+v, want code %s with a reason", last, tt.code)
			}
			if after := slotState(t, dv.root); !bytes.Equal(after, before) {
				t.Errorf("state.json changed:\n%s\nwant\n%s", after, before)
			}
			if !stagingEmpty(t, dv.root) {
				t.Error("the download was kept")
			}
			select {
			case <-dv.restarts:
				t.Error("a refused bundle asked for a restart")
			default:
			}
		})
	}
}

// TestUpdaterResumesAfterStop stops an updater while its download waits
// to retry; a new one on the same root fetches only what is missing.
func TestUpdaterResumesAfterStop(t *testing.T) {
	dv := newDevice(t, 1)
	b := makeBundle(t, bundleSpec("1.7.0", 2, 12000), dv.priv)
	o := dv.link.add(b, 1024, "1.7.0")
	const k = 5
	dv.link.fail = func(i int) error {
		if i >= k {
			return ErrNoAnswer
		}
		return nil
	}
	u1 := dv.updater(nil, time.Hour)
	if _, err := u1.Offer(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the download paused", func() bool {
		d := u1.Status().Download
		return d != nil && d.State == StateRetrying && d.Received == k && d.LastError != "" && !d.RetryAt.IsZero()
	})
	if err := u1.Halt(); err != nil {
		t.Fatal(err)
	}
	dv.link.mu.Lock()
	dv.link.fail, dv.link.calls = nil, map[int]int{}
	dv.link.mu.Unlock()

	u2 := dv.updater(nil, time.Hour)
	dv.waitRestart()
	waitLast(t, u2, StepInstalled)
	for i := range o.Chunks() {
		if n := dv.link.count(i); (i < k && n != 0) || (i >= k && n != 1) {
			t.Errorf("after the restart chunk %d was fetched %d times", i, n)
		}
	}
	recs := dv.records()
	if want := []string{StepAccepted, StepResumed, StepDownloaded, StepInstalled}; !slices.Equal(steps(recs), want) {
		t.Fatalf("records = %v, want %v", steps(recs), want)
	}
	if recs[1].Received != k {
		t.Errorf("resumed record says %d received, want %d", recs[1].Received, k)
	}
	checkInstalled(t, dv.root, "1.7.0")
}

// TestOfferWakesPausedDownload: the same offer again ends the pause of a
// download at once.
func TestOfferWakesPausedDownload(t *testing.T) {
	dv := newDevice(t, 1)
	o := dv.link.add(makeBundle(t, bundleSpec("1.7.2", 2, 4000), dv.priv), 1024, "")
	dv.link.fail = func(int) error { return ErrNoAnswer }
	u := dv.updater(nil, time.Hour)
	if _, err := u.Offer(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the download paused", func() bool {
		d := u.Status().Download
		return d != nil && d.State == StateRetrying
	})
	dv.link.mu.Lock()
	dv.link.fail = nil
	dv.link.mu.Unlock()
	if a, err := u.Offer(t.Context(), o); err != nil || !a.Resumed {
		t.Fatalf("Offer again = %+v, %v, want resumed", a, err)
	}
	dv.waitRestart()
	waitLast(t, u, StepInstalled)
}

// TestUpdaterRetries fails one chunk once: the download waits RetryMin on
// its clock and goes on.
func TestUpdaterRetries(t *testing.T) {
	dv := newDevice(t, 1)
	b := makeBundle(t, bundleSpec("1.7.1", 2, 5000), dv.priv)
	o := dv.link.add(b, 1024, "")
	var once sync.Once
	dv.link.fail = func(i int) (err error) {
		if i == 2 {
			once.Do(func() { err = ErrNoAnswer })
		}
		return err
	}
	clock := clockwork.NewFakeClock()
	u := dv.updater(clock, time.Minute)
	if _, err := u.Offer(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if d := u.Status().Download; d == nil || d.State != StateRetrying || d.Received != 2 {
		t.Fatalf("download = %+v, want retrying with 2 chunks", d)
	}
	clock.Advance(time.Minute)
	dv.waitRestart()
	waitLast(t, u, StepInstalled)
	if n := dv.link.count(2); n != 2 {
		t.Errorf("chunk 2 fetched %d times, want twice", n)
	}
	if n := dv.link.count(1); n != 1 {
		t.Errorf("chunk 1 fetched %d times, want once", n)
	}
}

// TestUpdaterInterruptedInstall starts with a job file that says the
// install was under way when the power went.
func TestUpdaterInterruptedInstall(t *testing.T) {
	tests := []struct {
		name      string
		installed bool // the install had completed
	}{
		{"install had completed", true},
		{"install had not started", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dv := newDevice(t, 1)
			b := makeBundle(t, bundleSpec("1.8.0", 2, 4000), dv.priv)
			o := dv.link.add(b, 1024, "1.8.0")
			slots := update.New(dv.root)
			if tt.installed {
				if _, err := slots.Install(t.Context(), bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			// The download is complete on disk.
			d, err := slots.Staging().Begin(o)
			if err != nil {
				t.Fatal(err)
			}
			for i := range o.Chunks() {
				off := i * o.ChunkSize
				if err := d.WriteChunk(i, b[off:off+chunkLen(o, i)]); err != nil {
					t.Fatal(err)
				}
			}
			js := newJobStore(nil, filepath.Join(dv.root, update.DataDir))
			if err := js.save(&Job{Offer: o, Accepted: time.Now().UTC(), Installing: true}); err != nil {
				t.Fatal(err)
			}
			before := slotState(t, dv.root)

			u := dv.updater(nil, time.Hour)
			dv.waitRestart()
			last := waitLast(t, u, StepInstalled)
			if tt.installed {
				if last.Reason == "" || !bytes.Equal(slotState(t, dv.root), before) {
					t.Errorf("record %+v; the slots changed: the completed install was done again", last)
				}
			}
			if want := []string{StepResumed, StepInstalled}; !slices.Equal(steps(dv.records()), want) {
				t.Errorf("records = %v, want %v", steps(dv.records()), want)
			}
			if n := dv.link.count(0); n != 0 {
				t.Errorf("chunk 0 fetched %d times, want none (the download was complete)", n)
			}
			checkInstalled(t, dv.root, "1.8.0")
		})
	}
}

func TestOfferRules(t *testing.T) {
	dv := newDevice(t, 1)
	b := makeBundle(t, bundleSpec("1.9.0", 2, 3000), dv.priv)
	o := dv.link.add(b, 1024, "1.9.0")
	notStarted, err := New(&Opts{Slots: update.New(dv.root), DataDir: t.TempDir(), Journal: dv.j, Link: dv.link, Restart: func(uint64) {}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notStarted.Offer(t.Context(), o); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Offer before Start = %v, want ErrNotStarted", err)
	}
	u := dv.updater(nil, time.Hour)
	bad := o
	bad.ChunkSize = 10
	if _, err := u.Offer(t.Context(), bad); !errors.Is(err, ErrWire) {
		t.Errorf("Offer(chunk size 10) = %v, want ErrWire", err)
	}
	dv.free = uint64(2*o.Size - 1)
	if _, err := u.Offer(t.Context(), o); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Offer with too little space = %v, want ErrNoSpace", err)
	}
	dv.free = 1 << 40
	// The same offer twice while it downloads: the second is a resume.
	gate := make(chan struct{})
	dv.link.mu.Lock()
	dv.link.gate[o.SHA256] = gate
	dv.link.mu.Unlock()
	a1, err := u.Offer(t.Context(), o)
	if err != nil || a1.Resumed {
		t.Fatalf("first Offer = %+v, %v", a1, err)
	}
	a2, err := u.Offer(t.Context(), o)
	if err != nil || !a2.Resumed || a2.Events[0] == a1.Events[0] {
		t.Fatalf("second Offer = %+v, %v, want resumed with its own record", a2, err)
	}
	close(gate)
	dv.waitRestart()
	waitLast(t, u, StepInstalled)
	if want := []string{StepAccepted, StepAccepted, StepDownloaded, StepInstalled}; !slices.Equal(steps(dv.records()), want) {
		t.Errorf("records = %v, want %v", steps(dv.records()), want)
	}
}

// TestOfferSupersedes offers a second bundle while the first downloads.
func TestOfferSupersedes(t *testing.T) {
	dv := newDevice(t, 1)
	first := dv.link.add(makeBundle(t, bundleSpec("2.0.0", 2, 3000), dv.priv), 1024, "2.0.0")
	second := dv.link.add(makeBundle(t, bundleSpec("2.0.1", 2, 3000), dv.priv), 1024, "2.0.1")
	dv.link.gate[first.SHA256] = make(chan struct{}) // never opens
	u := dv.updater(nil, time.Hour)
	if _, err := u.Offer(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first download under way", func() bool {
		d := u.Status().Download
		return d != nil && d.SHA256 == first.SHA256
	})
	if _, err := u.Offer(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	dv.waitRestart()
	last := waitLast(t, u, StepInstalled)
	if last.SHA256 != second.SHA256 || last.Version != "2.0.1" {
		t.Errorf("installed = %+v, want the second bundle", last)
	}
	recs := dv.records()
	if want := []string{StepAccepted, StepFailed, StepAccepted, StepDownloaded, StepInstalled}; !slices.Equal(steps(recs), want) {
		t.Fatalf("records = %v, want %v", steps(recs), want)
	}
	if recs[1].SHA256 != first.SHA256 || recs[1].Code != CodeSuperseded {
		t.Errorf("record of the first = %+v, want superseded", recs[1])
	}
	if _, err := os.Stat(filepath.Join(dv.root, update.StagingDir, first.SHA256)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first download is still staged: %v", err)
	}
}

func TestNewChecks(t *testing.T) {
	ok := Opts{Slots: update.New(t.TempDir()), DataDir: t.TempDir(), Journal: nopJournal{}, Link: newMemLink(), Restart: func(uint64) {}}
	tests := []struct {
		name string
		edit func(o *Opts)
	}{
		{"no slots", func(o *Opts) { o.Slots = nil }},
		{"no data dir", func(o *Opts) { o.DataDir = "" }},
		{"no journal", func(o *Opts) { o.Journal = nil }},
		{"no link", func(o *Opts) { o.Link = nil }},
		{"no restart", func(o *Opts) { o.Restart = nil }},
		{"retry max below min", func(o *Opts) { o.RetryMin, o.RetryMax = time.Minute, time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			if u, err := New(&o); err == nil {
				t.Errorf("New(%s) = %v, nil, want an error", tt.name, u)
			}
		})
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) = nil error")
	}
	if _, err := New(&ok); err != nil {
		t.Errorf("New(complete) = %v", err)
	}
}

type nopJournal struct{}

func (nopJournal) Append(context.Context, ...journal.Record) (uint64, error) { return 1, nil }

// TestStartDropsDamagedJob: a job file that does not parse is removed,
// with the staging area, and the updater starts without a download.
func TestStartDropsDamagedJob(t *testing.T) {
	dv := newDevice(t, 1)
	data := filepath.Join(dv.root, update.DataDir)
	writeFile(t, data, JobFile, []byte(`{"format":1,"offer":{"sha256":"x"`))
	writeFile(t, filepath.Join(dv.root, update.StagingDir), sha0+"/bundle.part", []byte("left over"))
	u := dv.updater(nil, time.Hour)
	if st := u.Status(); st.Download != nil || st.Error != "" || st.Report == nil {
		t.Errorf("status = %+v, want slots and no download", st)
	}
	if _, err := os.Stat(filepath.Join(data, JobFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("damaged job file: %v, want it removed", err)
	}
	if !stagingEmpty(t, dv.root) {
		t.Error("the staging area was not cleared")
	}
}
