package ratings

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// ExportLine is one line of journal.Export: a business record with its data
// in base64.
type ExportLine struct {
	ID    string    `json:"id"`
	Seq   uint64    `json:"seq"`
	Class string    `json:"class"`
	Kind  string    `json:"kind"`
	At    time.Time `json:"at"`
	Data  []byte    `json:"data"`
}

// VerifyOptions say what Verify checks against.
type VerifyOptions struct {
	// Keys are the gateway's public keys; a record verifies with any of
	// them (a key that was replaced stays valid for the records it signed).
	Keys []ed25519.PublicKey
	// From skips the records before this journal seq.
	From uint64
	// Head, when set, is the chain head the platform last saw (birth or
	// telemetry, or the last record it received): the export must reach
	// it with the same hash, else its tail was cut off or rewritten.
	Head *Head
}

// Problem is one thing wrong with an export.
type Problem struct {
	Line     int    // line of the export, 1 first; 0 for the export as a whole
	Seq      uint64 // journal seq of the record, 0 if none
	ChainSeq uint64 // chain seq of the signed record, 0 if none
	Msg      string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Seq > 0 {
		fmt.Fprintf(&b, "seq %d: ", p.Seq)
	}
	if p.ChainSeq > 0 {
		fmt.Fprintf(&b, "chain %d: ", p.ChainSeq)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Report is the result of Verify.
type Report struct {
	Gateway               string
	Lines                 int      // lines read
	Records               int      // records checked (at or after From)
	FirstSeq, LastSeq     uint64   // journal seqs checked
	Outcomes              int      // rating outcomes among the hall events
	Signed                int      // signed records whose hash and signature verify
	FirstChain, LastChain uint64   // chain seqs of the signed records
	Head                  Head     // the last signed record
	KeyIDs                []string // keys that signed, in order of first use
	Problems              []Problem
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxLine bounds an export line: a 1 MiB record in base64 and its fields.
const maxLine = 2 << 20

type outcome struct {
	line   int
	seq    uint64
	ev     hall.Event
	signed bool
}

type verifier struct {
	opts     VerifyOptions
	rep      *Report
	keys     map[string]ed25519.PublicKey
	prevSeq  uint64
	line     int
	outcomes map[uint64]*outcome
	order    []*outcome
	prev     *Record // the last signed record read
	chains   map[uint64]string
	foreign  map[string]int // unknown key id → records
	foreignL map[string]int // … first line
}

// Verify reads an exported journal (journal.Export's JSON lines) and checks
// every signed rating record: its hash and signature, that the chain runs
// on without a gap, a repeat or a reordering, that each record agrees with
// the hall event it signs, that every rating outcome is signed and, with
// Head, that the export reaches the head the platform knows. Everything
// found is in the report; the error is for an unreadable stream only.
func Verify(r io.Reader, opts VerifyOptions) (*Report, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("ratings: verify needs the gateway's public key")
	}
	v := &verifier{opts: opts, rep: &Report{}, keys: map[string]ed25519.PublicKey{},
		outcomes: map[uint64]*outcome{}, chains: map[uint64]string{}, foreign: map[string]int{}, foreignL: map[string]int{}}
	for _, k := range opts.Keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("ratings: verify: a public key is not 32 bytes")
		}
		v.keys[KeyID(k)] = k
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			v.line++
			v.record(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return v.rep, fmt.Errorf("ratings: verify: line %d: %w", v.line+1, err)
		}
	}
	v.finish()
	return v.rep, nil
}

// readLine returns the next line without its newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

func (v *verifier) problem(seq, chain uint64, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, Problem{Line: v.line, Seq: seq, ChainSeq: chain, Msg: fmt.Sprintf(format, args...)})
}

func (v *verifier) record(text []byte) {
	var l ExportLine
	if err := json.Unmarshal(text, &l); err != nil || l.Seq == 0 || l.Kind == "" {
		v.problem(0, 0, "not a journal export record")
		return
	}
	if l.Seq < v.opts.From {
		return
	}
	rep := v.rep
	rep.Records++
	if rep.FirstSeq == 0 {
		rep.FirstSeq = l.Seq
	}
	switch {
	case v.prevSeq != 0 && l.Seq <= v.prevSeq:
		v.problem(l.Seq, 0, "journal record out of order or repeated: after seq %d", v.prevSeq)
	case v.prevSeq != 0 && l.Seq != v.prevSeq+1:
		v.problem(l.Seq, 0, "journal records %s are missing (deleted)", span(v.prevSeq+1, l.Seq-1))
	}
	v.prevSeq = max(v.prevSeq, l.Seq)
	rep.LastSeq = max(rep.LastSeq, l.Seq)
	gw, seq, err := journal.ParseEventID(l.ID)
	switch {
	case err != nil || seq != l.Seq:
		v.problem(l.Seq, 0, "id %q does not name seq %d", l.ID, l.Seq)
	case rep.Gateway == "":
		rep.Gateway = gw
	case gw != rep.Gateway:
		v.problem(l.Seq, 0, "record of gateway %q in the export of %q", gw, rep.Gateway)
	}
	if l.Class != "" && l.Class != journal.Business.String() {
		v.problem(l.Seq, 0, "class %q, want business", l.Class)
	}
	switch l.Kind {
	case gateway.KindHall:
		var e hall.Event
		if err := e.UnmarshalBinary(l.Data); err != nil {
			v.problem(l.Seq, 0, "hall event does not decode: %v", err)
			return
		}
		if Outcome(&e) {
			o := &outcome{line: v.line, seq: l.Seq, ev: e}
			v.outcomes[l.Seq] = o
			v.order = append(v.order, o)
			rep.Outcomes++
		}
	case KindSig:
		v.sig(&l)
	}
}

func span(a, b uint64) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d–%d", a, b)
}

// sig checks one signed record.
func (v *verifier) sig(l *ExportLine) {
	rec, p, err := ParseRecord(l.Data)
	chain := rec.ChainSeq
	linkable := err == nil || errors.Is(err, errHashMismatch)
	if err != nil {
		v.problem(l.Seq, chain, "%v", err)
		if !linkable {
			return
		}
	}
	if rec.Gateway != v.rep.Gateway && v.rep.Gateway != "" {
		v.problem(l.Seq, chain, "signed for gateway %q in the export of %q", rec.Gateway, v.rep.Gateway)
	}
	sigOK := v.checkKey(l.Seq, &rec)
	v.link(l.Seq, &rec)
	if err != nil {
		return
	}
	v.against(l.Seq, &p)
	if sigOK {
		v.rep.Signed++
		v.rep.Head = Head{ChainSeq: rec.ChainSeq, Hash: rec.Hash, EventSeq: p.EventSeq}
	}
}

// checkKey verifies the signature with the given keys: the one its key id
// names first, then the others (the key id is not signed).
func (v *verifier) checkKey(seq uint64, rec *Record) bool {
	if k, ok := v.keys[rec.KeyID]; ok {
		if err := CheckSig(rec, k); err != nil {
			v.problem(seq, rec.ChainSeq, "%v", err)
			return false
		}
		v.useKey(rec.KeyID)
		return true
	}
	for id, k := range v.keys {
		if CheckSig(rec, k) == nil {
			v.useKey(id)
			return true
		}
	}
	if v.foreign[rec.KeyID] == 0 {
		v.foreignL[rec.KeyID] = v.line
	}
	v.foreign[rec.KeyID]++
	return false
}

func (v *verifier) useKey(id string) {
	if !slices.Contains(v.rep.KeyIDs, id) {
		v.rep.KeyIDs = append(v.rep.KeyIDs, id)
	}
}

// link checks that rec follows the previous signed record.
func (v *verifier) link(seq uint64, rec *Record) {
	c := rec.ChainSeq
	if h, seen := v.chains[c]; seen {
		if h == rec.Hash {
			v.problem(seq, c, "signed record repeated (inserted copy)")
		} else {
			v.problem(seq, c, "a second, different record with this chain seq (inserted)")
		}
	} else {
		v.chains[c] = rec.Hash
	}
	prev := v.prev
	switch {
	case prev == nil:
		if c == 1 && rec.PrevHash != ZeroHash {
			v.problem(seq, c, "the first record of the chain does not start from the zero hash")
		}
		v.rep.FirstChain = c
	case c <= prev.ChainSeq:
		v.problem(seq, c, "chain goes back after %d: records reordered or inserted", prev.ChainSeq)
		return // the chain goes on from the highest record
	case c > prev.ChainSeq+1:
		v.problem(seq, c, "chain records %s are missing (deleted)", span(prev.ChainSeq+1, c-1))
	case rec.PrevHash != prev.Hash:
		v.problem(seq, c, "prev_hash does not link to chain %d: a record was replaced or inserted", prev.ChainSeq)
	}
	v.rep.LastChain = max(v.rep.LastChain, c)
	v.prev = rec
}

// against compares the payload with the hall event it signs.
func (v *verifier) against(seq uint64, p *Payload) {
	c := p.ChainSeq
	switch {
	case p.EventSeq >= seq:
		v.problem(seq, c, "signs event %d, which comes after it", p.EventSeq)
		return
	case p.EventID != journal.EventID(v.rep.Gateway, p.EventSeq) && v.rep.Gateway != "":
		v.problem(seq, c, "event id %q does not name seq %d of this gateway", p.EventID, p.EventSeq)
	}
	if p.EventSeq < v.rep.FirstSeq || p.EventSeq < v.opts.From {
		return // before the export: nothing to compare with
	}
	o := v.outcomes[p.EventSeq]
	if o == nil {
		v.problem(seq, c, "signs journal record %d, which is not a rating outcome in the export", p.EventSeq)
		return
	}
	if o.signed {
		v.problem(seq, c, "hall event %d is signed twice", p.EventSeq)
	}
	o.signed = true
	want, err := NewPayload(p.Gateway, p.EventSeq, p.ChainSeq, &o.ev)
	if err != nil {
		v.problem(seq, c, "%v", err)
		return
	}
	if diff := payloadDiff(&want, p); diff != "" {
		v.problem(seq, c, "does not match hall event %d (%s): the hall event or the record was changed", p.EventSeq, diff)
	}
}

// payloadDiff names the fields where the signed payload (got) differs from
// the one the hall event gives (want).
func payloadDiff(want, got *Payload) string {
	var d []string
	cmp := func(name string, w, g any) {
		if fmt.Sprint(w) != fmt.Sprint(g) {
			d = append(d, fmt.Sprintf("%s: event %v, signed %v", name, w, g))
		}
	}
	clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	cmp("outcome", want.Outcome, got.Outcome)
	cmp("rating", want.Rating, got.Rating)
	cmp("ticket", want.Ticket, got.Ticket)
	cmp("number", clean(want.Number), got.Number)
	cmp("service", clean(want.Service), got.Service)
	cmp("window", clean(want.Window), got.Window)
	cmp("staff", clean(want.Staff), got.Staff)
	cmp("case", clean(want.Case), got.Case)
	cmp("grade", want.Grade, got.Grade)
	wr := make([]string, len(want.Reasons))
	for i, r := range want.Reasons {
		wr[i] = clean(r)
	}
	cmp("reasons", wr, got.Reasons)
	cmp("source", clean(want.Source), got.Source)
	cmp("reason", clean(want.Reason), got.Reason)
	cmp("at", want.At, got.At)
	return strings.Join(d, "; ")
}

func (v *verifier) finish() {
	v.rep.Lines, v.line = v.line, 0
	for id, n := range v.foreign {
		given := make([]string, 0, len(v.keys))
		for k := range v.keys {
			given = append(given, k)
		}
		slices.Sort(given)
		v.rep.Problems = append(v.rep.Problems, Problem{Line: v.foreignL[id], Msg: fmt.Sprintf(
			"key mismatch: %d signed records do not verify with the given key %s (they name key %s)",
			n, strings.Join(given, ", "), id)})
	}
	for _, o := range v.order {
		if !o.signed {
			v.rep.Problems = append(v.rep.Problems, Problem{Line: o.line, Seq: o.seq, Msg: fmt.Sprintf(
				"rating outcome (%v of %s at window %s) has no signed record", o.ev.Type, o.ev.Number, o.ev.Window)})
		}
	}
	if h := v.opts.Head; h != nil && h.ChainSeq > 0 {
		got, seen := v.chains[h.ChainSeq]
		switch {
		case seen && got != h.Hash:
			v.problem(0, h.ChainSeq, "differs from the chain head published earlier (hash %s…, published %s…): the chain was rewritten",
				short(got), short(h.Hash))
		case !seen && v.rep.LastChain < h.ChainSeq:
			v.problem(0, 0, "the export ends at chain %d but the published head is chain %d: records %s were cut off (truncated)",
				v.rep.LastChain, h.ChainSeq, span(v.rep.LastChain+1, h.ChainSeq))
		}
	}
}

func short(h string) string { return h[:min(len(h), 12)] }
