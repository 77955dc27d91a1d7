package ratings

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"hallgw/firmware/journal"
	"hallgw/hall"
)

var (
	dayOnce   sync.Once
	dayExport []byte
	dayPub    ed25519.PublicKey
)

// sampleExport is the export of one morning with five signed ratings,
// made once.
func sampleExport(t testing.TB) ([]ExportLine, ed25519.PublicKey) {
	t.Helper()
	dayOnce.Do(func() {
		r := newRig(t, testKey(7))
		r.day()
		dayExport, dayPub = r.export(), r.s.PublicKey()
	})
	return lines(t, dayExport), dayPub
}

func encodeLines(t testing.TB, ls []ExportLine) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, l := range ls {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// nth returns the index in ls of the n-th (0-based) record of kind.
func nth(t testing.TB, ls []ExportLine, kind string, n int) int {
	t.Helper()
	for i, l := range ls {
		if l.Kind == kind {
			if n == 0 {
				return i
			}
			n--
		}
	}
	t.Fatalf("no %s record #%d", kind, n)
	return -1
}

// editSig rewrites signed record i with fn applied to its record and
// payload. With rehash the hash is computed again (a forger without the
// key); with key the record is signed again with that key.
func editSig(t testing.TB, l *ExportLine, fn func(*Record, *Payload), rehash bool, key ed25519.PrivateKey) {
	t.Helper()
	rec, p, err := ParseRecord(l.Data)
	if err != nil {
		t.Fatal(err)
	}
	fn(&rec, &p)
	raw, _ := json.Marshal(p)
	canon, err := Canonicalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec.Payload = canon
	if rehash || key != nil {
		signed, err := Sign(p, Head{ChainSeq: p.ChainSeq - 1, Hash: rec.PrevHash}, orKey(key))
		if err != nil {
			t.Fatal(err)
		}
		if key != nil {
			rec = signed
		} else {
			rec.Hash = signed.Hash
		}
	}
	l.Data, _ = json.Marshal(rec)
}

func orKey(k ed25519.PrivateKey) ed25519.PrivateKey {
	if k == nil {
		return testKey(99)
	}
	return k
}

// editEvent rewrites hall event line l with fn.
func editEvent(t testing.TB, l *ExportLine, fn func(*hall.Event)) {
	t.Helper()
	var e hall.Event
	if err := e.UnmarshalBinary(l.Data); err != nil {
		t.Fatal(err)
	}
	fn(&e)
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	l.Data = b
}

// outcomeIndex returns the index of the hall event signed by signed record
// n.
func outcomeIndex(t testing.TB, ls []ExportLine, n int) int {
	t.Helper()
	_, p, err := ParseRecord(ls[nth(t, ls, KindSig, n)].Data)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		if l.Seq == p.EventSeq {
			return i
		}
	}
	t.Fatalf("event %d not in the export", p.EventSeq)
	return -1
}

// renumber gives the records from index i on consecutive seqs after the
// record before them, as a careful forger would.
func renumber(ls []ExportLine, i int) {
	for ; i < len(ls); i++ {
		ls[i].Seq = ls[i-1].Seq + 1
		ls[i].ID = journal.EventID(testGW, ls[i].Seq)
	}
}

func TestVerifyTampering(t *testing.T) {
	_, pub := sampleExport(t)
	other := testKey(42)
	cases := []struct {
		name   string
		tamper func(t *testing.T, ls []ExportLine) []ExportLine
		opts   func(ls []ExportLine) VerifyOptions
		want   []string // substrings of the problems, all of which must be reported; none: OK
	}{
		{name: "untouched"},
		{name: "changed grade in the signed record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editSig(t, &ls[nth(t, ls, KindSig, 1)], func(_ *Record, p *Payload) { p.Grade = 1; p.Reasons = nil }, false, nil)
			return ls
		}, want: []string{"chain 2: hash does not match"}},
		{name: "changed grade with the hash recomputed", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editSig(t, &ls[nth(t, ls, KindSig, 1)], func(_ *Record, p *Payload) { p.Grade = 1; p.Reasons = nil }, true, nil)
			return ls
		}, want: []string{"chain 2: signature does not verify", "chain 3: prev_hash does not link to chain 2"}},
		{name: "changed grade in the hall event", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editEvent(t, &ls[outcomeIndex(t, ls, 1)], func(e *hall.Event) { e.Grade = hall.GradeVerySatisfied; e.Reasons = nil })
			return ls
		}, want: []string{"chain 2: does not match hall event", "grade: event 1, signed 5"}},
		{name: "changed staff in the signed record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editSig(t, &ls[nth(t, ls, KindSig, 0)], func(_ *Record, p *Payload) { p.Staff = "s-999" }, false, nil)
			return ls
		}, want: []string{"chain 1: hash does not match"}},
		{name: "changed staff in the hall event", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editEvent(t, &ls[outcomeIndex(t, ls, 0)], func(e *hall.Event) { e.Staff = "s-999" })
			return ls
		}, want: []string{"staff: event s-999, signed s-007"}},
		{name: "deleted signed record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			return slices.Delete(ls, nth(t, ls, KindSig, 2), nth(t, ls, KindSig, 2)+1)
		}, want: []string{"missing (deleted)", "chain 4: chain records 3 are missing", "has no signed record"}},
		{name: "deleted rating, record and alert, renumbered", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			ev, sig := outcomeIndex(t, ls, 2), nth(t, ls, KindSig, 2)
			ls = slices.Delete(ls, sig, sig+2) // the record and its alert
			ls = slices.Delete(ls, ev, ev+1)
			renumber(ls, ev)
			return ls
		}, want: []string{"chain 4: chain records 3 are missing (deleted)"}},
		{name: "inserted copy of a record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			c := ls[nth(t, ls, KindSig, 1)]
			i := nth(t, ls, KindSig, 3)
			ls = slices.Insert(ls, i+1, c)
			renumber(ls, i+1)
			return ls
		}, want: []string{"chain 2: signed record repeated", "chain 2: chain goes back after 4"}},
		{name: "inserted forged record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			last := ls[nth(t, ls, KindSig, 4)]
			rec, p, _ := ParseRecord(last.Data)
			p.ChainSeq, p.Grade = rec.ChainSeq+1, 1
			forged, err := Sign(p, Head{ChainSeq: rec.ChainSeq, Hash: rec.Hash}, other)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := json.Marshal(forged)
			seq := ls[len(ls)-1].Seq + 1
			return append(ls, ExportLine{ID: journal.EventID(testGW, seq), Seq: seq, Class: "business", Kind: KindSig, Data: d})
		}, want: []string{"key mismatch: 1 signed records", "chain 6: hall event", "signed twice"}},
		{name: "reordered records", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			a, b := nth(t, ls, KindSig, 0), nth(t, ls, KindSig, 1)
			ls[a].Data, ls[b].Data = ls[b].Data, ls[a].Data
			return ls
		}, want: []string{"chain 2: signs event", "chain 1: chain goes back after 2"}},
		{name: "reordered journal lines", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			a, b := nth(t, ls, KindSig, 0), nth(t, ls, KindSig, 1)
			ls[a], ls[b] = ls[b], ls[a]
			return ls
		}, want: []string{"journal record out of order", "chain 1: chain goes back after 2"}},
		{name: "replaced signature", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			donor, _, _ := ParseRecord(ls[nth(t, ls, KindSig, 0)].Data)
			editSig(t, &ls[nth(t, ls, KindSig, 3)], func(r *Record, _ *Payload) { r.Sig = donor.Sig }, false, nil)
			return ls
		}, want: []string{"chain 4: signature does not verify"}},
		{name: "signature of another key", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			editSig(t, &ls[nth(t, ls, KindSig, 3)], func(*Record, *Payload) {}, false, other)
			return ls
		}, want: []string{"key mismatch: 1 signed records do not verify"}},
		{name: "truncated tail, head known", tamper: cutLastRating,
			opts: func(ls []ExportLine) VerifyOptions {
				rec, _, _ := ParseRecord(ls[len(ls)-1].Data) // before the cut: chain 5
				return VerifyOptions{Keys: []ed25519.PublicKey{pub}, Head: &Head{ChainSeq: rec.ChainSeq, Hash: rec.Hash}}
			},
			want: []string{"the export ends at chain 4 but the published head is chain 5: records 5 were cut off"}},
		{name: "truncated tail, head unknown", tamper: cutLastRating}, // undetectable: why the platform keeps the head
		{name: "rewritten after the published head", opts: func(ls []ExportLine) VerifyOptions {
			return VerifyOptions{Keys: []ed25519.PublicKey{pub}, Head: &Head{ChainSeq: 3, Hash: strings.Repeat("ab", 32)}}
		}, want: []string{"chain 3: differs from the chain head published earlier"}},
		{name: "key mismatch", opts: func([]ExportLine) VerifyOptions {
			return VerifyOptions{Keys: []ed25519.PublicKey{testKey(8).Public().(ed25519.PublicKey)}}
		}, want: []string{"key mismatch: 5 signed records do not verify with the given key " + KeyID(testKey(8).Public().(ed25519.PublicKey))}},
		{name: "old and new key", opts: func([]ExportLine) VerifyOptions {
			return VerifyOptions{Keys: []ed25519.PublicKey{testKey(8).Public().(ed25519.PublicKey), pub}}
		}},
		{name: "garbage line", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			ls[3].Kind, ls[3].Seq = "", 0
			return ls
		}, want: []string{"line 4: not a journal export record", "missing (deleted)"}},
		{name: "unreadable signed record", tamper: func(t *testing.T, ls []ExportLine) []ExportLine {
			ls[nth(t, ls, KindSig, 4)].Data = []byte(`{"type":"rating_sig","v":1}`)
			return ls
		}, want: []string{"seq 51: chain seq 0", "has no signed record"}},
		{name: "from a later seq", opts: func(ls []ExportLine) VerifyOptions {
			return VerifyOptions{Keys: []ed25519.PublicKey{pub}, From: ls[nth(t, ls, KindSig, 1)].Seq + 1}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls, _ := sampleExport(t)
			if c.tamper != nil {
				ls = c.tamper(t, ls)
			}
			full, _ := sampleExport(t)
			opts := VerifyOptions{Keys: []ed25519.PublicKey{pub}}
			if c.opts != nil {
				opts = c.opts(full)
			}
			rep, err := Verify(bytes.NewReader(encodeLines(t, ls)), opts)
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.String())
			}
			all := strings.Join(got, "\n")
			if len(c.want) == 0 && !rep.OK() {
				t.Errorf("Verify() problems:\n%s\nwant none", all)
			}
			if len(c.want) > 0 && rep.OK() {
				t.Errorf("Verify() = OK, want problems %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("Verify() problems:\n%s\nwant one containing %q", all, w)
				}
			}
		})
	}
}

// cutLastRating drops the last rating outcome and everything after it: a
// tail cut off at the edge.
func cutLastRating(t *testing.T, ls []ExportLine) []ExportLine {
	return ls[:outcomeIndex(t, ls, 4)]
}

func TestVerifyReport(t *testing.T) {
	ls, pub := sampleExport(t)
	rep, err := Verify(bytes.NewReader(encodeLines(t, ls)), VerifyOptions{Keys: []ed25519.PublicKey{pub}})
	if err != nil {
		t.Fatal(err)
	}
	last, _, _ := ParseRecord(ls[nth(t, ls, KindSig, 4)].Data)
	want := Report{Gateway: testGW, Lines: len(ls), Records: len(ls), FirstSeq: ls[0].Seq, LastSeq: ls[len(ls)-1].Seq,
		Outcomes: 5, Signed: 5, FirstChain: 1, LastChain: 5, KeyIDs: []string{KeyID(pub)}}
	if rep.Head.Hash != last.Hash || rep.Head.ChainSeq != 5 {
		t.Errorf("Head = %+v, want chain 5 %s", rep.Head, short(last.Hash))
	}
	rep.Head = Head{}
	if rep.Gateway != want.Gateway || rep.Lines != want.Lines || rep.Records != want.Records || rep.FirstSeq != want.FirstSeq ||
		rep.LastSeq != want.LastSeq || rep.Outcomes != 5 || rep.Signed != 5 || rep.FirstChain != 1 ||
		rep.LastChain != 5 || !slices.Equal(rep.KeyIDs, want.KeyIDs) || !rep.OK() {
		t.Errorf("Verify() = %+v, want %+v", rep, want)
	}
	if _, err := Verify(bytes.NewReader(nil), VerifyOptions{}); err == nil {
		t.Error("Verify() without a key = nil error")
	}
}
