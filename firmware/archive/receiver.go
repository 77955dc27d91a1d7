package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"sync"
)

// Receiver is the platform's side of the upload protocol, kept in memory:
// the reference for the platform's implementation (docs/scanner.md), the
// fake platform of the tests and the demo. It assembles each upload from
// its chunks, asks for a resend from where it stands when a chunk does not
// fit, and answers the last chunk with its own SHA-256 of the whole file.
// It is safe for concurrent use.
type Receiver struct {
	mu    sync.Mutex
	parts map[string]*part
	done  map[string]Received
}

type part struct {
	data []byte
	size int64
	sum  string
}

// Received is a file the Receiver holds whole, its hash verified.
type Received struct {
	Upload, Gateway, Case, File string
	Data                        []byte
	SHA256                      string
}

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver {
	return &Receiver{parts: map[string]*part{}, done: map[string]Received{}}
}

// Handle takes one chunk and returns the acknowledgement to send back.
func (r *Receiver) Handle(c Chunk) Ack {
	r.mu.Lock()
	defer r.mu.Unlock()
	ack := Ack{V: WireVersion, Upload: c.Upload, Offset: c.Offset}
	resume := func(at int64, why string) Ack {
		ack.OK, ack.Resume, ack.Error = false, &at, why
		return ack
	}
	if f, ok := r.done[c.Upload]; ok && f.SHA256 == c.SHA256 {
		// A resend after the final acknowledgement was lost: confirm again.
		ack.OK = true
		if c.Last() {
			ack.Final, ack.SHA256 = true, f.SHA256
		}
		return ack
	}
	p := r.parts[c.Upload]
	if p == nil || p.size != c.Size || p.sum != c.SHA256 {
		if c.Offset != 0 {
			delete(r.parts, c.Upload)
			return resume(0, "unknown upload: send it from the start")
		}
		p = &part{size: c.Size, sum: c.SHA256}
		r.parts[c.Upload] = p
	}
	if c.Offset > int64(len(p.data)) {
		return resume(int64(len(p.data)), "gap: resend from what is held")
	}
	p.data = append(p.data[:c.Offset], c.Data...)
	ack.OK = true
	if !c.Last() {
		return ack
	}
	sum := sha256.Sum256(p.data)
	ack.Final, ack.SHA256 = true, hex.EncodeToString(sum[:])
	delete(r.parts, c.Upload)
	if ack.SHA256 != c.SHA256 {
		ack.OK, ack.Resume, ack.Error = false, new(int64), "sha256 mismatch: send the file again"
		return ack
	}
	r.done[c.Upload] = Received{Upload: c.Upload, Gateway: c.Gateway, Case: c.Case, File: c.File,
		Data: bytes.Clone(p.data), SHA256: ack.SHA256}
	return ack
}

// Received returns the complete files, by upload id.
func (r *Receiver) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Received, 0, len(r.done))
	for _, f := range r.done {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Upload < out[j].Upload })
	return out
}

// Partial returns how many bytes the Receiver holds of an unfinished upload.
func (r *Receiver) Partial(upload string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.parts[upload]; p != nil {
		return len(p.data)
	}
	return 0
}
