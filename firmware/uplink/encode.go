package uplink

import (
	"encoding/json"
	"fmt"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// EncodeEvent returns the events-topic payload of a business record of
// gateway gw. Hall events are published as gateway.EventDoc, which carries
// no personal data (the sealed personal blob stays in the journal); other
// kinds carry their JSON record as data. A record that cannot be decoded
// is still published (type "undecodable", no data), so consumers see no
// gap. Any clear ID number that slipped into a payload is masked.
func EncodeEvent(gw string, r journal.Record, historical bool) ([]byte, error) {
	ev := Event{V: SchemaVersion, Kind: r.Kind, Historical: historical}
	id := journal.EventID(gw, r.Seq)
	switch r.Kind {
	case gateway.KindHall:
		var he hall.Event
		if err := he.UnmarshalBinary(r.Data); err != nil {
			ev.EventDoc = gateway.EventDoc{ID: id, Seq: r.Seq, Type: "undecodable", At: r.At.UTC()}
			break
		}
		ev.EventDoc = gateway.Committed{Seq: r.Seq, ID: id, Event: he}.Doc()
	default:
		ev.EventDoc = gateway.EventDoc{ID: id, Seq: r.Seq, Type: r.Kind, At: r.At.UTC()}
		if json.Valid(r.Data) {
			ev.Data = json.RawMessage(r.Data)
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(r.Data, &head) == nil && head.Type != "" {
				ev.Type = head.Type
			}
		} else if len(r.Data) > 0 {
			// Opaque bytes travel as a JSON string (base64).
			b, err := json.Marshal(r.Data)
			if err != nil {
				return nil, fmt.Errorf("uplink: encode record %d: %w", r.Seq, err)
			}
			ev.Data = b
		}
	}
	b, ok := appendHallEvent(make([]byte, 0, 320), &ev)
	if !ok {
		var err error
		if b, err = json.Marshal(ev); err != nil {
			return nil, fmt.Errorf("uplink: encode event %d: %w", r.Seq, err)
		}
	}
	b, _ = MaskIDNumbers(b)
	return b, nil
}

// idWeights are the GB 11643 weights of the first 17 digits of a resident
// ID number; idCheck maps the weighted sum mod 11 to the check character.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheck   = "10X98765432"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// validIDNumber reports whether s (18 bytes) is a resident ID number with a
// correct GB 11643 check character.
func validIDNumber(s []byte) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(s[i]) {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	c := s[17]
	if c == 'x' {
		c = 'X'
	}
	return c == idCheck[sum%11]
}

// MaskIDNumbers replaces the middle of every resident ID number in p (18
// characters, 17 digits and a valid check character, not part of a longer
// run of digits) with '*', keeping the first 4 and last 4 characters, in
// place. It reports how many it masked. The uplink runs every payload
// through it as a last guard: no clear ID number ever leaves the gateway.
func MaskIDNumbers(p []byte) ([]byte, int) {
	n := 0
	for i := 0; i+18 <= len(p); {
		if !isDigit(p[i]) || (i > 0 && isDigit(p[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(p) && isDigit(p[j]) {
			j++
		}
		run := j - i
		end := -1
		switch {
		case run == 18:
			end = j
		case run == 17 && j < len(p) && (p[j] == 'X' || p[j] == 'x'):
			end = j + 1
		}
		if end > 0 && (end == len(p) || !isAlnum(p[end])) && validIDNumber(p[i:end]) {
			for k := i + 4; k < end-4; k++ {
				p[k] = '*'
			}
			n++
		}
		i = j
	}
	return p, n
}

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
