package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/firmware/ratings"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

// ratedJournal leaves in dir a journal with two signed ratings, its key
// files beside it, and returns the chain head.
func ratedJournal(t *testing.T, dir string) ratings.Head {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, halltest.Location())
	clock := func() time.Time { return now }
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-v", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	cfg := halltest.Config()
	cfg.Ratings = hall.DefaultRatingRules()
	g, err := gateway.Open(ctx, gateway.Options{Journal: j, GatewayID: "gw-v", Hall: cfg, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := ratings.LoadOrCreateKey(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ratings.New(ratings.Options{Journal: j, Feed: g.Feed(), GatewayID: "gw-v", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	var last []gateway.Committed
	for _, c := range []hall.Command{
		{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"},
		{Op: hall.OpIssue, Service: "social"}, {Op: hall.OpIssue, Service: "social"},
		{Op: hall.OpCallNext, Window: "w1"}, {Op: hall.OpFinish, Window: "w1"},
		{Op: hall.OpRate, Window: "w1", Grade: hall.GradeSatisfied, Source: hall.PadKeys},
		{Op: hall.OpCallNext, Window: "w1"}, {Op: hall.OpFinish, Window: "w1"},
		{Op: hall.OpRate, Window: "w1", Grade: hall.GradeDissatisfied, Reasons: []string{"waiting"}, Source: hall.PadTablet},
	} {
		if last, err = g.Do(ctx, c); err != nil {
			t.Fatalf("Do(%v) = %v", c.Op, err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := s.Wait(wctx, last[len(last)-1].Seq); err != nil {
		t.Fatal(err)
	}
	head := s.Head()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	g.Close(ctx)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return head
}

func dispatchOut(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)}, args)
	return code, out.String(), errb.String()
}

func TestJournalExportAndVerify(t *testing.T) {
	dir := t.TempDir()
	head := ratedJournal(t, dir)
	code, export, stderr := dispatchOut(t, "", "journal", "export", "--data", dir)
	if code != 0 || !strings.Contains(export, `"kind":"rating_sig"`) {
		t.Fatalf("journal export = %d, %q; stdout %.200q", code, stderr, export)
	}
	file := filepath.Join(dir, "export.jsonl")
	if err := os.WriteFile(file, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, ratings.PublicKeyFile)
	headArg := strconvHead(head)
	other := t.TempDir()
	if _, _, err := ratings.LoadOrCreateKey(other, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(export, "\n")
	var cut []string
	for i, l := range lines {
		if strings.Contains(l, `"kind":"rating_sig"`) {
			cut = lines[:i] // up to before the first signed record
			break
		}
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"ok", "", []string{"verify", "--pubkey", pub, file}, 0, "OK"},
		{"ok with the head, from stdin", export, []string{"verify", "--pubkey", pub, "--head", headArg, "-"}, 0, "chain 1–2"},
		{"key mismatch", "", []string{"verify", "--pubkey", filepath.Join(other, ratings.PublicKeyFile), file}, 1, "key mismatch"},
		{"truncated", strings.Join(cut, ""), []string{"verify", "--pubkey", pub, "--head", headArg, "-"}, 1, "cut off (truncated)"},
		{"no key", "", []string{"verify", file}, 2, ""},
		{"bad head", "", []string{"verify", "--pubkey", pub, "--head", "7:xyz", file}, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := dispatchOut(t, c.stdin, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("hallgw %s = %d, stdout %q, stderr %q; want %d with %q", strings.Join(c.args, " "), code, out, errs, c.code, c.want)
			}
		})
	}
	t.Run("export of a missing journal", func(t *testing.T) {
		if code, _, errs := dispatchOut(t, "", "journal", "export", "--data", t.TempDir()); code != 1 || !strings.Contains(errs, "journal.db") {
			t.Errorf("journal export (none) = %d, %q, want 1 naming journal.db", code, errs)
		}
	})
}

func strconvHead(h ratings.Head) string {
	return strconv.FormatUint(h.ChainSeq, 10) + ":" + h.Hash
}
