package ratings

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// lines splits an export into its records.
func lines(t testing.TB, export []byte) []ExportLine {
	t.Helper()
	var out []ExportLine
	sc := bufio.NewScanner(bytes.NewReader(export))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		var l ExportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func kinds(ls []ExportLine, kind string) []ExportLine {
	var out []ExportLine
	for _, l := range ls {
		if l.Kind == kind {
			out = append(out, l)
		}
	}
	return out
}

func TestSignerSignsEveryOutcome(t *testing.T) {
	r := newRig(t, testKey(1))
	r.day()
	ls := lines(t, r.export())
	var outcomes []journal.Record
	for _, l := range kinds(ls, gateway.KindHall) {
		var e hall.Event
		if err := e.UnmarshalBinary(l.Data); err != nil {
			t.Fatal(err)
		}
		if Outcome(&e) {
			outcomes = append(outcomes, journal.Record{Seq: l.Seq, Data: l.Data})
		}
	}
	sigs := kinds(ls, KindSig)
	if len(outcomes) != 5 || len(sigs) != 5 {
		t.Fatalf("%d outcomes, %d signed records, want 5 and 5", len(outcomes), len(sigs))
	}
	prev := ZeroHash
	pub := r.s.PublicKey()
	for i, l := range sigs {
		rec, p, err := ParseRecord(l.Data)
		if err != nil {
			t.Fatalf("record %d: ParseRecord() = %v", i, err)
		}
		if err := CheckSig(&rec, pub); err != nil {
			t.Errorf("record %d: CheckSig() = %v", i, err)
		}
		if rec.ChainSeq != uint64(i+1) || rec.PrevHash != prev || rec.KeyID != KeyID(pub) || rec.Gateway != testGW {
			t.Errorf("record %d = chain %d prev %s key %s gateway %s, want chain %d prev %s", i, rec.ChainSeq,
				short(rec.PrevHash), rec.KeyID, rec.Gateway, i+1, short(prev))
		}
		if p.EventSeq != outcomes[i].Seq || l.Seq <= p.EventSeq {
			t.Errorf("record %d at seq %d signs event %d, want event %d before it", i, l.Seq, p.EventSeq, outcomes[i].Seq)
		}
		prev = rec.Hash
	}
	_, p1, _ := ParseRecord(sigs[1].Data)
	want := Payload{V: 1, Gateway: testGW, ChainSeq: 2, EventID: journal.EventID(testGW, p1.EventSeq), EventSeq: p1.EventSeq,
		Outcome: OutcomeGiven, Rating: 2, Ticket: 2, Number: "A002", Service: "social", Window: "w2", Staff: "s-012",
		Case: "2026-SB-w2", Grade: 5, Reasons: []string{"attitude", "waiting"}, Source: hall.PadTablet,
		At: "2026-03-02T01:09:00Z"}
	if !reflect.DeepEqual(p1, want) {
		t.Errorf("payload of the 差评 = %+v, want %+v", p1, want)
	}
	_, p3, _ := ParseRecord(sigs[3].Data)
	if p3.Outcome != OutcomeNotRated || p3.Reason != "timeout" || p3.Grade != 0 {
		t.Errorf("payload of the unrated = %+v, want not_rated timeout without grade", p3)
	}
	if h := r.s.Head(); h.ChainSeq != 5 || h.Hash != prev {
		t.Errorf("Head() = %+v, want chain 5 hash %s", h, short(prev))
	}
}

func TestSignerAlertsBadRatings(t *testing.T) {
	r := newRig(t, testKey(1))
	r.day()
	ls := lines(t, r.export())
	alerts := kinds(ls, KindAlert)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2 (the two 差评)", len(alerts))
	}
	var a Alert
	if err := json.Unmarshal(alerts[0].Data, &a); err != nil {
		t.Fatal(err)
	}
	want := Alert{Type: AlertBadRating, EventID: a.EventID, ChainSeq: 2, Rating: 2, Ticket: 2, Number: "A002",
		Case: "2026-SB-w2", Service: "social", Window: "w2", Staff: "s-012", Grade: 5, GradeName: "very_dissatisfied",
		Reasons: []string{"attitude", "waiting"}, Source: hall.PadTablet, At: start.Add(9 * time.Minute).UTC()}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("alert = %+v, want %+v", a, want)
	}
	// The alert is committed with its signed record: the seq right after.
	for i, l := range ls {
		if l.Kind == KindAlert && (i == 0 || ls[i-1].Kind != KindSig) {
			t.Errorf("alert at seq %d does not follow its signed record", l.Seq)
		}
	}
	if err := json.Unmarshal(alerts[1].Data, &a); err != nil || !reflect.DeepEqual(a.Reasons, []string{hall.ReasonUnstated}) || a.Source != hall.PadKeys {
		t.Errorf("key-pad alert = %+v, %v, want reason unstated from the key pad", a, err)
	}
	for _, l := range append(kinds(ls, KindSig), alerts...) {
		if bytes.Contains(l.Data, []byte("张三")) || bytes.Contains(l.Data, []byte("430102")) {
			t.Errorf("%s record at seq %d carries personal data: %s", l.Kind, l.Seq, l.Data)
		}
	}
}

func TestSignerRestart(t *testing.T) {
	r := newRig(t, testKey(2))
	r.day()
	r.sync()
	head := r.s.Head()
	r.close()
	r.open()
	if got := r.s.Head(); got != head {
		t.Fatalf("Head() after restart = %+v, want %+v", got, head)
	}
	r.serve("w1", 40*time.Minute)
	r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: hall.GradeSatisfied, Source: hall.PadKeys})
	ls := lines(t, r.export())
	if n := len(kinds(ls, KindSig)); n != 6 {
		t.Fatalf("%d signed records after a restart, want 6 (nothing signed twice)", n)
	}
	rep, err := Verify(bytes.NewReader(r.export()), VerifyOptions{Keys: []ed25519.PublicKey{r.s.PublicKey()}})
	if err != nil || !rep.OK() || rep.LastChain != 6 || rep.Signed != 6 {
		t.Fatalf("Verify() = %+v, %v, want OK with chain 1–6", rep, err)
	}
}

func TestSignerRecoversTheHead(t *testing.T) {
	cases := []struct {
		name string
		meta func(r *rig, first Head) []byte
	}{
		// The process died after journaling a record, before its head.
		{"head behind the journal", func(r *rig, first Head) []byte { b, _ := json.Marshal(first); return b }},
		{"head lost", func(*rig, Head) []byte { return nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, testKey(3))
			r.at(0).do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
			r.serve("w1", 0)
			r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: 1, Source: hall.PadKeys})
			r.sync()
			first := r.s.Head()
			r.serve("w1", 10*time.Minute)
			r.do(hall.Command{Op: hall.OpRate, Window: "w1", Grade: 2, Source: hall.PadKeys})
			r.sync()
			head := r.s.Head()
			r.close()
			j, err := journal.Open(journal.Options{Path: r.dir + "/journal.db", GatewayID: testGW})
			if err != nil {
				t.Fatal(err)
			}
			if err := j.SetMeta(MetaHead, c.meta(r, first)); err != nil {
				t.Fatal(err)
			}
			j.Close()
			r.open()
			if got := r.s.Head(); got != head {
				t.Errorf("Head() = %+v, want %+v recovered from the journal", got, head)
			}
			r.sync()
			if n := len(kinds(lines(t, r.export()), KindSig)); n != 2 {
				t.Errorf("%d signed records, want 2", n)
			}
		})
	}
}

func TestSignerAdvancesItsCursor(t *testing.T) {
	r := newRig(t, testKey(4))
	r.close()
	r.cursorEvery = 3
	r.open()
	r.at(0).do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
	for i := 0; i < 5; i++ {
		r.do(hall.Command{Op: hall.OpIssue, Service: "social"})
	}
	r.sync()
	c, err := r.j.Cursor(Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if c == 0 || c > r.j.Committed() {
		t.Errorf("cursor = %d with %d committed, want it to move without ratings", c, r.j.Committed())
	}
	if !strings.Contains(strings.Join(r.j.Holds(), ","), Cursor) {
		t.Errorf("holds = %v, want %q", r.j.Holds(), Cursor)
	}
}

func TestSignerWaitEndsWithContext(t *testing.T) {
	r := newRig(t, testKey(5))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.s.Wait(ctx, r.j.Committed()+100); err == nil {
		t.Error("Wait() for a seq never committed = nil")
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	r := newRig(t, testKey(6))
	cases := []struct {
		name string
		o    Options
	}{
		{"no journal", Options{Feed: r.g.Feed(), GatewayID: testGW, Key: r.key}},
		{"no feed", Options{Journal: r.j, GatewayID: testGW, Key: r.key}},
		{"no gateway", Options{Journal: r.j, Feed: r.g.Feed(), Key: r.key}},
		{"no key", Options{Journal: r.j, Feed: r.g.Feed(), GatewayID: testGW}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, err := New(c.o); err == nil {
				t.Errorf("New() = %v, nil, want an error", s)
			}
		})
	}
}
