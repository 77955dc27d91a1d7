package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUpdateCommit(t *testing.T) {
	pub, priv := testKey(1)
	d := newDevice(t, pub)
	s := d.slots(nil)

	in, err := d.install(mustBundle(t, spec("2.0.0", 4), priv))
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if in.Slot != "b" || in.KeyID != KeyID(pub) {
		t.Errorf("Install = slot %s key %s, want b %s", in.Slot, in.KeyID, KeyID(pub))
	}
	st := d.state()
	if st.Active != "a" || st.Trial != "b" || st.TriesLeft != DefaultTries {
		t.Errorf("state after Install = active %s trial %s tries %d, want a b %d", st.Active, st.Trial, st.TriesLeft, DefaultTries)
	}
	if got := d.running(); got != string(daemon("2.0.0", "arm64")) {
		t.Errorf("current daemon after Install = %.30q, want 2.0.0 arm64", got)
	}
	// The slot holds only this device's daemon, under its slot name.
	if _, err := os.Stat(filepath.Join(d.root, SlotsDir, "b", "hallgw-linux-armv7")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("slot b holds the armv7 daemon (stat err %v), want it skipped", err)
	}
	for _, n := range []string{BinaryName, "default.yaml", ManifestName, SignatureName, RecordName} {
		if _, err := os.Stat(filepath.Join(d.root, SlotsDir, "b", n)); err != nil {
			t.Errorf("slot b lacks %s: %v", n, err)
		}
	}

	// A daemon started before the install must not commit it.
	if ok, err := s.MarkGood(); ok || err != nil {
		t.Errorf("MarkGood before the trial boot = %v, %v, want false, nil", ok, err)
	}
	sel, err := s.Select()
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if want := (Selection{Slot: "b", Version: "2.0.0", Trial: true, TriesLeft: DefaultTries - 1}); *sel != want {
		t.Errorf("Select = %+v, want %+v", *sel, want)
	}
	if _, err := d.install(mustBundle(t, spec("3.0.0", 4), priv)); !errors.Is(err, ErrTrialPending) {
		t.Errorf("Install during trial = %v, want ErrTrialPending", err)
	}
	ok, err := s.MarkGood()
	if !ok || err != nil {
		t.Fatalf("MarkGood = %v, %v, want true, nil", ok, err)
	}
	st = d.state()
	if st.Active != "b" || st.Trial != "" || st.SecurityVersion != 4 {
		t.Errorf("state after MarkGood = active %s trial %q sv %d, want b \"\" 4", st.Active, st.Trial, st.SecurityVersion)
	}
	// The old slot stays as the fallback.
	if _, err := s.checkSlot("a"); err != nil {
		t.Errorf("fallback slot a after commit: %v", err)
	}
	sel, err = s.Select()
	if err != nil || sel.Slot != "b" || sel.Trial {
		t.Errorf("Select after commit = %+v, %v, want slot b, no trial", sel, err)
	}
	// The committed security version now refuses older bundles.
	_, err = d.install(mustBundle(t, spec("1.9.0", 3), priv))
	var de *DowngradeError
	if !errors.As(err, &de) || de.Bundle != 3 || de.Installed != 4 {
		t.Errorf("Install(sv 3) = %v, want *DowngradeError{3, 4}", err)
	}
	kinds := []string{}
	for _, e := range d.state().History {
		kinds = append(kinds, string(e.Kind))
	}
	if got, want := strings.Join(kinds, " "), "provisioned installed trial-boot committed"; got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
}

func TestUpdateRollback(t *testing.T) {
	pub, priv := testKey(1)
	d := newDevice(t, pub)
	s := d.slots(nil)
	if _, err := d.install(mustBundle(t, spec("2.0.0", 4), priv)); err != nil {
		t.Fatalf("Install: %v", err)
	}
	for boot := 1; boot <= DefaultTries; boot++ {
		sel, err := s.Select()
		if err != nil || sel.Slot != "b" || sel.TriesLeft != DefaultTries-boot {
			t.Fatalf("boot %d: Select = %+v, %v, want trial of b with %d tries left", boot, sel, err, DefaultTries-boot)
		}
		// The new daemon never gets healthy.
		if err := s.ReportProblem("journal: open: permission denied"); err != nil {
			t.Fatalf("ReportProblem: %v", err)
		}
	}
	sel, err := s.Select()
	if err != nil {
		t.Fatalf("Select after the last try: %v", err)
	}
	const want = "trial failed to become healthy after 3 boots (slot b, version 2.0.0); last problem: journal: open: permission denied"
	if sel.Slot != "a" || sel.Trial || sel.Reason != want {
		t.Errorf("Select = %+v, want slot a, reason %q", *sel, want)
	}
	if got := d.running(); got != string(daemon("1.0.0", "arm64")) {
		t.Errorf("current daemon after rollback = %.30q, want 1.0.0", got)
	}
	st := d.state()
	if st.Active != "a" || st.Trial != "" || st.SecurityVersion != 1 || st.LastFailureReason != want {
		t.Errorf("state after rollback = %+v", st)
	}
	// The reason survives later starts and is reported.
	for range 2 {
		if _, err := s.Select(); err != nil {
			t.Fatalf("Select: %v", err)
		}
	}
	rep, err := Status(d.root)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if rep.LastFailureReason != want || rep.Version != "1.0.0" || rep.Active != "a" || rep.Current != "a" {
		t.Errorf("Status = %+v, want active a, version 1.0.0, reason %q", rep, want)
	}
	// A new update can be installed after the rollback; it overwrites b.
	if _, err := d.install(mustBundle(t, spec("2.0.1", 4), priv)); err != nil {
		t.Fatalf("Install after rollback: %v", err)
	}
}

func TestRollbackCommand(t *testing.T) {
	pub, priv := testKey(1)
	d := newDevice(t, pub)
	s := d.slots(nil)
	if err := s.Rollback("operator"); !errors.Is(err, ErrNoTrial) {
		t.Errorf("Rollback without trial = %v, want ErrNoTrial", err)
	}
	if _, err := d.install(mustBundle(t, spec("2.0.0", 4), priv)); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if err := s.Rollback("printer firmware incompatible"); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	st := d.state()
	if st.Trial != "" || !strings.Contains(st.LastFailureReason, "printer firmware incompatible") || d.running() != string(daemon("1.0.0", "arm64")) {
		t.Errorf("after Rollback: trial %q reason %q", st.Trial, st.LastFailureReason)
	}
}

func TestInstallRefusalKeepsFallback(t *testing.T) {
	pub, priv := testKey(1)
	_, stranger := testKey(5)
	d := newDevice(t, pub)
	s := d.slots(nil)
	// v2 into b and committed: a (v1) is now the fallback.
	if _, err := d.install(mustBundle(t, spec("2.0.0", 1), priv)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkGood(); err != nil {
		t.Fatal(err)
	}
	tampered := untar(t, mustBundle(t, spec("3.0.0", 1), priv))
	tampered[2].data[5] ^= 1
	wrongBoard := spec("3.0.0", 1)
	wrongBoard.Compatible = "another-board"
	tests := []struct {
		name   string
		bundle []byte
		want   error
	}{
		{name: "untrusted key", bundle: mustBundle(t, spec("3.0.0", 1), stranger), want: ErrBadSignature},
		{name: "tampered", bundle: retar(t, tampered), want: ErrTampered},
		{name: "wrong board", bundle: mustBundle(t, wrongBoard, priv), want: ErrWrongBoard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.install(tt.bundle); !errors.Is(err, tt.want) {
				t.Fatalf("Install = %v, want %v", err, tt.want)
			}
			rec, err := s.checkSlot("a")
			if err != nil || rec.Version != "1.0.0" {
				t.Errorf("fallback slot a after refusal = %v, %v, want intact 1.0.0", rec, err)
			}
			if st := d.state(); st.Trial != "" || st.Active != "b" {
				t.Errorf("state after refusal = active %s trial %q, want b \"\"", st.Active, st.Trial)
			}
		})
	}
}

func TestInstallPolicyFromRoot(t *testing.T) {
	pub, priv := testKey(1)
	tests := []struct {
		name  string
		setup func(d *device)
		want  error
	}{
		{name: "no keys directory", setup: func(d *device) { os.RemoveAll(filepath.Join(d.root, KeysDir)) }, want: ErrNoKeys},
		{name: "empty key list", setup: func(d *device) { d.writeKeys() }, want: ErrNoKeys},
		{name: "no board file", setup: func(d *device) { os.Remove(filepath.Join(d.root, BoardFile)) }, want: ErrWrongBoard},
		{name: "other board", setup: func(d *device) { d.write(BoardFile, []byte("other\n")) }, want: ErrWrongBoard},
		{name: "other arch", setup: func(d *device) {}, want: ErrWrongArch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDevice(t, pub)
			tt.setup(d)
			s := d.slots(nil)
			if tt.name == "other arch" {
				s.Arch = "riscv64"
			}
			_, err := s.Install(t.Context(), bytes.NewReader(mustBundle(t, spec("2.0.0", 1), priv)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Install = %v, want %v", err, tt.want)
			}
		})
	}
	d := &device{t: t, root: t.TempDir()}
	_, err := d.install(mustBundle(t, spec("2.0.0", 1), priv))
	if !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Install on an empty root = %v, want ErrNotInstalled", err)
	}
}

func TestSelectRepairs(t *testing.T) {
	pub, priv := testKey(1)
	// committed returns a device with v1 in a (fallback) and v2 committed in b.
	committed := func(t *testing.T) *device {
		d := newDevice(t, pub)
		s := d.slots(nil)
		if _, err := d.install(mustBundle(t, spec("2.0.0", 2), priv)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Select(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkGood(); err != nil {
			t.Fatal(err)
		}
		return d
	}
	corrupt := func(d *device, slot string) {
		p := filepath.Join(d.root, SlotsDir, slot, BinaryName)
		b, err := os.ReadFile(p)
		if err != nil {
			d.t.Fatal(err)
		}
		b[10] ^= 0xff
		if err := os.WriteFile(p, b, 0o755); err != nil {
			d.t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		damage     func(d *device)
		wantSlot   string
		wantReason string // substring of Selection.Reason and last_failure_reason
		wantErr    error
	}{
		{name: "nothing wrong", damage: func(*device) {}, wantSlot: "b"},
		{name: "current points at the fallback", damage: func(d *device) {
			os.Remove(filepath.Join(d.root, CurrentLink))
			os.Symlink("slots/a", filepath.Join(d.root, CurrentLink))
		}, wantSlot: "b"},
		{name: "current missing", damage: func(d *device) { os.Remove(filepath.Join(d.root, CurrentLink)) }, wantSlot: "b"},
		{name: "active daemon corrupt", damage: func(d *device) { corrupt(d, "b") }, wantSlot: "a", wantReason: "slot b is damaged (hallgw: sha256 mismatch); fell back to slot a (version 1.0.0)"},
		{name: "active record missing", damage: func(d *device) { os.Remove(filepath.Join(d.root, SlotsDir, "b", RecordName)) }, wantSlot: "a", wantReason: "slot b is empty or incomplete"},
		{name: "active daemon truncated", damage: func(d *device) { os.Truncate(filepath.Join(d.root, SlotsDir, "b", BinaryName), 3) }, wantSlot: "a", wantReason: "hallgw: size 3"},
		{name: "both damaged", damage: func(d *device) { corrupt(d, "a"); corrupt(d, "b") }, wantErr: ErrNoBootableSlot},
		{name: "state missing", damage: func(d *device) { os.Remove(filepath.Join(d.root, StateFile)) }, wantSlot: "b"},
		{name: "state corrupt", damage: func(d *device) { d.write(StateFile, []byte(`{"format":1,"active":"c"}`)) }, wantSlot: "b", wantReason: "state file unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := committed(t)
			tt.damage(d)
			sel, err := d.slots(nil).Select()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Select = %+v, %v, want %v", sel, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if sel.Slot != tt.wantSlot {
				t.Errorf("Select slot = %s, want %s", sel.Slot, tt.wantSlot)
			}
			want := map[string]string{"a": "1.0.0", "b": "2.0.0"}[tt.wantSlot]
			if got := d.running(); got != string(daemon(want, "arm64")) {
				t.Errorf("current daemon = %.30q, want %s", got, want)
			}
			st := d.state()
			if !strings.Contains(st.LastFailureReason, tt.wantReason) {
				t.Errorf("last_failure_reason = %q, want it to contain %q", st.LastFailureReason, tt.wantReason)
			}
			if tt.name != "state missing" && tt.name != "state corrupt" && !strings.Contains(sel.Reason, tt.wantReason) {
				t.Errorf("Select reason = %q, want it to contain %q", sel.Reason, tt.wantReason)
			}
			if tt.wantReason == "" && st.LastFailureReason != "" {
				t.Errorf("last_failure_reason = %q, want none", st.LastFailureReason)
			}
		})
	}
}

func TestTrialSlotDamaged(t *testing.T) {
	pub, priv := testKey(1)
	d := newDevice(t, pub)
	if _, err := d.install(mustBundle(t, spec("2.0.0", 2), priv)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.root, SlotsDir, "b", "default.yaml"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	sel, err := d.slots(nil).Select()
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if sel.Slot != "a" || !strings.Contains(sel.Reason, "trial slot b is damaged: default.yaml: size 6") {
		t.Errorf("Select = %+v, want slot a and a damaged-trial reason", *sel)
	}
}

func TestKeyRotationThroughBundle(t *testing.T) {
	oldPub, oldPriv := testKey(1)
	newPub, newPriv := testKey(2)
	d := newDevice(t, oldPub)
	s := d.slots(nil)
	sp := spec("2.0.0", 2)
	sp.TrustedKeys = []ed25519.PublicKey{newPub}
	if _, err := d.install(mustBundle(t, sp, oldPriv)); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	// Until the commit the old list holds.
	if ring, _ := LoadKeyring(filepath.Join(d.root, KeysDir)); len(ring) != 1 || !ring[0].Equal(oldPub) {
		t.Fatalf("keys before commit = %v, want only the old key", ring.IDs())
	}
	if _, err := s.MarkGood(); err != nil {
		t.Fatalf("MarkGood: %v", err)
	}
	ring, err := LoadKeyring(filepath.Join(d.root, KeysDir))
	if err != nil || len(ring) != 1 || !ring[0].Equal(newPub) {
		t.Fatalf("keys after commit = %v, %v, want only the new key", ring.IDs(), err)
	}
	if _, err := d.install(mustBundle(t, spec("3.0.0", 2), oldPriv)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Install signed by the retired key = %v, want ErrBadSignature", err)
	}
	if _, err := d.install(mustBundle(t, spec("3.0.0", 2), newPriv)); err != nil {
		t.Errorf("Install signed by the new key = %v, want success", err)
	}
}

func TestKeyRotationHealsAfterCut(t *testing.T) {
	oldPub, oldPriv := testKey(1)
	newPub, _ := testKey(2)
	d := newDevice(t, oldPub)
	s := d.slots(nil)
	sp := spec("2.0.0", 2)
	sp.TrustedKeys = []ed25519.PublicKey{newPub}
	if _, err := d.install(mustBundle(t, sp, oldPriv)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	// Power fails right after the commit, before the old key is removed.
	cut := &cutFS{limit: 3}
	if _, err := d.slots(cut).MarkGood(); !errors.Is(err, errPowerCut) {
		t.Fatalf("MarkGood under cut = %v, want errPowerCut", err)
	}
	if ring, _ := LoadKeyring(filepath.Join(d.root, KeysDir)); len(ring) != 2 {
		t.Fatalf("keys after cut = %v, want old and new", ring.IDs())
	}
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	if ring, _ := LoadKeyring(filepath.Join(d.root, KeysDir)); len(ring) != 1 || !ring[0].Equal(newPub) {
		t.Errorf("keys after the next start = %v, want only the new key", ring.IDs())
	}
}

func TestGateCommit(t *testing.T) {
	pub, priv := testKey(1)
	tests := []struct {
		name      string
		failFirst int // checks failing before success; -1: never succeeds
		onTrial   bool
		wantErr   error
		wantSlot  string
	}{
		{name: "healthy at once", failFirst: 0, onTrial: true, wantSlot: "b"},
		{name: "healthy after three checks", failFirst: 3, onTrial: true, wantSlot: "b"},
		{name: "never healthy", failFirst: -1, onTrial: true, wantErr: ErrUnhealthy, wantSlot: "a"},
		{name: "not on trial", failFirst: -1, onTrial: false, wantSlot: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDevice(t, pub)
			s := d.slots(nil)
			if tt.onTrial {
				if _, err := d.install(mustBundle(t, spec("2.0.0", 2), priv)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Select(); err != nil {
					t.Fatal(err)
				}
			}
			calls := 0
			gate := Gate{Deadline: time.Minute, Interval: 10 * time.Second, Check: func(ctx context.Context) error {
				calls++
				if tt.failFirst < 0 || calls <= tt.failFirst {
					return errors.New("ups: no answer on /dev/ttyUSB0")
				}
				return nil
			}}
			done := make(chan error, 1)
			go func() { done <- s.GateCommit(t.Context(), gate) }()
			var err error
		wait:
			for {
				select {
				case err = <-done:
					break wait
				default:
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
				if d.clock.BlockUntilContext(ctx, 1) == nil {
					d.clock.Advance(gate.Interval)
				}
				cancel()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GateCommit = %v, want %v", err, tt.wantErr)
			}
			if !tt.onTrial && calls != 0 {
				t.Errorf("GateCommit off trial ran %d checks, want 0", calls)
			}
			st := d.state()
			if st.Active != tt.wantSlot {
				t.Errorf("active after GateCommit = %s, want %s", st.Active, tt.wantSlot)
			}
			if tt.wantErr != nil && st.TrialProblem != "ups: no answer on /dev/ttyUSB0" {
				t.Errorf("trial_problem = %q, want the last check error", st.TrialProblem)
			}
			if tt.wantErr != nil && calls != 7 {
				t.Errorf("checks in a 1 min gate every 10 s = %d, want 7", calls)
			}
		})
	}
}

func TestProvision(t *testing.T) {
	root := t.TempDir()
	s := New(root)
	bin1, bin2 := daemon("1.0.0", "arm64"), daemon("1.1.0", "arm64")
	p, err := s.Provision(ProvisionOpts{Binary: bin1, Version: "1.0.0"})
	if err != nil || p.Slot != "a" || !p.Changed {
		t.Fatalf("Provision(fresh) = %+v, %v, want slot a changed", p, err)
	}
	p, err = s.Provision(ProvisionOpts{Binary: bin1, Version: "1.0.0"})
	if err != nil || p.Slot != "a" || p.Changed {
		t.Fatalf("Provision(same) = %+v, %v, want slot a unchanged", p, err)
	}
	p, err = s.Provision(ProvisionOpts{Binary: bin2, Version: "1.1.0", SecurityVersion: 3})
	if err != nil || p.Slot != "b" || !p.Changed {
		t.Fatalf("Provision(new) = %+v, %v, want slot b changed", p, err)
	}
	if _, err := s.checkSlot("a"); err != nil {
		t.Errorf("old slot a after reprovision: %v", err)
	}
	st, err := s.loadState()
	if err != nil || st.Active != "b" || st.SecurityVersion != 3 {
		t.Errorf("state = %+v, %v, want active b, sv 3", st, err)
	}
	if _, err := s.Provision(ProvisionOpts{Version: "1.0.0"}); err == nil {
		t.Errorf("Provision(no binary) = nil error, want one")
	}
}

func TestStatusJSON(t *testing.T) {
	pub, priv := testKey(1)
	d := newDevice(t, pub)
	if _, err := d.install(mustBundle(t, spec("2.0.0", 2), priv)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.slots(nil).Select(); err != nil {
		t.Fatal(err)
	}
	rep, err := Status(d.root)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"active":"a"`, `"trial":"b"`, `"tries_left":2`, `"booted":"b"`, `"current":"b"`, `"version":"2.0.0"`, `"key_id":"` + KeyID(pub) + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Status JSON = %s, want it to contain %s", b, want)
		}
	}
	if _, err := Status(t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Status(empty root) = %v, want ErrNotInstalled", err)
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "committed", in: `{"format":1,"active":"a","tries_left":0,"security_version":3}`, ok: true},
		{name: "trial", in: `{"format":1,"active":"a","trial":"b","tries_left":2,"trial_tries":3,"booted":"b","security_version":3}`, ok: true},
		{name: "trial equals active", in: `{"format":1,"active":"a","trial":"a","tries_left":2}`},
		{name: "unknown slot", in: `{"format":1,"active":"c"}`},
		{name: "tries without trial", in: `{"format":1,"active":"a","tries_left":1}`},
		{name: "negative tries", in: `{"format":1,"active":"a","trial":"b","tries_left":-1}`},
		{name: "future format", in: `{"format":2,"active":"a"}`},
		{name: "bad booted", in: `{"format":1,"active":"a","booted":"x"}`},
		{name: "truncated", in: `{"format":1,"act`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseState([]byte(tt.in)); (err == nil) != tt.ok {
				t.Errorf("ParseState(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}
