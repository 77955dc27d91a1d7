package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Selection is what Select decided for this start.
type Selection struct {
	Slot      string `json:"slot"`
	Version   string `json:"version"`
	Trial     bool   `json:"trial"`
	TriesLeft int    `json:"tries_left,omitempty"`
	// Reason is set when this start rolled back a trial or fell back from a
	// damaged slot.
	Reason string `json:"reason,omitempty"`
	// Warning reports a non-fatal problem (a key list that could not be
	// brought in line with the committed slot).
	Warning string `json:"warning,omitempty"`
}

// Select decides which slot this start of the service runs, in the role of
// a bootloader; systemd runs it (hallgw slot select) before every start,
// from the stable copy of hallgw.
//
//   - An update on trial gets one of its tries; when none are left, or its
//     slot is damaged, it is rolled back and the reason recorded.
//   - Otherwise the active slot runs; if its files are damaged and the other
//     slot is intact, the other one takes over, again with a reason.
//   - current is made to point at the chosen slot, whatever a power cut left.
//
// It returns an error wrapping ErrNoBootableSlot when neither slot can run.
func Select(root string) (*Selection, error) { return New(root).Select() }

// Select is the method form of the package function Select.
func (s *Slots) Select() (*Selection, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	st, err := s.loadState()
	if errors.Is(err, ErrNotInstalled) || errors.Is(err, errBadState) {
		st, err = s.rebuildState(err)
	}
	if err != nil {
		return nil, err
	}
	sel := &Selection{}
	changed := false
	if st.Trial != "" {
		rec, cerr := s.checkSlot(st.Trial)
		var reason string
		switch {
		case st.TriesLeft <= 0:
			reason = fmt.Sprintf("trial failed to become healthy after %d boots (slot %s, version %s)", st.TrialTries, st.Trial, versionOf(rec))
			if st.TrialProblem != "" {
				reason += "; last problem: " + st.TrialProblem
			}
		case cerr != nil:
			reason = fmt.Sprintf("trial slot %s is damaged: %v", st.Trial, cerr)
		}
		if reason == "" {
			st.TriesLeft--
			st.Booted = st.Trial
			s.event(st, EventTrialBoot, st.Trial, rec.Version, fmt.Sprintf("%d tries left", st.TriesLeft))
			if err := s.saveState(st); err != nil {
				return nil, err
			}
			if err := s.link(st.Trial); err != nil {
				return nil, err
			}
			return &Selection{Slot: st.Trial, Version: rec.Version, Trial: true, TriesLeft: st.TriesLeft}, nil
		}
		s.rollback(st, versionOf(rec), reason)
		sel.Reason = reason
		changed = true
	}

	rec, cerr := s.checkSlot(st.Active)
	if cerr != nil {
		other := otherSlot(st.Active)
		orec, oerr := s.checkSlot(other)
		if oerr != nil {
			if changed {
				s.saveState(st) // keep the rollback reason even though nothing boots
			}
			return nil, fmt.Errorf("%w: slot %s: %v; slot %s: %v", ErrNoBootableSlot, st.Active, cerr, other, oerr)
		}
		reason := fmt.Sprintf("slot %s is damaged (%v); fell back to slot %s (version %s)", st.Active, cerr, other, orec.Version)
		s.fail(st, reason)
		s.event(st, EventFellBack, other, orec.Version, reason)
		st.Active, rec = other, orec
		sel.Reason = strings.TrimPrefix(sel.Reason+"; "+reason, "; ")
		changed = true
	}
	if st.Booted != st.Active {
		st.Booted = st.Active
		changed = true
	}
	if changed {
		if err := s.saveState(st); err != nil {
			return nil, err
		}
	}
	if err := s.link(st.Active); err != nil {
		return nil, err
	}
	sel.Slot, sel.Version = st.Active, rec.Version
	if err := s.syncKeys(rec, true); err != nil {
		sel.Warning = err.Error()
	}
	return sel, nil
}

// versionOf tolerates a missing record.
func versionOf(rec *SlotRecord) string {
	if rec == nil {
		return "unknown"
	}
	return rec.Version
}

// rollback gives up the trial in st (not yet saved).
func (s *Slots) rollback(st *State, version, reason string) {
	s.fail(st, reason)
	s.event(st, EventRolledBack, st.Trial, version, reason)
	st.Trial = ""
	st.TriesLeft = 0
	st.TrialTries = 0
	st.TrialProblem = ""
}

// rebuildState makes a state for a root whose state.json is missing (an
// install cut short) or unusable: the slot current names if it is intact,
// else the first intact slot.
func (s *Slots) rebuildState(cause error) (*State, error) {
	order := []string{"a", "b"}
	if cur := s.currentSlot(); cur == "b" {
		order = []string{"b", "a"}
	}
	var problems []string
	for _, slot := range order {
		rec, err := s.checkSlot(slot)
		if err != nil {
			problems = append(problems, fmt.Sprintf("slot %s: %v", slot, err))
			continue
		}
		st := &State{Format: StateFormat, Active: slot, SecurityVersion: rec.SecurityVersion}
		detail := "no state file"
		if errors.Is(cause, errBadState) {
			detail = cause.Error()
			s.fail(st, fmt.Sprintf("%s; adopted slot %s (version %s)", detail, slot, rec.Version))
		}
		s.event(st, EventAdopted, slot, rec.Version, detail)
		return st, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoBootableSlot, strings.Join(problems, "; "))
}

// MarkGood commits the update on trial once the daemon started from it is
// healthy: its slot becomes the active one, the previous slot stays as the
// fallback, and the security version rises to the bundle's. It is a no-op
// when no trial is running (also when the running daemon was started
// before the trial was installed).
func MarkGood(root string) error {
	_, err := New(root).MarkGood()
	return err
}

// MarkGood is the method form of the package function MarkGood; it reports
// whether a trial was committed.
func (s *Slots) MarkGood() (bool, error) {
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()

	st, err := s.loadState()
	if err != nil {
		return false, err
	}
	if st.Trial == "" || st.Booted != st.Trial {
		return false, nil
	}
	rec, err := s.readRecord(st.Trial)
	if err != nil {
		return false, fmt.Errorf("update: commit slot %s: %w", st.Trial, err)
	}
	// Add the new keys before committing, remove the old ones after: a power
	// cut in between leaves a superset, which Select trims.
	if err := s.syncKeys(rec, false); err != nil {
		return false, err
	}
	slot := st.Trial
	st.Active = slot
	st.Trial = ""
	st.TriesLeft = 0
	st.TrialTries = 0
	st.TrialProblem = ""
	st.SecurityVersion = max(st.SecurityVersion, rec.SecurityVersion)
	s.event(st, EventCommitted, slot, rec.Version, "")
	if err := s.saveState(st); err != nil {
		return false, err
	}
	if err := s.syncKeys(rec, true); err != nil {
		return true, err
	}
	return true, nil
}

// Rollback gives up the update on trial at once, recording reason, and
// points current back at the active slot; the service must then be
// restarted. It returns ErrNoTrial when nothing is on trial.
func (s *Slots) Rollback(reason string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	if st.Trial == "" {
		return ErrNoTrial
	}
	rec, _ := s.readRecord(st.Trial)
	s.rollback(st, versionOf(rec), fmt.Sprintf("trial abandoned (slot %s, version %s): %s", st.Trial, versionOf(rec), reason))
	if err := s.saveState(st); err != nil {
		return err
	}
	return s.link(st.Active)
}

// ReportProblem records the latest health failure of the daemon on trial,
// so that a rollback can say what went wrong. It does nothing when no trial
// is running.
func (s *Slots) ReportProblem(problem string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	if st.Trial == "" || st.Booted != st.Trial || st.TrialProblem == clip(problem) {
		return nil
	}
	st.TrialProblem = clip(problem)
	return s.saveState(st)
}

// OnTrial reports whether the running daemon was started from a slot on
// trial.
func (s *Slots) OnTrial() (bool, error) {
	st, err := s.loadState()
	if err != nil {
		return false, err
	}
	return st.Trial != "" && st.Booted == st.Trial, nil
}

// Gate is the health gate a new daemon passes before its slot is committed.
type Gate struct {
	// Check runs the health checks (configuration loaded, journal open,
	// devices answered) and returns nil when all pass. It should be cheap
	// and honour ctx.
	Check func(ctx context.Context) error
	// Deadline bounds the wait for health; DefaultGate.Deadline if zero.
	Deadline time.Duration
	// Interval separates attempts; DefaultGate.Interval if zero.
	Interval time.Duration
}

// DefaultGate holds the defaults for Gate: generous, because a health check
// that cannot finish under load must not roll back a good update.
var DefaultGate = Gate{Deadline: 3 * time.Minute, Interval: 5 * time.Second}

// GateCommit runs the gate's checks until they pass, then commits the trial
// (MarkGood). When the daemon was not started from a trial it returns nil at
// once. When the deadline passes first it records the last failure with
// ReportProblem and returns an error wrapping ErrUnhealthy: the daemon should
// then exit non-zero, so that systemd restarts it and Select counts a try.
func (s *Slots) GateCommit(ctx context.Context, g Gate) error {
	if g.Check == nil {
		return errors.New("update: gate has no health check")
	}
	if g.Deadline <= 0 {
		g.Deadline = DefaultGate.Deadline
	}
	if g.Interval <= 0 {
		g.Interval = DefaultGate.Interval
	}
	on, err := s.OnTrial()
	if err != nil || !on {
		return err
	}
	clk := s.clock()
	deadline := clk.Now().Add(g.Deadline)
	for {
		cerr := g.Check(ctx)
		if cerr == nil {
			_, err := s.MarkGood()
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !clk.Now().Before(deadline) {
			if err := s.ReportProblem(cerr.Error()); err != nil {
				return errors.Join(fmt.Errorf("%w: %w", ErrUnhealthy, cerr), err)
			}
			return fmt.Errorf("%w after %v: %w", ErrUnhealthy, g.Deadline, cerr)
		}
		wait := min(g.Interval, deadline.Sub(clk.Now()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clk.After(wait):
		}
	}
}

// syncKeys brings the key list in line with a committed slot whose bundle
// carried trusted_keys: it adds the missing keys and, with prune, removes
// the others. Slots without trusted_keys leave the list alone.
func (s *Slots) syncKeys(rec *SlotRecord, prune bool) error {
	if len(rec.TrustedKeys) == 0 {
		return nil
	}
	want := map[string]ed25519.PublicKey{}
	for _, k := range rec.TrustedKeys {
		pub, err := ParsePublicKey([]byte(k))
		if err != nil {
			return fmt.Errorf("update: trusted key: %w", err)
		}
		want[KeyID(pub)] = pub
	}
	dir := s.path(KeysDir)
	files, err := keyFiles(s.fs(), dir)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, f := range files {
		if f.err == nil {
			have[KeyID(f.pub)] = true
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if have[id] {
			continue
		}
		pub := want[id]
		if err := s.fs().MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("update: trusted keys: %w", err)
		}
		if err := s.fs().WriteFile(filepath.Join(dir, id+PublicKeySuffix), bytes.NewReader(MarshalPublicKey(pub)), 0o644); err != nil {
			return fmt.Errorf("update: trusted keys: %w", err)
		}
	}
	if !prune {
		return nil
	}
	for _, f := range files {
		if f.err == nil && want[KeyID(f.pub)] != nil {
			continue
		}
		if err := s.fs().Remove(filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("update: trusted keys: %w", err)
		}
	}
	return nil
}
