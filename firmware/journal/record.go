package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Class separates records that must never be lost from records that may be
// evicted under pressure. Each class has its own bucket, sequence and limit.
type Class uint8

const (
	// Business records are the hall's events: kept until every hold and
	// the latest snapshot are past them, never dropped silently.
	Business Class = 1
	// Telemetry records are periodic health samples: coalesced into the
	// next commit and evicted oldest first over their limit.
	Telemetry Class = 2
)

// String returns "business", "telemetry" or "class(N)".
func (c Class) String() string {
	switch c {
	case Business:
		return "business"
	case Telemetry:
		return "telemetry"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Record is one journal entry. Seq is assigned by the journal; Data is
// opaque to it.
type Record struct {
	Seq   uint64    // assigned by the journal; Business and Telemetry have separate sequences
	Class Class     // Business or Telemetry
	Kind  string    // the producer's namespace, e.g. "hall", "health", "fault", "rating"
	At    time.Time // producer's timestamp (UTC)
	Data  []byte    // opaque payload
}

// MaxKindLen is the longest Kind a record may carry, in bytes.
const MaxKindLen = 255

// MaxDataLen is the largest payload a record may carry, in bytes.
const MaxDataLen = 1 << 20

// ErrTooLarge is returned for a record whose Data exceeds MaxDataLen.
var ErrTooLarge = errors.New("journal: record too large")

// EventID returns "<gateway>:<seq>", the idempotent identifier of a business
// event: assigned once, when the event is journaled, and sent unchanged on
// every retry so the platform can drop duplicates.
func EventID(gateway string, seq uint64) string {
	return gateway + ":" + strconv.FormatUint(seq, 10)
}

// ParseEventID splits an id made by EventID. The gateway part may itself
// contain colons; the sequence is what follows the last one.
func ParseEventID(id string) (gateway string, seq uint64, err error) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 {
		return "", 0, fmt.Errorf("journal: event id %q: want <gateway>:<seq>", id)
	}
	digits := id[i+1:]
	if digits[0] == '+' || (len(digits) > 1 && digits[0] == '0') {
		return "", 0, fmt.Errorf("journal: event id %q: non-canonical sequence", id)
	}
	seq, err = strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return "", 0, fmt.Errorf("journal: event id %q: bad sequence", id)
	}
	return id[:i], seq, nil
}

// The value stored under each record's key:
//
//	byte 0      format version (1)
//	byte 1      class
//	byte 2      kind length k (1..255)
//	3 .. 3+k    kind
//	next 8      At as Unix nanoseconds, big-endian two's complement
//	rest        data
const (
	formatV1   = 1
	headerBase = 3 + 8
	keyLen     = 8
)

var (
	minAt = time.Unix(0, -1<<63).UTC()
	maxAt = time.Unix(0, 1<<63-1).UTC()
)

// checkRecord validates what a producer may hand in; its errors are
// details for the caller to prefix.
func checkRecord(r *Record) error {
	if len(r.Kind) == 0 {
		return errors.New("without kind")
	}
	if len(r.Kind) > MaxKindLen {
		return fmt.Errorf("kind of %d bytes (max %d)", len(r.Kind), MaxKindLen)
	}
	if len(r.Data) > MaxDataLen {
		return fmt.Errorf("%d bytes of data (max %d): %w", len(r.Data), MaxDataLen, ErrTooLarge)
	}
	if !r.At.IsZero() && (r.At.Before(minAt) || r.At.After(maxAt)) {
		return fmt.Errorf("timestamp %s out of range", r.At.Format(time.RFC3339))
	}
	return nil
}

// encodeValue returns the stored form of r (class c, timestamp at).
func encodeValue(c Class, kind string, at time.Time, data []byte) []byte {
	v := make([]byte, headerBase+len(kind)+len(data))
	v[0] = formatV1
	v[1] = byte(c)
	v[2] = byte(len(kind))
	n := 3 + copy(v[3:], kind)
	binary.BigEndian.PutUint64(v[n:], uint64(at.UnixNano()))
	copy(v[n+8:], data)
	return v
}

// header is a decoded value without its payload copied.
type header struct {
	class Class
	kind  []byte
	at    int64
	data  []byte // aliases the value
}

// decodeValue parses a stored value. The returned slices alias v.
func decodeValue(v []byte) (header, error) {
	var h header
	if len(v) < headerBase {
		return h, fmt.Errorf("journal: record of %d bytes is shorter than its header", len(v))
	}
	if v[0] != formatV1 {
		return h, fmt.Errorf("journal: unknown record format %d", v[0])
	}
	h.class = Class(v[1])
	if h.class != Business && h.class != Telemetry {
		return h, fmt.Errorf("journal: unknown record class %d", v[1])
	}
	k := int(v[2])
	if k == 0 {
		return h, errors.New("journal: record without kind")
	}
	if len(v) < headerBase+k {
		return h, fmt.Errorf("journal: record of %d bytes is shorter than its %d-byte kind", len(v), k)
	}
	h.kind = v[3 : 3+k]
	h.at = int64(binary.BigEndian.Uint64(v[3+k:]))
	h.data = v[headerBase+k:]
	return h, nil
}

// record turns a decoded value into a Record; Data is copied when own is
// set and aliases the value otherwise.
func (h header) record(seq uint64, kind string, own bool) Record {
	r := Record{Seq: seq, Class: h.class, Kind: kind, At: time.Unix(0, h.at).UTC(), Data: h.data}
	if own {
		r.Data = append([]byte(nil), h.data...)
	}
	return r
}

func seqKey(seq uint64) []byte {
	k := make([]byte, keyLen)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

func keySeq(k []byte) (uint64, bool) {
	if len(k) != keyLen {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// recordBytes is what a record counts against its class limit.
func recordBytes(v []byte) int64 { return int64(keyLen + len(v)) }
