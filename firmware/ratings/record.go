package ratings

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Journal kinds of the records this package writes (business class).
const (
	KindSig   = "rating_sig" // a signed rating outcome (Record)
	KindAlert = "alert"      // an alert for the platform (Alert)
)

// Version is the "v" of records and payloads.
const Version = 1

// The outcomes of a rating request.
const (
	OutcomeGiven    = "given"     // hall.EvRatingGiven
	OutcomeNotRated = "not_rated" // hall.EvRatingNotRated
)

// Payload is the signed content of a rating outcome. It names the hall
// event it was made from (EventID, EventSeq) and repeats that event's
// fields, so the platform needs nothing else to store the rating; it never
// holds personal data. Its canonical JSON (Canonicalize) is what is hashed.
// Empty fields are left out.
type Payload struct {
	V        int      `json:"v"`
	Gateway  string   `json:"gateway"`
	ChainSeq uint64   `json:"chain_seq"`
	EventID  string   `json:"event_id"`  // <gateway>:<event_seq>, the hall event's id
	EventSeq uint64   `json:"event_seq"` // the hall event's journal seq
	Outcome  string   `json:"outcome"`   // "given" or "not_rated"
	Rating   uint64   `json:"rating"`    // the request's ID in the hall
	Ticket   uint64   `json:"ticket"`
	Number   string   `json:"number"`
	Service  string   `json:"service"`
	Window   string   `json:"window"`
	Staff    string   `json:"staff,omitempty"`
	Case     string   `json:"case,omitempty"`    // 办件编号
	Grade    int      `json:"grade,omitempty"`   // given: 1 非常满意 … 5 非常不满意
	Reasons  []string `json:"reasons,omitempty"` // given 差评: reason codes
	Source   string   `json:"source,omitempty"`  // given: pad kind
	Reason   string   `json:"reason,omitempty"`  // not rated: "timeout" or "day_reset"
	At       string   `json:"at"`                // the outcome's time, RFC 3339 UTC
}

// Record is the journal record of kind "rating_sig" (its JSON is the
// record's data). Hash is SHA-256 over the 32 bytes of PrevHash followed by
// the canonical JSON of Payload; Sig is the ed25519 signature of the 32
// bytes of Hash. The first record of a chain has a PrevHash of 32 zero
// bytes. Gateway and ChainSeq repeat the payload's, for indexing.
type Record struct {
	Type     string          `json:"type"` // "rating_sig"
	V        int             `json:"v"`
	Gateway  string          `json:"gateway"`
	ChainSeq uint64          `json:"chain_seq"`
	KeyID    string          `json:"key_id"`    // KeyID of the signing key
	PrevHash string          `json:"prev_hash"` // 64 hex digits
	Payload  json.RawMessage `json:"payload"`   // canonical JSON
	Hash     string          `json:"hash"`      // 64 hex digits
	Sig      string          `json:"sig"`       // base64 (standard, padded)
}

// Head is the end of a chain: the last record's chain seq and hash, and
// the journal seq of the hall event it signed.
type Head struct {
	ChainSeq uint64 `json:"chain_seq"`
	Hash     string `json:"hash"` // hex; 64 zeros before the first record
	EventSeq uint64 `json:"event_seq"`
}

// ZeroHash is the PrevHash of the first record of a chain.
var ZeroHash = strings.Repeat("0", 64)

// Alert is the journal record of kind "alert" the platform acts on at once.
// A 差评 raises Type "bad_rating". It carries identifiers only, no personal
// data.
type Alert struct {
	Type      string    `json:"type"` // "bad_rating"
	EventID   string    `json:"event_id"`
	ChainSeq  uint64    `json:"chain_seq"` // the signed record of the rating
	Rating    uint64    `json:"rating"`
	Ticket    uint64    `json:"ticket"`
	Number    string    `json:"number"`
	Case      string    `json:"case,omitempty"`
	Service   string    `json:"service"`
	Window    string    `json:"window"`
	Staff     string    `json:"staff"`
	Grade     int       `json:"grade"`
	GradeName string    `json:"grade_name"` // "dissatisfied" or "very_dissatisfied"
	Reasons   []string  `json:"reasons"`
	Source    string    `json:"source"`
	At        time.Time `json:"at"`
}

// AlertBadRating is the Type of the alert a 差评 raises.
const AlertBadRating = "bad_rating"

// Outcome reports whether e closes a rating request (the events signed).
func Outcome(e *hall.Event) bool {
	return e.Type == hall.EvRatingGiven || e.Type == hall.EvRatingNotRated
}

// NewPayload returns the payload signing the rating outcome e, journaled at
// seq by gateway gw, as record chainSeq of the chain.
func NewPayload(gw string, seq, chainSeq uint64, e *hall.Event) (Payload, error) {
	if !Outcome(e) {
		return Payload{}, fmt.Errorf("ratings: %v is not a rating outcome", e.Type)
	}
	p := Payload{
		V: Version, Gateway: gw, ChainSeq: chainSeq, EventID: journal.EventID(gw, seq), EventSeq: seq,
		Rating: uint64(e.Rating), Ticket: uint64(e.Ticket), Number: e.Number, Service: e.Service,
		Window: e.Window, Staff: e.Staff, Case: e.Case, At: formatTime(e.At),
	}
	if e.Type == hall.EvRatingGiven {
		p.Outcome, p.Grade, p.Reasons, p.Source = OutcomeGiven, int(e.Grade), slices.Clone(e.Reasons), e.Source
	} else {
		p.Outcome, p.Reason = OutcomeNotRated, e.Reason
	}
	return p, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// canonical returns the canonical JSON of p.
func (p *Payload) canonical() ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("ratings: encode payload: %w", err)
	}
	return Canonicalize(raw)
}

// chainHash returns SHA-256(prev ‖ payload).
func chainHash(prev [32]byte, payload []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(payload)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func parseHash(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 64 {
		return out, fmt.Errorf("hash %q is not 64 hex digits", trunc(s))
	}
	if strings.ToLower(s) != s {
		return out, fmt.Errorf("hash %q is not lower-case hex", trunc(s))
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return out, fmt.Errorf("hash %q is not hex", trunc(s))
	}
	return out, nil
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Sign makes the record of payload p, following prev, with key.
func Sign(p Payload, prev Head, key ed25519.PrivateKey) (Record, error) {
	prevHash := prev.Hash
	if prevHash == "" {
		prevHash = ZeroHash
	}
	ph, err := parseHash(prevHash)
	if err != nil {
		return Record{}, fmt.Errorf("ratings: previous %w", err)
	}
	if p.ChainSeq != prev.ChainSeq+1 {
		return Record{}, fmt.Errorf("ratings: chain seq %d does not follow %d", p.ChainSeq, prev.ChainSeq)
	}
	canon, err := p.canonical()
	if err != nil {
		return Record{}, err
	}
	sum := chainHash(ph, canon)
	pub, _ := key.Public().(ed25519.PublicKey)
	return Record{
		Type: KindSig, V: Version, Gateway: p.Gateway, ChainSeq: p.ChainSeq, KeyID: KeyID(pub),
		PrevHash: prevHash, Payload: canon, Hash: hex.EncodeToString(sum[:]),
		Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(key, sum[:])),
	}, nil
}

// ParseRecord decodes the data of a "rating_sig" record and checks that it
// is well-formed and self-consistent: the payload is canonical JSON of a
// Payload agreeing with the record's gateway and chain seq, and Hash is the
// hash of PrevHash and the payload. It does not check the signature
// (CheckSig) nor the chain.
func ParseRecord(data []byte) (Record, Payload, error) {
	var r Record
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, p, fmt.Errorf("not a signed rating record: %w", err)
	}
	switch {
	case r.Type != KindSig:
		return r, p, fmt.Errorf("type %q, want %q", r.Type, KindSig)
	case r.V != Version:
		return r, p, fmt.Errorf("version %d, want %d", r.V, Version)
	case r.ChainSeq == 0:
		return r, p, errors.New("chain seq 0")
	}
	canon, err := Canonicalize(r.Payload)
	if err != nil {
		return r, p, fmt.Errorf("payload: %w", err)
	}
	pd := json.NewDecoder(bytes.NewReader(canon))
	pd.DisallowUnknownFields()
	if err := pd.Decode(&p); err != nil {
		return r, p, fmt.Errorf("payload: %w", err)
	}
	switch {
	case p.V != Version:
		return r, p, fmt.Errorf("payload version %d, want %d", p.V, Version)
	case p.Gateway != r.Gateway || p.ChainSeq != r.ChainSeq:
		return r, p, fmt.Errorf("payload names gateway %q chain %d, the record %q chain %d", p.Gateway, p.ChainSeq, r.Gateway, r.ChainSeq)
	}
	prev, err := parseHash(r.PrevHash)
	if err != nil {
		return r, p, fmt.Errorf("prev_hash: %w", err)
	}
	if r.ChainSeq == 1 && r.PrevHash != ZeroHash {
		return r, p, errors.New("the first record of a chain must have a zero prev_hash")
	}
	sum := chainHash(prev, canon)
	if hex.EncodeToString(sum[:]) != r.Hash {
		return r, p, errHashMismatch
	}
	return r, p, nil
}

var errHashMismatch = errors.New("hash does not match prev_hash and payload: the record was changed after signing")

// CheckSig verifies r's signature with pub.
func CheckSig(r *Record, pub ed25519.PublicKey) error {
	sum, err := parseHash(r.Hash)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(r.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("signature is not 64 bytes of base64")
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, sum[:], sig) {
		return errors.New("signature does not verify: replaced or forged")
	}
	return nil
}

// NewAlert returns the alert of a 差评 given in e, signed as chainSeq, or
// false when e is no 差评.
func NewAlert(gw string, seq, chainSeq uint64, e *hall.Event) (Alert, bool) {
	if e.Type != hall.EvRatingGiven || !e.Grade.Bad() {
		return Alert{}, false
	}
	return Alert{
		Type: AlertBadRating, EventID: journal.EventID(gw, seq), ChainSeq: chainSeq, Rating: uint64(e.Rating),
		Ticket: uint64(e.Ticket), Number: e.Number, Case: e.Case, Service: e.Service, Window: e.Window,
		Staff: e.Staff, Grade: int(e.Grade), GradeName: e.Grade.String(), Reasons: slices.Clone(e.Reasons),
		Source: e.Source, At: e.At.UTC(),
	}, true
}
