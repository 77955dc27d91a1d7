package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// TestCrashRecovery runs the real daemon under load from concurrent API
// clients and kills it with SIGKILL at random moments, at least 50 times.
// After each kill it checks, on the journal the process left behind, that
// every event the process acknowledged is there, unchanged and gap-free,
// and that replaying the journal gives exactly the states the live process
// reported (by digest) before it died; after each restart the daemon's
// rebuilt state equals the replay.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the real daemon 50 times")
	}
	bin := hallgwBinary(t)
	dir := t.TempDir()
	addr := freePort(t)
	cfgPath := filepath.Join(dir, "hallgw.yaml")
	c := config.Default()
	c.Gateway.ID = "gw-crash"
	c.Gateway.DataDir = filepath.Join(dir, "data")
	c.HTTP.Listen = addr
	c.Journal.SnapshotEvery = 200 // snapshots are taken (and must be right) between kills
	yml, err := config.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(c.Gateway.DataDir, "journal.db")
	base := "http://" + addr

	const rounds = 50
	rng := rand.New(rand.NewPCG(7, 7))
	totalAcked := 0
	var replayed digestDoc
	for round := 0; round < rounds; round++ {
		proc := startDaemon(t, bin, cfgPath, base)

		// Right after a restart the daemon's rebuilt state must equal the
		// offline replay of what the previous process left.
		if round > 0 {
			live := getDigest(t, base)
			if live.Seq != replayed.Seq || live.Digest != replayed.Digest {
				proc.kill()
				t.Fatalf("round %d: restarted daemon reports seq %d digest %s; replaying the journal gives seq %d digest %s",
					round, live.Seq, live.Digest, replayed.Seq, replayed.Digest)
			}
		}

		acked, digests := loadUntilKilled(t, base, proc, rng)
		totalAcked += len(acked)

		j, err := journal.Open(journal.Options{Path: dbPath, GatewayID: "gw-crash"})
		if err != nil {
			t.Fatalf("round %d: reopen journal: %v", round, err)
		}
		checkAcked(t, round, j, acked)
		checkDigests(t, round, j, digests)
		h, last, _, err := gateway.Rebuild(j, 0)
		if err != nil {
			t.Fatalf("round %d: rebuild: %v", round, err)
		}
		d := h.Digest()
		replayed = digestDoc{Seq: last, Digest: hex.EncodeToString(d[:])}
		j.Close()
	}
	if totalAcked < rounds*10 {
		t.Errorf("only %d events acknowledged over %d rounds: the load did not run", totalAcked, rounds)
	}
	t.Logf("%d kills, %d acknowledged events verified", rounds, totalAcked)
}

type daemonProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

func (p *daemonProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func startDaemon(t *testing.T, bin, cfgPath, base string) *daemonProc {
	t.Helper()
	p := &daemonProc{out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "run", "--config", cfgPath, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/digest")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("daemon exited at start:\n%s", p.out)
		default:
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("daemon did not start:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type digestDoc struct {
	Seq    uint64 `json:"seq"`
	Digest string `json:"digest"`
}

func getDigest(t *testing.T, base string) digestDoc {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/digest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d digestDoc
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// ackedEvent is one event a successful API answer reported.
type ackedEvent struct {
	ID     string `json:"id"`
	Seq    uint64 `json:"seq"`
	Type   string `json:"type"`
	Ticket uint64 `json:"ticket"`
	Number string `json:"number"`
	Window string `json:"window"`
}

// loadUntilKilled drives the daemon with 8 concurrent clients and kills it
// after a random time. It returns every acknowledged event and every digest
// the daemon reported.
func loadUntilKilled(t *testing.T, base string, p *daemonProc, rng *rand.Rand) ([]ackedEvent, []digestDoc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var acked []ackedEvent
	var digests []digestDoc
	client := &http.Client{Timeout: 10 * time.Second}
	services := []string{"general", "estate", "social", "fund", "delivery"}
	post := func(path string, body any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(b))
		resp, err := client.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 201 {
			io.Copy(io.Discard, resp.Body)
			return
		}
		var res struct {
			Events []ackedEvent `json:"events"`
		}
		if json.NewDecoder(resp.Body).Decode(&res) != nil {
			return // cut off mid-answer by the kill: not acknowledged
		}
		mu.Lock()
		acked = append(acked, res.Events...)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			win := fmt.Sprint(1 + r.IntN(20))
			for ctx.Err() == nil {
				switch x := r.IntN(10); {
				case x < 4:
					post("/api/v1/tickets", map[string]any{"service": services[r.IntN(len(services))], "source": "test"})
				case x < 5:
					post("/api/v1/windows/"+win+"/open", map[string]any{"staff": "S" + win})
				case x < 7:
					post("/api/v1/windows/"+win+"/call-next", nil)
				case x < 8:
					post("/api/v1/windows/"+win+"/finish", nil)
				case x < 9:
					post("/api/v1/windows/"+win+"/skip", nil)
				default:
					win = fmt.Sprint(1 + r.IntN(20))
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/digest", nil)
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			var d digestDoc
			if json.NewDecoder(resp.Body).Decode(&d) == nil && resp.StatusCode == 200 {
				mu.Lock()
				digests = append(digests, d)
				mu.Unlock()
			}
			resp.Body.Close()
			time.Sleep(15 * time.Millisecond)
		}
	}()
	time.Sleep(time.Duration(50+rng.IntN(350)) * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	cancel()
	wg.Wait()
	return acked, digests
}

// checkAcked verifies that every acknowledged event is in the journal with
// the content the answer gave, and that sequences have no gap.
func checkAcked(t *testing.T, round int, j *journal.Journal, acked []ackedEvent) {
	t.Helper()
	for _, a := range acked {
		recs, err := j.Read(a.Seq, 1)
		if err != nil || len(recs) == 0 || recs[0].Seq != a.Seq {
			t.Fatalf("round %d: acknowledged event %s (seq %d, %s) is not in the journal", round, a.ID, a.Seq, a.Type)
		}
		if want := journal.EventID("gw-crash", a.Seq); a.ID != want {
			t.Fatalf("round %d: event id %q, want %q", round, a.ID, want)
		}
		var ev hall.Event
		if err := ev.UnmarshalBinary(recs[0].Data); err != nil {
			t.Fatalf("round %d: event %d: %v", round, a.Seq, err)
		}
		if ev.Type.String() != a.Type || uint64(ev.Ticket) != a.Ticket || ev.Number != a.Number || ev.Window != a.Window {
			t.Fatalf("round %d: event %d in journal = %s ticket %d %q window %q; acknowledged %s ticket %d %q window %q",
				round, a.Seq, ev.Type, ev.Ticket, ev.Number, ev.Window, a.Type, a.Ticket, a.Number, a.Window)
		}
	}
	next := j.First()
	err := j.Scan(next, func(r journal.Record) error {
		if r.Seq != next {
			return fmt.Errorf("gap: seq %d after %d", r.Seq, next-1)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if next-1 != j.Committed() {
		t.Fatalf("round %d: scan ended at %d, committed %d", round, next-1, j.Committed())
	}
}

// checkDigests replays the journal up to the last states the live process
// reported and compares digests.
func checkDigests(t *testing.T, round int, j *journal.Journal, ds []digestDoc) {
	t.Helper()
	if len(ds) == 0 {
		return
	}
	check := []digestDoc{ds[len(ds)-1]}
	if len(ds) > 2 {
		check = append(check, ds[len(ds)/2])
	}
	for _, d := range check {
		h, _, _, err := gateway.Rebuild(j, d.Seq)
		if err != nil {
			t.Fatalf("round %d: rebuild at %d: %v", round, d.Seq, err)
		}
		got := h.Digest()
		if hex.EncodeToString(got[:]) != d.Digest {
			t.Fatalf("round %d: replay to seq %d gives digest %x, the live daemon reported %s", round, d.Seq, got, d.Digest)
		}
	}
}
