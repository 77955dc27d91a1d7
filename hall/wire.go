package hall

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// Times are stored as nanoseconds since the Unix epoch and must lie in
// [minTime, maxTime]; the zero time is stored as 0.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timeOK reports whether t can be stored (zero or within range).
func timeOK(t time.Time) bool {
	return t.IsZero() || (!t.Before(minTime) && !t.After(maxTime))
}

// wbuf appends the compact binary encoding used by events, configurations
// and state snapshots.
type wbuf struct {
	b   []byte
	err error
}

func (w *wbuf) byte(v byte)         { w.b = append(w.b, v) }
func (w *wbuf) uvarint(v uint64)    { w.b = binary.AppendUvarint(w.b, v) }
func (w *wbuf) varint(v int64)      { w.b = binary.AppendVarint(w.b, v) }
func (w *wbuf) int(v int)           { w.varint(int64(v)) }
func (w *wbuf) dur(d time.Duration) { w.varint(int64(d)) }

func (w *wbuf) bool(v bool) {
	if v {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

func (w *wbuf) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *wbuf) bytes(p []byte) {
	w.uvarint(uint64(len(p)))
	w.b = append(w.b, p...)
}

// time stores 0 for the zero time, else zigzag(UnixNano)+1.
func (w *wbuf) time(t time.Time) {
	if t.IsZero() {
		w.uvarint(0)
		return
	}
	if !timeOK(t) {
		if w.err == nil {
			w.err = errors.New("hall: time out of range: " + t.UTC().Format(time.RFC3339))
		}
		w.uvarint(0)
		return
	}
	ns := t.UnixNano()
	w.uvarint(uint64(ns<<1^ns>>63) + 1)
}

// rbuf decodes what wbuf wrote. The first error sticks; later reads return
// zero values, so decoders check r.err once at the end.
type rbuf struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (r *rbuf) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *rbuf) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rbuf) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		if n == 0 {
			r.fail(errShort)
		} else {
			r.fail(errors.New("varint overflow"))
		}
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		if n == 0 {
			r.fail(errShort)
		} else {
			r.fail(errors.New("varint overflow"))
		}
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads a varint that must fit in 32 bits (counts, numbers, ages).
func (r *rbuf) int() int {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(errors.New("integer out of range"))
		return 0
	}
	return int(v)
}

func (r *rbuf) dur() time.Duration { return time.Duration(r.varint()) }

func (r *rbuf) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(errors.New("bad boolean"))
		return false
	}
}

// count reads a length that must not exceed what the remaining bytes can
// hold at minSize bytes per element, so garbage never makes a huge
// allocation.
func (r *rbuf) count(minSize int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(len(r.b)/minSize) {
		r.fail(errShort)
		return 0
	}
	return int(n)
}

func (r *rbuf) raw() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *rbuf) str() string { return string(r.raw()) }

// bytes returns a copy, or nil for an empty field.
func (r *rbuf) bytes() []byte {
	p := r.raw()
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (r *rbuf) time() time.Time {
	v := r.uvarint()
	if v == 0 || r.err != nil {
		return time.Time{}
	}
	v--
	ns := int64(v>>1) ^ -int64(v&1)
	t := time.Unix(0, ns).UTC()
	if !timeOK(t) {
		r.fail(errors.New("time out of range"))
		return time.Time{}
	}
	return t
}
