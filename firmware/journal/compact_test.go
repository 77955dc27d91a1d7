package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSpaceBloated(t *testing.T) {
	cases := []struct {
		name string
		sp   Space
		want bool
	}{
		{"empty", Space{}, false},
		{"small file mostly free", Space{FileBytes: 8 << 20, LiveBytes: 1 << 20}, false},
		{"large, half live", Space{FileBytes: 256 << 20, LiveBytes: 128 << 20}, true},
		{"large, more than half live", Space{FileBytes: 256 << 20, LiveBytes: 129 << 20}, false},
		{"waste just at the minimum", Space{FileBytes: CompactMinWaste + 1<<20, LiveBytes: 1 << 20}, true},
		{"waste just under the minimum", Space{FileBytes: CompactMinWaste + 1<<20 - 1, LiveBytes: 1 << 20}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sp.Bloated(); got != tc.want {
				t.Fatalf("%+v.Bloated() = %v, want %v", tc.sp, got, tc.want)
			}
		})
	}
}

func TestCompact(t *testing.T) {
	o := testOpts(t)
	j := openT(t, o)
	data := bytes.Repeat([]byte("c"), 1000)
	for range 3 { // 3000 records of ~1 KiB in 3 commits
		recs := slices.Repeat([]Record{{Kind: "hall", Data: data}}, 1000)
		if _, err := j.Append(hangCtx(t), recs...); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		if err := j.AppendTelemetry(Record{Kind: "health", Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	j.Hold("uplink")
	if err := j.SetCursor("uplink", 2900); err != nil {
		t.Fatal(err)
	}
	if err := j.SaveSnapshot(2950, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := j.SetMeta("epoch", []byte{9}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// A much lower limit: the next commit reclaims all but ~80 KiB.
	o.BusinessLimit = 100 << 10
	j = openT(t, o)
	appendT(t, j, biz("hall", "trigger"))
	first, committed := j.First(), j.Committed()
	if first <= 2000 {
		t.Fatalf("First() = %d after lowering the limit, want most records reclaimed", first)
	}
	j.Close()

	before, err := Inspect(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	if before.FileBytes < 2*before.LiveBytes || before.LiveBytes <= 0 {
		t.Fatalf("Inspect() before = %+v, want a file at least twice its live data", before)
	}
	if err := Compact(o.Path); err != nil {
		t.Fatalf("Compact() = %v", err)
	}
	after, err := Inspect(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	if after.FileBytes >= before.FileBytes/2 || after.FileBytes < after.LiveBytes {
		t.Fatalf("Inspect() after = %+v, before %+v: want the file at most half its old size", after, before)
	}
	if _, err := os.Stat(o.Path + ".compact"); !os.IsNotExist(err) {
		t.Fatalf("temp file left behind: %v", err)
	}

	j = openT(t, o)
	if j.First() != first || j.Committed() != committed {
		t.Fatalf("after Compact: First, Committed = %d, %d, want %d, %d", j.First(), j.Committed(), first, committed)
	}
	checkGapFree(t, j, scanAll(t, j))
	checkCounters(t, j)
	if c, _ := j.Cursor("uplink"); c != 2900 {
		t.Fatalf("Cursor(uplink) after Compact = %d, want 2900", c)
	}
	if s, d, _ := j.LatestSnapshot(); s != 2950 || string(d) != "state" {
		t.Fatalf("LatestSnapshot() after Compact = %d, %q, want 2950, state", s, d)
	}
	if m, _ := j.Meta("epoch"); !bytes.Equal(m, []byte{9}) {
		t.Fatalf("Meta(epoch) after Compact = %v, want [9]", m)
	}
	if h := j.Holds(); !slices.Equal(h, []string{"uplink"}) {
		t.Fatalf("Holds() after Compact = %v, want [uplink]", h)
	}
	if tel, _ := j.ReadTelemetry(0, 100); len(tel) != 50 {
		t.Fatalf("telemetry after Compact = %d records, want 50", len(tel))
	}
	if seq := appendT(t, j, biz("hall", "next")); seq != committed+1 {
		t.Fatalf("next seq after Compact = %d, want %d (high-water mark kept)", seq, committed+1)
	}
}

func TestCompactIfBloated(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if did, err := CompactIfBloated(missing); did || err != nil {
		t.Fatalf("CompactIfBloated(missing) = %v, %v, want false, nil", did, err)
	}
	if err := Compact(missing); err != nil {
		t.Fatalf("Compact(missing) = %v, want nil", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("Compact(missing) created the file: %v", err)
	}
	o := testOpts(t)
	j := openT(t, o)
	appendN(t, j, "a", 10)
	j.Close()
	stale := o.Path + ".compact"
	if err := os.WriteFile(stale, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	if did, err := CompactIfBloated(o.Path); did || err != nil {
		t.Fatalf("CompactIfBloated(small file) = %v, %v, want false, nil", did, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale %s left in place: %v", stale, err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte{0xee}, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if did, err := CompactIfBloated(junk); did || err == nil {
		t.Fatalf("CompactIfBloated(junk) = %v, %v, want an error", did, err)
	}
	if err := Compact(junk); err == nil {
		t.Fatal("Compact(junk) = nil, want an error")
	}
}
