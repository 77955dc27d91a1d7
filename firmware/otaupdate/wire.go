package otaupdate

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"hallgw/firmware/update"
)

// Cmd is the platform command that offers a bundle (docs/mqtt.md).
const Cmd = "update"

// Topic leaves under the gateway's topic root, <prefix>/<hall>/<gateway>.
const (
	// LeafRequest carries the gateway's requests for chunks (gateway →
	// platform, QoS 1, never retained).
	LeafRequest = "update/req"
	// LeafChunk carries the platform's answers (platform → gateway, QoS 1,
	// never retained).
	LeafChunk = "update/chunk"
)

// WireVersion is the "v" of requests and chunks.
const WireVersion = 1

// Limits of the wire format.
const (
	// MaxChunkMessage bounds a chunk message: the largest chunk in base64
	// plus room for the other fields.
	MaxChunkMessage = update.MaxChunkSize/3*4 + 8<<10
	maxRequestLen   = 512
	maxArgsLen      = 4 << 10
	maxVersionLen   = 64
	maxErrorLen     = 200
	// maxIndex is the highest chunk index of the largest bundle cut into
	// the smallest chunks.
	maxIndex = update.MaxBundleSize / update.MinChunkSize
)

// ErrWire is wrapped by every decoding error of a request, a chunk or the
// command's arguments.
var ErrWire = errors.New("otaupdate: bad message")

// Request asks the platform for one chunk of an offered bundle.
type Request struct {
	V      int    `json:"v"`
	SHA256 string `json:"sha256"` // the whole bundle's, as offered
	Index  int    `json:"index"`  // chunk number, from 0
}

// Chunk is the platform's answer to a Request: the bytes of chunk Index
// (Offer.ChunkSize bytes, fewer for the last), or Error when it cannot
// serve them (an unknown bundle). Data is base64 (standard alphabet) in
// JSON.
type Chunk struct {
	V      int    `json:"v"`
	SHA256 string `json:"sha256"`
	Index  int    `json:"index"`
	Data   []byte `json:"data,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Args are the arguments of the update command: the offer of one bundle.
// Version is informational (the signed manifest decides); the gateway
// checks the whole file against SHA256 before it installs anything.
type Args struct {
	Version   string `json:"version,omitempty"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunk_size"`
}

// Offer returns the arguments as an update.Offer.
func (a Args) Offer() update.Offer {
	return update.Offer{SHA256: a.SHA256, Size: a.Size, ChunkSize: a.ChunkSize, Version: a.Version}
}

// CheckOffer reports whether o can be downloaded: a sha256 of 64 lower-case
// hex digits, a size within update.MaxBundleSize, a chunk size within
// update.MinChunkSize…MaxChunkSize and a printable version of at most 64
// bytes (or none).
func CheckOffer(o update.Offer) error {
	switch {
	case !validSHA(o.SHA256):
		return fmt.Errorf("%w: sha256 must be 64 lower-case hex digits", ErrWire)
	case o.Size <= 0 || o.Size > update.MaxBundleSize:
		return fmt.Errorf("%w: size %d not in [1, %d]", ErrWire, o.Size, int64(update.MaxBundleSize))
	case o.ChunkSize < update.MinChunkSize || o.ChunkSize > update.MaxChunkSize:
		return fmt.Errorf("%w: chunk_size %d not in [%d, %d]", ErrWire, o.ChunkSize, update.MinChunkSize, update.MaxChunkSize)
	case !validVersion(o.Version):
		return fmt.Errorf("%w: version: at most %d printable characters", ErrWire, maxVersionLen)
	}
	return nil
}

// ParseArgs decodes and checks the arguments of the update command. Every
// field but version is required; unknown fields are refused.
func ParseArgs(data []byte) (update.Offer, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return update.Offer{}, fmt.Errorf("%w: args: want {\"version\",\"sha256\",\"size\",\"chunk_size\"}", ErrWire)
	}
	if len(data) > maxArgsLen {
		return update.Offer{}, fmt.Errorf("%w: args larger than %d bytes", ErrWire, maxArgsLen)
	}
	var a Args
	if err := decodeStrict(data, &a); err != nil {
		return update.Offer{}, fmt.Errorf("%w: args: %v", ErrWire, err)
	}
	o := a.Offer()
	if err := CheckOffer(o); err != nil {
		return update.Offer{}, err
	}
	return o, nil
}

// EncodeRequest returns the message of a request.
func EncodeRequest(r Request) ([]byte, error) {
	r.V = WireVersion
	if err := r.check(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// DecodeRequest parses and checks a request message.
func DecodeRequest(p []byte) (Request, error) {
	if len(p) > maxRequestLen {
		return Request{}, fmt.Errorf("%w: request of %d bytes", ErrWire, len(p))
	}
	var r Request
	if err := decodeStrict(p, &r); err != nil {
		return Request{}, fmt.Errorf("%w: request: %v", ErrWire, err)
	}
	if err := r.check(); err != nil {
		return Request{}, err
	}
	return r, nil
}

func (r Request) check() error {
	switch {
	case r.V != WireVersion:
		return fmt.Errorf("%w: v %d, want %d", ErrWire, r.V, WireVersion)
	case !validSHA(r.SHA256):
		return fmt.Errorf("%w: sha256 must be 64 lower-case hex digits", ErrWire)
	case r.Index < 0 || r.Index > maxIndex:
		return fmt.Errorf("%w: index %d", ErrWire, r.Index)
	}
	return nil
}

// EncodeChunk returns the message of a chunk.
func EncodeChunk(c Chunk) ([]byte, error) {
	c.V = WireVersion
	if err := c.check(); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// DecodeChunk parses and checks a chunk message. A chunk has either data
// or an error, never both.
func DecodeChunk(p []byte) (Chunk, error) {
	if len(p) > MaxChunkMessage {
		return Chunk{}, fmt.Errorf("%w: chunk message of %d bytes", ErrWire, len(p))
	}
	var c Chunk
	if err := decodeStrict(p, &c); err != nil {
		return Chunk{}, fmt.Errorf("%w: chunk: %v", ErrWire, err)
	}
	if err := c.check(); err != nil {
		return Chunk{}, err
	}
	return c, nil
}

func (c Chunk) check() error {
	switch {
	case c.V != WireVersion:
		return fmt.Errorf("%w: v %d, want %d", ErrWire, c.V, WireVersion)
	case !validSHA(c.SHA256):
		return fmt.Errorf("%w: sha256 must be 64 lower-case hex digits", ErrWire)
	case c.Index < 0 || c.Index > maxIndex:
		return fmt.Errorf("%w: index %d", ErrWire, c.Index)
	case len(c.Data) > update.MaxChunkSize:
		return fmt.Errorf("%w: chunk of %d bytes", ErrWire, len(c.Data))
	case (len(c.Data) == 0) == (c.Error == ""):
		return fmt.Errorf("%w: a chunk carries data or an error", ErrWire)
	case len(c.Error) > maxErrorLen || !utf8.ValidString(c.Error):
		return fmt.Errorf("%w: error text", ErrWire)
	}
	return nil
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(p []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	b, err := hex.DecodeString(s)
	return err == nil && hex.EncodeToString(b) == s
}

func validVersion(s string) bool {
	if len(s) > maxVersionLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
