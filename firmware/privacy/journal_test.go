package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

func openJournal(t *testing.T, path string, now func() time.Time) *journal.Journal {
	t.Helper()
	j, err := journal.Open(journal.Options{Path: path, GatewayID: "gw-t1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// encodings returns the forms a name or number could take in a file: UTF-8,
// UTF-16 (both byte orders, as on the card) and GBK.
func encodings(t *testing.T, s string) [][]byte {
	t.Helper()
	out := [][]byte{[]byte(s)}
	for _, enc := range []func() ([]byte, error){
		func() ([]byte, error) {
			return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
		},
		func() ([]byte, error) {
			return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
		},
		func() ([]byte, error) { return simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s)) },
	} {
		b, err := enc()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestJournalHoldsNoClearData issues a ticket carrying a sealed subject
// through the real gateway and journal, then reads the bbolt file's bytes:
// neither the name nor the number may be in it, in any encoding. After the
// retention and Enforce the journaled blob can no longer be opened.
func TestJournalHoldsNoClearData(t *testing.T) {
	const retention = 7 * 24 * time.Hour
	clock := clockwork.NewFakeClockAt(halltest.Start().Add(2 * time.Hour))
	dir := t.TempDir()
	k := open(t, filepath.Join(dir, "privacy"), clock, retention)
	path := filepath.Join(dir, "journal.db")
	j := openJournal(t, path, clock.Now)
	ctx := context.Background()
	g, err := gateway.Open(ctx, gateway.Options{Journal: j, GatewayID: "gw-t1", Hall: halltest.Config(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := subject()
	sealed, err := k.Seal(clock.Now(), s)
	if err != nil {
		t.Fatal(err)
	}
	// The kiosk also sends the holder hash and birth date, never the
	// clear number.
	if _, err := g.Do(ctx, hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk",
		BirthDate: s.Birth, Personal: sealed}); err != nil {
		t.Fatal(err)
	}
	if err := g.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(file, sealed[SealOverhead-tagLen:]) {
		t.Fatal("the sealed blob is not in the journal file: the test looks in the wrong place")
	}
	for _, secret := range []string{s.Name, s.Number, s.Number[6:14]} {
		for _, enc := range encodings(t, secret) {
			if bytes.Contains(file, enc) {
				t.Errorf("journal file holds %q in clear (% x)", secret, enc)
			}
		}
	}

	// Read the blob back from the journal and open it.
	j = openJournal(t, path, clock.Now)
	defer j.Close()
	personal := func() []byte {
		var p []byte
		err := j.Scan(0, func(r journal.Record) error {
			if r.Kind != gateway.KindHall {
				return nil
			}
			var e hall.Event
			if err := e.UnmarshalBinary(r.Data); err != nil {
				return err
			}
			if e.Type == hall.EvTicketIssued {
				p = bytes.Clone(e.Personal)
			}
			return nil
		})
		if err != nil || p == nil {
			t.Fatalf("no ticket with personal data in the journal (%v)", err)
		}
		return p
	}
	var got Subject
	if err := k.Open(personal(), &got); err != nil || got != s {
		t.Fatalf("Open(journaled blob) = %v, want the subject", err)
	}
	clock.Advance(retention + 24*time.Hour)
	if n, err := k.Enforce(); err != nil || n != 1 {
		t.Fatalf("Enforce() = %d, %v; want 1", n, err)
	}
	if err := k.Open(personal(), &got); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open(journaled blob) after retention = %v, want ErrExpired", err)
	}
}

func TestEnforcerDaily(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	dir := t.TempDir()
	k := open(t, filepath.Join(dir, "privacy"), clock, 24*time.Hour)
	j := openJournal(t, filepath.Join(dir, "journal.db"), clock.Now)
	defer j.Close()
	for i := range 3 {
		if _, err := k.Seal(t0.AddDate(0, 0, i), subject()); err != nil {
			t.Fatal(err)
		}
	}
	e, err := NewEnforcer(EnforcerOpts{Keeper: k, Journal: j, Clock: clock, Now: clock.Now, Location: shanghai, Check: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status %+v", what, e.Status())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("the first pass", func() bool { return !e.Status().LastRun.IsZero() })
	if st := e.Status(); st.LastN != 0 || st.Days != 3 || st.Upstream != "hash" {
		t.Fatalf("first pass status = %+v, want nothing shredded, 3 days", st)
	}
	// The first day (2 March) expires 24 h after its end, at midnight on 4
	// March; a pass runs on the first check after each change of date.
	advanceTo := func(at time.Time) {
		clock.Advance(at.Sub(clock.Now()))
	}
	advanceTo(time.Date(2026, 3, 3, 0, 0, 30, 0, shanghai))
	waitFor("the pass of 3 March", func() bool { return e.Status().LastRun.Day() == 3 })
	if st := e.Status(); st.LastN != 0 || st.Days != 3 {
		t.Fatalf("status on 3 March = %+v, want nothing shredded yet", st)
	}
	advanceTo(time.Date(2026, 3, 4, 0, 0, 30, 0, shanghai))
	waitFor("the pass of 4 March", func() bool { return e.Status().LastRun.Day() == 4 })
	if st := e.Status(); st.LastN != 1 || st.Days != 2 || st.Shredded != "2026-03-02" || st.LastErr != "" {
		t.Errorf("status on 4 March = %+v, want 1 shredded through 2026-03-02, 2 days left", st)
	}
	var rec shredRecord
	err = j.Scan(0, func(r journal.Record) error {
		if r.Kind == KindPrivacy {
			return json.Unmarshal(r.Data, &rec)
		}
		return nil
	})
	if err != nil || rec.Type != "keys_shredded" || rec.Days != 1 || rec.Through != "2026-03-02" || rec.V != 1 {
		t.Errorf("journaled record = %+v, %v; want keys_shredded of 1 day through 2026-03-02", rec, err)
	}
}

// TestComponent starts the component as the daemon would and finds the
// Keeper with For and the status section.
func TestComponent(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Gateway.DataDir = "/data"
	clock := clockwork.NewFakeClockAt(t0)
	j := openJournal(t, filepath.Join(dir, "journal.db"), clock.Now)
	defer j.Close()
	d := &daemon.Daemon{
		Options: daemon.Options{Config: &config.Loaded{Config: cfg, Hash: "0123456789abcdef"}, Root: dir,
			Now: clock.Now, Logger: slog.New(slog.DiscardHandler)},
		Cfg: cfg, Journal: j, Health: health.NewRegistry(clock.Now),
	}
	if c, err := NewComponent(d, config.Privacy{}); c != nil || err != nil || For(d) != nil {
		t.Fatalf("NewComponent without a secret = %v, %v; want nothing", c, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewComponent(d, config.Privacy{SecretFile: "/secret", Retention: config.Duration(48 * time.Hour)})
	if err != nil || c == nil {
		t.Fatalf("NewComponent = %v, %v", c, err)
	}
	k := For(d)
	if k == nil || k.Retention() != 48*time.Hour || k.Dir() != filepath.Join(dir, "data", "privacy") {
		t.Fatalf("For(d) = %v, want the keeper under the data dir", k)
	}
	if got := k.HolderHash("11010519491231002X"); got != "h1:36796cb53117e77f3d54e860160bef2363f6d06bda3b7a3dc8227bd09ab3d905" {
		t.Errorf("HolderHash with the file's secret = %s", got)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	st, ok := d.Status()["privacy"].(Status)
	if !ok || st.Retention != "48h0m0s" {
		t.Errorf("status section = %#v, want the privacy status", d.Status()["privacy"])
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if For(d) != nil {
		t.Error("For(d) after Stop still returns the keeper")
	}
}
