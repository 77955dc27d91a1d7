package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Transport delivers file chunks to the platform.
type Transport interface {
	// Send publishes one chunk and waits for the platform's
	// acknowledgement of it, until ctx ends.
	Send(ctx context.Context, c Chunk) (Ack, error)
}

// ErrNotConnected is returned by a Transport that has no link now; the
// uploader tries again later.
var ErrNotConnected = errors.New("archive: not connected to the platform")

// WireVersion is the "v" of chunk headers and acknowledgements.
const WireVersion = 1

// Chunk is one piece of a file on its way to the platform. On the wire it
// is its JSON header, a line feed, then Data (EncodeChunk).
type Chunk struct {
	V int `json:"v"`
	// Upload identifies the file for good: <gateway>/<case>/<file>. It is
	// the same after a restart, so the platform appends to what it has.
	Upload  string `json:"upload"`
	Gateway string `json:"gateway"`
	Case    string `json:"case"`
	File    string `json:"file"`
	// Offset is where Data goes in the file; Size and SHA256 (hex) are the
	// whole file's. The chunk that reaches Size is the last.
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Data   []byte `json:"-"`
}

// Last reports whether c ends its file.
func (c Chunk) Last() bool { return c.Offset+int64(len(c.Data)) == c.Size }

// Ack is the platform's answer to a chunk.
type Ack struct {
	V      int    `json:"v"`
	Upload string `json:"upload"`
	Offset int64  `json:"offset"` // the chunk's offset
	OK     bool   `json:"ok"`
	// Final is set on the answer to the last chunk once the platform holds
	// the whole file; SHA256 is then its hash of what it assembled, which
	// must equal the file's.
	Final  bool   `json:"final,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Resume, with OK false, asks the gateway to send again from this
	// offset (0 after a hash mismatch: the whole file).
	Resume *int64 `json:"resume,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Limits of the wire format.
const (
	MaxChunk     = 1 << 20 // largest chunk data
	maxHeader    = 4 << 10 // largest chunk header or ack
	maxNameField = 200     // upload, gateway, case and file name lengths
)

// EncodeChunk returns the chunk's message: the JSON header (with v set),
// '\n', then the data.
func EncodeChunk(c Chunk) ([]byte, error) {
	c.V = WireVersion
	if err := c.check(); err != nil {
		return nil, err
	}
	h, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("archive: chunk header: %w", err)
	}
	out := make([]byte, 0, len(h)+1+len(c.Data))
	out = append(append(h, '\n'), c.Data...)
	return out, nil
}

// DecodeChunk parses a chunk message. Data aliases msg.
func DecodeChunk(msg []byte) (Chunk, error) {
	var c Chunk
	i := bytes.IndexByte(msg, '\n')
	if i < 0 || i > maxHeader {
		return c, errors.New("archive: chunk: no header line")
	}
	if err := strictJSON(msg[:i], &c); err != nil {
		return c, fmt.Errorf("archive: chunk header: %w", err)
	}
	c.Data = msg[i+1:]
	if err := c.check(); err != nil {
		return Chunk{}, err
	}
	return c, nil
}

func (c *Chunk) check() error {
	switch {
	case c.V != WireVersion:
		return fmt.Errorf("archive: chunk version %d, want %d", c.V, WireVersion)
	case c.Upload == "" || len(c.Upload) > 3*maxNameField || len(c.Gateway) > maxNameField ||
		len(c.Case) > maxNameField || len(c.File) > maxNameField:
		return errors.New("archive: chunk: bad upload id or names")
	case c.Offset < 0 || c.Size < 0 || c.Offset+int64(len(c.Data)) > c.Size:
		return fmt.Errorf("archive: chunk at %d of %d bytes overruns the file of %d", c.Offset, len(c.Data), c.Size)
	case len(c.Data) > MaxChunk:
		return fmt.Errorf("archive: chunk of %d bytes, at most %d", len(c.Data), MaxChunk)
	case len(c.Data) == 0 && c.Size > 0:
		return errors.New("archive: empty chunk")
	case !validSHA(c.SHA256):
		return errors.New("archive: chunk: sha256 is not 64 hex digits")
	}
	return nil
}

// EncodeAck returns the JSON of an acknowledgement (with v set).
func EncodeAck(a Ack) ([]byte, error) {
	a.V = WireVersion
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("archive: ack: %w", err)
	}
	return b, nil
}

// DecodeAck parses an acknowledgement.
func DecodeAck(b []byte) (Ack, error) {
	var a Ack
	if len(b) > maxHeader {
		return a, fmt.Errorf("archive: ack of %d bytes", len(b))
	}
	if err := strictJSON(b, &a); err != nil {
		return Ack{}, fmt.Errorf("archive: ack: %w", err)
	}
	switch {
	case a.V != WireVersion:
		return Ack{}, fmt.Errorf("archive: ack version %d, want %d", a.V, WireVersion)
	case a.Upload == "" || len(a.Upload) > 3*maxNameField:
		return Ack{}, errors.New("archive: ack: bad upload id")
	case a.Offset < 0 || (a.Resume != nil && *a.Resume < 0):
		return Ack{}, errors.New("archive: ack: negative offset")
	case a.SHA256 != "" && !validSHA(a.SHA256):
		return Ack{}, errors.New("archive: ack: sha256 is not 64 hex digits")
	case len(a.Error) > maxNameField:
		a.Error = a.Error[:maxNameField]
	}
	return a, nil
}

// strictJSON decodes one JSON object, refusing unknown fields and
// trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) < 0
}

// Topic leaves under the gateway's topic root (<prefix>/<hall>/<gateway>).
const (
	LeafChunk = "archive/chunk" // gateway → platform, QoS 1
	LeafAck   = "archive/ack"   // platform → gateway, QoS 1
)
