package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errPowerCut is what every disk change returns once the power is "cut".
var errPowerCut = errors.New("power cut")

// cutFS is the OS filesystem with a power switch: it performs the first
// limit disk changes and refuses every later one, so the code under test
// stops at that point exactly as if the device had lost power. With torn
// set, the first refused change is left half done, as a power cut in the
// middle of it would: a stray temporary file, part of a tree removed, half
// a chunk written. limit < 0 never cuts (used to count the steps).
type cutFS struct {
	OSFS
	limit int
	torn  bool
	steps int
	cut   bool
	log   []string
}

// step accounts for one disk change and decides whether it happens.
func (c *cutFS) step(desc string, tear func()) error {
	c.steps++
	if c.limit >= 0 && c.steps > c.limit {
		if !c.cut && c.torn && tear != nil {
			tear()
		}
		c.cut = true
		return errPowerCut
	}
	c.log = append(c.log, desc)
	return nil
}

func (c *cutFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := c.step("mkdir "+name, nil); err != nil {
		return err
	}
	return c.OSFS.MkdirAll(name, perm)
}

func (c *cutFS) Remove(name string) error {
	if err := c.step("remove "+name, nil); err != nil {
		return err
	}
	return c.OSFS.Remove(name)
}

func (c *cutFS) RemoveAll(name string) error {
	err := c.step("remove -r "+name, func() {
		// Half removed: one file below name goes.
		filepath.WalkDir(name, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				os.Remove(p)
				return filepath.SkipAll
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return c.OSFS.RemoveAll(name)
}

func (c *cutFS) WriteFile(name string, r io.Reader, perm fs.FileMode) error {
	err := c.step("write "+name, func() {
		// The temporary file got half its bytes; the rename never happened.
		data, _ := io.ReadAll(r)
		os.WriteFile(filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".torn"), data[:len(data)/2], perm)
	})
	if err != nil {
		return err
	}
	return c.OSFS.WriteFile(name, r, perm)
}

func (c *cutFS) WriteAt(name string, off int64, p []byte) error {
	err := c.step(fmt.Sprintf("write %s at %d", name, off), func() {
		c.OSFS.WriteAt(name, off, p[:len(p)/2])
	})
	if err != nil {
		return err
	}
	return c.OSFS.WriteAt(name, off, p)
}

func (c *cutFS) Symlink(target, name string) error {
	err := c.step("symlink "+name+" -> "+target, func() {
		d := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+"4242")
		os.Mkdir(d, 0o755)
		os.Symlink(target, filepath.Join(d, "tmp.symlink"))
	})
	if err != nil {
		return err
	}
	return c.OSFS.Symlink(target, name)
}

// bootCheck runs one start of the service on the root: slot select, then the
// daemon that current names, which commits itself when healthy. It fails the
// test unless a good slot, old or new, runs and the state is consistent.
func bootCheck(t *testing.T, d *device, newHealthy bool, versions map[string]string) string {
	t.Helper()
	s := d.slots(nil)
	sel, err := s.Select()
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	st := d.state()
	if s.currentSlot() != sel.Slot || st.Booted != sel.Slot {
		t.Fatalf("after Select(%s): current %q booted %q", sel.Slot, s.currentSlot(), st.Booted)
	}
	if sel.Trial != (st.Trial == sel.Slot) || (!sel.Trial && st.Active != sel.Slot) {
		t.Fatalf("Select = %+v but state active %s trial %q", *sel, st.Active, st.Trial)
	}
	if _, err := s.checkSlot(sel.Slot); err != nil {
		t.Fatalf("booted slot %s is not intact: %v", sel.Slot, err)
	}
	if _, err := s.checkSlot(st.Active); err != nil {
		t.Fatalf("active slot %s is not intact: %v", st.Active, err)
	}
	running, ok := versions[d.running()]
	if !ok || running != sel.Version {
		t.Fatalf("current daemon is %q (%.20q), Select said %s", running, d.running(), sel.Version)
	}
	if sel.Trial {
		if newHealthy {
			if _, err := s.MarkGood(); err != nil {
				t.Fatalf("MarkGood: %v", err)
			}
		} else if err := s.ReportProblem("devices did not answer"); err != nil {
			t.Fatalf("ReportProblem: %v", err)
		}
	}
	return running
}

// TestPowerCutUpdate cuts the power after every disk step of an update (the
// install, the trial starts, the commit or the rollback), clean or torn,
// then starts the device again and again: it must always boot an intact
// slot, old or new, and end in a consistent state.
func TestPowerCutUpdate(t *testing.T) {
	pub, priv := testKey(1)
	bundle := mustBundle(t, spec("2.0.0", 2), priv)
	versions := map[string]string{string(daemon("1.0.0", "arm64")): "1.0.0", string(daemon("2.0.0", "arm64")): "2.0.0"}

	flow := func(ctx context.Context, s *Slots, healthy bool) error {
		if _, err := s.Install(ctx, bytes.NewReader(bundle)); err != nil {
			return err
		}
		for range DefaultTries + 2 {
			sel, err := s.Select()
			if err != nil {
				return err
			}
			if sel.Trial && healthy {
				if _, err := s.MarkGood(); err != nil {
					return err
				}
			} else if sel.Trial {
				if err := s.ReportProblem("devices did not answer"); err != nil {
					return err
				}
			}
		}
		return nil
	}

	for _, healthy := range []bool{true, false} {
		// Count the steps of an uninterrupted run.
		counter := &cutFS{limit: -1}
		d := newDevice(t, pub)
		if err := flow(t.Context(), d.slots(counter), healthy); err != nil {
			t.Fatalf("uninterrupted flow: %v", err)
		}
		if counter.steps < 10 {
			t.Fatalf("uninterrupted flow took %d steps, expected more: %v", counter.steps, counter.log)
		}
		for k := 0; k <= counter.steps; k++ {
			for _, torn := range []bool{false, true} {
				name := fmt.Sprintf("healthy=%v/cut-after-%02d/torn=%v", healthy, k, torn)
				t.Run(name, func(t *testing.T) {
					d := newDevice(t, pub)
					cut := &cutFS{limit: k, torn: torn}
					err := flow(t.Context(), d.slots(cut), healthy)
					if k < counter.steps && !errors.Is(err, errPowerCut) {
						t.Fatalf("flow with the power cut after step %d = %v, want errPowerCut", k, err)
					}
					if k == counter.steps && err != nil {
						t.Fatalf("flow with every step allowed = %v", err)
					}
					// Right after the cut: state readable, current intact.
					s := d.slots(nil)
					st, err := s.loadState()
					if err != nil {
						t.Fatalf("state after cut (last step %q): %v", last(cut.log), err)
					}
					if cur := s.currentSlot(); cur == "" {
						t.Fatalf("current names no slot after cut (last step %q)", last(cut.log))
					} else if _, err := s.checkSlot(cur); err != nil {
						t.Fatalf("current names a broken slot after cut (last step %q): %v", last(cut.log), err)
					}
					armed := false
					for _, e := range st.History {
						armed = armed || e.Kind == EventInstalled
					}
					var running string
					for range DefaultTries + 3 {
						running = bootCheck(t, d, healthy, versions)
					}
					st = d.state()
					if st.Trial != "" {
						t.Fatalf("still on trial after %d starts: %+v", DefaultTries+3, st)
					}
					switch {
					case armed && healthy:
						if running != "2.0.0" || st.SecurityVersion != 2 {
							t.Errorf("armed healthy update ended on %s sv %d, want 2.0.0 sv 2", running, st.SecurityVersion)
						}
					case armed && !healthy:
						if running != "1.0.0" || st.SecurityVersion != 1 || !strings.Contains(st.LastFailureReason, "trial failed to become healthy after 3 boots (slot b, version 2.0.0)") {
							t.Errorf("armed unhealthy update ended on %s sv %d reason %q, want 1.0.0, sv 1, the trial reason", running, st.SecurityVersion, st.LastFailureReason)
						}
					default:
						if running != "1.0.0" {
							t.Errorf("update cut before arming ended on %s, want 1.0.0", running)
						}
						// Nothing is wedged: the update can be applied again.
						if _, err := d.install(bundle); err != nil {
							t.Fatalf("Install after recovery: %v", err)
						}
						for range 2 {
							running = bootCheck(t, d, true, versions)
						}
						if running != "2.0.0" {
							t.Errorf("retried update ended on %s, want 2.0.0", running)
						}
					}
				})
			}
		}
	}
}

// TestPowerCutProvision cuts the power during the factory install of a
// fresh root and during a re-install on a working one.
func TestPowerCutProvision(t *testing.T) {
	v1, v2 := daemon("1.0.0", "arm64"), daemon("1.1.0", "arm64")
	versions := map[string]string{string(v1): "1.0.0", string(v2): "1.1.0"}
	tests := []struct {
		name  string
		fresh bool
	}{
		{name: "fresh root", fresh: true},
		{name: "working root", fresh: false},
	}
	for _, tt := range tests {
		prepare := func(t *testing.T) *device {
			if tt.fresh {
				return &device{t: t, root: t.TempDir(), clock: newDevice(t).clock}
			}
			return newDevice(t)
		}
		flow := func(s *Slots) error {
			bin, ver := v1, "1.0.0"
			if !tt.fresh {
				bin, ver = v2, "1.1.0"
			}
			if _, err := s.Provision(ProvisionOpts{Binary: bin, Version: ver}); err != nil {
				return err
			}
			_, err := s.Select()
			return err
		}
		counter := &cutFS{limit: -1}
		if err := flow(prepare(t).slots(counter)); err != nil {
			t.Fatalf("%s: uninterrupted: %v", tt.name, err)
		}
		for k := 0; k <= counter.steps; k++ {
			for _, torn := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/cut-after-%02d/torn=%v", tt.name, k, torn), func(t *testing.T) {
					d := prepare(t)
					cut := &cutFS{limit: k, torn: torn}
					flow(d.slots(cut))
					s := d.slots(nil)
					if _, err := s.Select(); err != nil {
						if !tt.fresh || !errors.Is(err, ErrNoBootableSlot) {
							t.Fatalf("Select after cut (last step %q): %v", last(cut.log), err)
						}
						// A factory install cut short: running it again must work.
						if err := flow(s); err != nil {
							t.Fatalf("install again: %v", err)
						}
					}
					running := bootCheck(t, d, true, versions)
					if tt.fresh && running != "1.0.0" {
						t.Errorf("fresh root boots %s, want 1.0.0", running)
					}
					if err := flow(s); err != nil {
						t.Fatalf("install again: %v", err)
					}
					if running := bootCheck(t, d, true, versions); running != map[bool]string{true: "1.0.0", false: "1.1.0"}[tt.fresh] {
						t.Errorf("after a completed install boots %s", running)
					}
				})
			}
		}
	}
}

// chunkSource serves an in-memory bundle and counts requests.
type chunkSource struct {
	data    []byte
	size    int
	fetched []int
	failAt  int // fail the request with this ordinal (1-based); 0 never
}

func (c *chunkSource) Chunk(ctx context.Context, i int) ([]byte, error) {
	c.fetched = append(c.fetched, i)
	if c.failAt != 0 && len(c.fetched) == c.failAt {
		return nil, errors.New("link down")
	}
	end := min((i+1)*c.size, len(c.data))
	return c.data[i*c.size : end], nil
}

// TestPowerCutDownload cuts the power after every step of a chunked
// download; after restarting, the download resumes and completes with the
// right bytes, fetching only what the bitmap says is missing.
func TestPowerCutDownload(t *testing.T) {
	data := bytes.Repeat([]byte("hallgw bundle bytes 0123456789\n"), 300) // 9300 bytes
	sum := sha256.Sum256(data)
	offer := Offer{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), ChunkSize: 1024}
	flow := func(st *Staging) error {
		d, err := st.Begin(offer)
		if err != nil {
			return err
		}
		_, err = Fetch(context.Background(), d, &chunkSource{data: data, size: offer.ChunkSize})
		return err
	}
	counter := &cutFS{limit: -1}
	if err := flow(&Staging{Dir: t.TempDir(), FS: counter}); err != nil {
		t.Fatalf("uninterrupted: %v", err)
	}
	for k := 0; k <= counter.steps; k++ {
		for _, torn := range []bool{false, true} {
			t.Run(fmt.Sprintf("cut-after-%02d/torn=%v", k, torn), func(t *testing.T) {
				dir := t.TempDir()
				flow(&Staging{Dir: dir, FS: &cutFS{limit: k, torn: torn}})
				st := &Staging{Dir: dir}
				d, err := st.Begin(offer)
				if err != nil {
					t.Fatalf("Begin after cut: %v", err)
				}
				missing := d.Missing(0)
				src := &chunkSource{data: data, size: offer.ChunkSize}
				p, err := Fetch(t.Context(), d, src)
				if err != nil {
					t.Fatalf("Fetch after cut: %v", err)
				}
				if fmt.Sprint(src.fetched) != fmt.Sprint(missing) {
					t.Errorf("fetched %v, want exactly the missing %v", src.fetched, missing)
				}
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("completed download differs from the bundle (err %v)", err)
				}
			})
		}
	}
}

func last(log []string) string {
	if len(log) == 0 {
		return "(none)"
	}
	return log[len(log)-1]
}
