package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/scanner"
	"hallgw/drivers/scanner/scannersim"
	"hallgw/firmware/health"
	"hallgw/hall"
)

const caseNo = "4301002026030200012"

func TestScanFilesUnderCase(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": feeder(3)}})
	res := r.mustScan("w1", caseNo)
	if res.Case != caseNo || res.Provisional || res.Pages != 3 || len(res.Files) != 3 || res.Staff != "S001" || res.Seq == 0 {
		t.Fatalf("Scan = %+v, want 3 pages under %s by S001, journaled", res, caseNo)
	}
	batch := r.clock.Now().UTC().Format("20060102T150405Z")
	if res.Batch != batch {
		t.Errorf("batch = %s, want the scan's UTC time %s", res.Batch, batch)
	}
	for i, f := range res.Files {
		want := batch + "-p0" + string(rune('1'+i)) + ".png"
		b := r.fileBytes(caseNo, want)
		sum := sha256.Sum256(b)
		if f.Name != want || f.Size != int64(len(b)) || f.SHA256 != hex.EncodeToString(sum[:]) || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("file %d = %+v, want %s of %d bytes with its sha256", i, f, want, len(b))
		}
	}
	m, err := readManifest(filepath.Join(r.root, caseNo))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Batches) != 1 || m.Batches[0].Seq != res.Seq || m.Batches[0].Status != "ok" || m.Batches[0].Window != "w1" {
		t.Errorf("manifest = %+v, want the journaled batch", m.Batches[0])
	}
	recs := records[ScanRecord](t, r.j, KindScan)
	if len(recs) != 1 {
		t.Fatalf("%d scan records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Case != caseNo || rec.Window != "w1" || rec.Staff != "S001" || rec.Pages != 3 || rec.Status != "ok" ||
		len(rec.Files) != 3 || rec.Files[2] != res.Files[2] || rec.Format != "png" || rec.V != 1 {
		t.Errorf("scan record = %+v", rec)
	}
	if d, ok := r.health.Get(ScannerHealthID("w1")); !ok || d.State != health.Up {
		t.Errorf("scanner health = %+v, want up", d)
	}
	if got := Notice(res, nil); got != "已扫描3页" {
		t.Errorf("Notice = %q", got)
	}
	// A second batch in the same second gets its own name.
	res2 := r.mustScan("w1", caseNo)
	if res2.Batch != batch+"-2" || res2.Files[0].Name != batch+"-2-p01.png" {
		t.Errorf("second batch = %s (%s), want %s-2", res2.Batch, res2.Files[0].Name, batch)
	}
}

func TestWindowCase(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner(), "w2": pngScanner()}})
	// Without a case number: a provisional id that stays the window's case.
	p1 := r.mustScan("w1", "")
	if !p1.Provisional || !strings.HasPrefix(p1.Case, "TMP-w1-") || r.a.Case("w1") != p1.Case {
		t.Fatalf("first scan = %+v, want a provisional case kept for w1", p1)
	}
	r.clock.Advance(time.Second)
	if p2 := r.mustScan("w1", ""); p2.Case != p1.Case || !p2.Provisional {
		t.Errorf("second scan case = %s, want the same provisional %s", p2.Case, p1.Case)
	}
	// A case barcode at the window makes it the current case.
	if err := r.a.SetCase("w2", caseNo); err != nil {
		t.Fatal(err)
	}
	if got := r.mustScan("w2", ""); got.Case != caseNo || got.Provisional {
		t.Errorf("scan at w2 = %s (provisional %v), want %s", got.Case, got.Provisional, caseNo)
	}
	// Calling the next ticket at w2 ends its case; w1's stays.
	r.a.Observe(hall.Event{Type: hall.EvTicketCalled, Window: "w2"})
	if r.a.Case("w2") != "" || r.a.Case("w1") != p1.Case {
		t.Errorf("after a call at w2: cases w1=%q w2=%q", r.a.Case("w1"), r.a.Case("w2"))
	}
	r.a.Observe(hall.Event{Type: hall.EvTicketFinished, Window: "w1"})
	r.clock.Advance(time.Second)
	if p3 := r.mustScan("w1", ""); p3.Case == p1.Case || !p3.Provisional {
		t.Errorf("scan after finish = %s, want a new provisional case", p3.Case)
	}
	if err := r.a.SetCase("w1", "../etc"); !errors.Is(err, ErrBadCase) {
		t.Errorf("SetCase(../etc) = %v, want ErrBadCase", err)
	}
	recs := records[ScanRecord](t, r.j, KindScan)
	if len(recs) != 4 || !recs[0].Provisional || recs[2].Provisional {
		t.Errorf("scan records = %+v, want 4 with provisional flags", recs)
	}
}

func TestScanRefusals(t *testing.T) {
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": pngScanner()}})
	tests := []struct {
		name, window, caseNo string
		want                 error
		notice               string
	}{
		{"no scanner at the window", "w5", "", ErrNoScanner, "本窗口未配扫描仪"},
		{"case with a slash", "w1", "a/b", ErrBadCase, "办件编号无效"},
		{"case with a leading dot", "w1", ".staging", ErrBadCase, "办件编号无效"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.scan(tt.window, tt.caseNo)
			if !errors.Is(err, tt.want) || res.Batch != "" {
				t.Fatalf("Scan = %+v, %v; want %v and nothing filed", res, err, tt.want)
			}
			if got := Notice(res, err); got != tt.notice {
				t.Errorf("Notice = %q, want %q", got, tt.notice)
			}
		})
	}
	if n := len(records[ScanRecord](t, r.j, KindScan)); n != 0 {
		t.Errorf("%d scan records after refusals, want 0", n)
	}
}

func TestScanJamKeepsPages(t *testing.T) {
	o := feeder(100)
	o.Command = scannersim.JamAfter(3)
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": o}})
	res, err := r.scan("w1", caseNo)
	if !errors.Is(err, scanner.ErrJammed) {
		t.Fatalf("Scan = %v, want a jam", err)
	}
	if res.Pages != 3 || len(res.Files) != 3 || res.Seq == 0 {
		t.Fatalf("Scan kept %+v, want the 3 pages before the jam, journaled", res)
	}
	for _, f := range res.Files {
		r.fileBytes(caseNo, f.Name)
	}
	if got := Notice(res, err); got != "卡纸，已保存3页" {
		t.Errorf("Notice = %q", got)
	}
	recs := records[ScanRecord](t, r.j, KindScan)
	if len(recs) != 1 || recs[0].Status != "jammed" || recs[0].Pages != 3 {
		t.Errorf("scan record = %+v, want 3 pages, status jammed", recs)
	}
	if d, _ := r.health.Get(ScannerHealthID("w1")); d.State != health.Degraded || d.Errors["jammed"] != 1 {
		t.Errorf("scanner health = %+v, want degraded with one jam", d)
	}
	// A jam on the first page files nothing.
	r2 := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": {Args: scannersim.Jam()}}})
	res, err = r2.scan("w1", caseNo)
	if !errors.Is(err, scanner.ErrJammed) || res.Pages != 0 || res.Batch != "" {
		t.Errorf("Scan jammed at once = %+v, %v; want nothing filed and the jam", res, err)
	}
	if _, err := os.Stat(filepath.Join(r2.root, caseNo)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("case directory made for nothing: %v", err)
	}
}

func TestScanBusy(t *testing.T) {
	o := scanner.Opts{Resolution: 600, Args: scannersim.Slow(200000)}
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": o}})
	done := make(chan error, 1)
	go func() {
		_, err := r.scan("w1", caseNo)
		done <- err
	}()
	// Once the first scan writes its page, a second one is refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if parts, _ := filepath.Glob(filepath.Join(r.root, stagingDir, "*", "p01.png.part")); len(parts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first scan never started its page")
		}
		time.Sleep(time.Millisecond)
	}
	res, err := r.scan("w1", caseNo)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Scan during a scan = %v, want ErrBusy", err)
	}
	if got := Notice(res, err); got != "正在扫描，请稍候" {
		t.Errorf("Notice = %q", got)
	}
	r.devs["w1"].(*scanner.Dev).Halt()
	if err := <-done; !errors.Is(err, scanner.ErrHalted) {
		t.Errorf("halted scan = %v, want ErrHalted", err)
	}
}
