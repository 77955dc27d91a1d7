package journal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv, when set to a file path, turns the test binary into the
// crash child: it appends to that journal until it is killed.
const crashChildEnv = "HALLGW_JOURNAL_CRASH_CHILD"

const crashGateway = "gw-crash"

// crashChild opens the journal and appends from 16 goroutines, printing
// "ack <seq> <data>" for every record Append acknowledged, "cursor <n>" and
// "snap <n>" for every durable cursor and snapshot, until SIGKILL.
func crashChild() int {
	path := os.Getenv(crashChildEnv)
	j, err := Open(Options{Path: path, GatewayID: crashGateway, TelemetryDelay: 2 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		mu.Lock()
		os.Stdout.WriteString(line) // one write per line: a kill cuts at most the last one
		mu.Unlock()
	}
	say("ready %d\n", j.Committed())
	run := rand.Uint32()
	for p := range 16 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(run), uint64(p)))
			for i := 0; ; i++ {
				recs := make([]Record, 1+rng.IntN(3))
				for k := range recs {
					pad := strings.Repeat("x", rng.IntN(300))
					recs[k] = Record{Kind: fmt.Sprintf("p%02d", p), Data: fmt.Appendf(nil, "%08x-p%02d-%d-%d-%s", run, p, i, k, pad)}
				}
				first, err := j.Append(context.Background(), recs...)
				if err != nil {
					say("err %v\n", err)
					return
				}
				for k, r := range recs {
					say("ack %d %s\n", first+uint64(k), r.Data)
				}
			}
		}()
	}
	go func() {
		for i := 0; ; i++ {
			time.Sleep(time.Millisecond)
			_ = j.AppendTelemetry(Record{Kind: "health", Data: fmt.Appendf(nil, "t%d", i)})
			c := j.Committed()
			if err := j.SetCursor("uplink", c/2); err != nil {
				say("err %v\n", err)
				return
			}
			say("cursor %d\n", c/2)
			if i%10 == 0 && c > 0 {
				if err := j.SaveSnapshot(c, fmt.Appendf(nil, "state@%d", c)); err != nil {
					say("err %v\n", err)
					return
				}
				say("snap %d\n", c)
			}
		}
	}()
	select {}
}

// TestCrashSIGKILL kills a child that appends with many goroutines at random
// moments, then checks that everything it was told is durable is in the
// file, unchanged, and that the stored seqs are gap-free.
func TestCrashSIGKILL(t *testing.T) {
	const rounds = 24
	path := filepath.Join(t.TempDir(), "crash.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	acked := map[uint64]string{}
	var cursor, snap uint64
	roundsWithAcks := 0
	for round := range rounds {
		delay := time.Duration(rng.IntN(200)) * time.Millisecond
		lines, err := runCrashChild(t, path, delay)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		n := 0
		for _, l := range lines {
			f := strings.SplitN(l, " ", 3)
			switch {
			case f[0] == "ack" && len(f) == 3:
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				if old, ok := acked[seq]; ok && old != f[2] {
					t.Fatalf("round %d: seq %d acknowledged twice, for %.30q… and %.30q…", round, seq, old, f[2])
				}
				acked[seq] = f[2]
				n++
			case f[0] == "cursor" && len(f) == 2:
				c, _ := strconv.ParseUint(f[1], 10, 64)
				cursor = max(cursor, c)
			case f[0] == "snap" && len(f) == 2:
				s, _ := strconv.ParseUint(f[1], 10, 64)
				snap = max(snap, s)
			case f[0] == "ready":
			default:
				t.Fatalf("round %d: child said %q", round, l)
			}
		}
		if n > 0 {
			roundsWithAcks++
		}
		verifyCrashFile(t, round, path, acked, cursor, snap)
		t.Logf("round %d: killed after %v, %d acks this round, %d in all", round, delay, n, len(acked))
	}
	if roundsWithAcks < rounds/2 {
		t.Fatalf("only %d of %d rounds acknowledged anything: the test did not exercise the journal", roundsWithAcks, rounds)
	}
}

// runCrashChild starts the child, kills it delay after it is ready and
// returns the complete lines it printed.
func runCrashChild(t *testing.T, path string, delay time.Duration) ([]string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	var lines []string
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReader(out)
		for {
			l, err := r.ReadString('\n')
			if err != nil { // a last line without '\n' was cut by the kill
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
			if strings.HasPrefix(l, "ready ") && len(lines) == 0 {
				close(ready)
			}
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
	}()
	select {
	case <-ready:
	case <-time.After(hang):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("child not ready: %s", stderr.String())
	}
	time.Sleep(delay) // a random moment in the child's life
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return nil, err
	}
	if err := <-readErr; err != nil {
		return nil, err
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		return nil, fmt.Errorf("child ended with %v before the kill: %s", err, stderr.String())
	}
	return lines, nil
}

func verifyCrashFile(t *testing.T, round int, path string, acked map[uint64]string, cursor, snap uint64) {
	t.Helper()
	j, err := Open(Options{Path: path, GatewayID: crashGateway})
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer j.Close()
	recs := scanAll(t, j)
	checkGapFree(t, j, recs)
	checkCounters(t, j)
	if j.First() != 1 {
		t.Fatalf("round %d: First() = %d, want 1 (nothing may be reclaimed under the limits)", round, j.First())
	}
	for seq, data := range acked {
		if seq < 1 || seq > uint64(len(recs)) {
			t.Fatalf("round %d: acknowledged seq %d missing (Committed %d)", round, seq, j.Committed())
		}
		if got := string(recs[seq-1].Data); got != data {
			t.Fatalf("round %d: seq %d = %.40q…, want %.40q…", round, seq, got, data)
		}
	}
	if c, err := j.Cursor("uplink"); err != nil || c < cursor {
		t.Fatalf("round %d: Cursor(uplink) = %d, %v, want ≥ %d (acknowledged)", round, c, err, cursor)
	}
	s, data, err := j.LatestSnapshot()
	if err != nil || s < snap || (s > 0 && string(data) != fmt.Sprintf("state@%d", s)) {
		t.Fatalf("round %d: LatestSnapshot() = %d, %q, %v, want ≥ %d", round, s, data, err, snap)
	}
}
