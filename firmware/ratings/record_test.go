package ratings

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"hallgw/hall"
)

// The worked example of docs/ratings.md: the platform's implementation can
// check itself against these values.
const (
	docSeed    = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	docPub     = "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="
	docPayload = `{"at":"2026-03-02T01:09:00Z","case":"2026-SB-0042","chain_seq":1,"event_id":"gw-cs-01:4211","event_seq":4211,"gateway":"gw-cs-01","grade":5,"number":"A002","outcome":"given","rating":2,"reasons":["attitude","waiting"],"service":"social","source":"pad_tablet","staff":"s-012","ticket":2,"v":1,"window":"w2"}`
	docHash    = "ecb0380537685ed9af75b4c132aca16b20a2a552fdc75611be23a49af027050c"
	docSig     = "VZQov2qmE8vjiezl/wT2oOX6fCpttz7AMuMCDeW8Dvmkw+mWm+GXwn+uvDC0KmcrTMc3Nm2Jd9BMZDDrVL8CBw=="
	docHash2   = "f986b3384b95ebbffeba383a77c4eaaa647fab79c132dcfaff858c99801c19ad"
)

func TestDocVector(t *testing.T) {
	key, err := ParsePrivateKey([]byte(docSeed))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey([]byte(docPub))
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("public key = %v, %v", pub, err)
	}
	p, err := NewPayload("gw-cs-01", 4211, 1, &benchEvent)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Sign(p, Head{}, key)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Payload) != docPayload || rec.Hash != docHash || rec.Sig != docSig || rec.PrevHash != ZeroHash || rec.KeyID != "34750f98bd59fcfc" {
		t.Errorf("Sign() = %+v\nwant payload %s\nhash %s sig %s", rec, docPayload, docHash, docSig)
	}
	p2 := p
	p2.ChainSeq, p2.EventSeq, p2.EventID, p2.Rating, p2.Ticket, p2.Number = 2, 4230, "gw-cs-01:4230", 3, 3, "A003"
	p2.Outcome, p2.Grade, p2.Reasons, p2.Source, p2.Reason = OutcomeNotRated, 0, nil, "", "timeout"
	rec2, err := Sign(p2, Head{ChainSeq: 1, Hash: rec.Hash}, key)
	if err != nil || rec2.Hash != docHash2 || rec2.PrevHash != docHash {
		t.Errorf("second record = %+v, %v, want hash %s after %s", rec2, err, docHash2, docHash)
	}
	// The record parses back and verifies.
	b, _ := json.Marshal(rec)
	back, bp, err := ParseRecord(b)
	if err != nil || CheckSig(&back, pub) != nil || bp.Grade != 5 {
		t.Errorf("ParseRecord(Sign()) = %+v, %v", bp, err)
	}
}

func TestPayloadAndSignRefusals(t *testing.T) {
	key := testKey(1)
	if _, err := NewPayload("gw", 1, 1, &hall.Event{Type: hall.EvTicketFinished}); err == nil {
		t.Error("NewPayload(ticket_finished) = nil error")
	}
	p, _ := NewPayload("gw", 1, 3, &benchEvent)
	cases := []struct {
		name string
		head Head
	}{
		{"chain seq does not follow", Head{ChainSeq: 1, Hash: ZeroHash}},
		{"bad previous hash", Head{ChainSeq: 2, Hash: "xyz"}},
		{"upper-case previous hash", Head{ChainSeq: 2, Hash: "ECB0380537685ED9AF75B4C132ACA16B20A2A552FDC75611BE23A49AF027050C"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r, err := Sign(p, c.head, key); err == nil {
				t.Errorf("Sign() = %+v, want an error", r)
			}
		})
	}
	if _, ok := NewAlert("gw", 1, 1, &hall.Event{Type: hall.EvRatingGiven, Grade: hall.GradeBasicallySatisfied}); ok {
		t.Error("NewAlert(基本满意) raised an alert")
	}
	var bad Record
	if err := CheckSig(&bad, key.Public().(ed25519.PublicKey)); err == nil {
		t.Error("CheckSig(empty record) = nil")
	}
}
