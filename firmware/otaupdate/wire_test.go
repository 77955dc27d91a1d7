package otaupdate

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"hallgw/firmware/update"
)

const sha0 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// TestWireVectors pins the exact bytes of a request and a chunk: the
// platform's implementation must produce and accept these.
func TestWireVectors(t *testing.T) {
	req, err := EncodeRequest(Request{SHA256: sha0, Index: 3})
	if want := `{"v":1,"sha256":"` + sha0 + `","index":3}`; err != nil || string(req) != want {
		t.Errorf("EncodeRequest = %s, %v, want %s", req, err, want)
	}
	ch, err := EncodeChunk(Chunk{SHA256: sha0, Index: 3, Data: []byte("hallgw")})
	if want := `{"v":1,"sha256":"` + sha0 + `","index":3,"data":"aGFsbGd3"}`; err != nil || string(ch) != want {
		t.Errorf("EncodeChunk = %s, %v, want %s", ch, err, want)
	}
	e, err := EncodeChunk(Chunk{SHA256: sha0, Index: 9, Error: "unknown bundle"})
	if want := `{"v":1,"sha256":"` + sha0 + `","index":9,"error":"unknown bundle"}`; err != nil || string(e) != want {
		t.Errorf("EncodeChunk(error) = %s, %v, want %s", e, err, want)
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want update.Offer // zero: an error
	}{
		{"all fields", `{"version":"1.4.0","sha256":"` + sha0 + `","size":5000,"chunk_size":1024}`,
			update.Offer{Version: "1.4.0", SHA256: sha0, Size: 5000, ChunkSize: 1024}},
		{"no version", `{"sha256":"` + sha0 + `","size":1,"chunk_size":4194304}`,
			update.Offer{SHA256: sha0, Size: 1, ChunkSize: 4 << 20}},
		{"empty", ``, update.Offer{}},
		{"null", `null`, update.Offer{}},
		{"array", `[1]`, update.Offer{}},
		{"upper-case sha256", `{"sha256":"` + strings.ToUpper(sha0) + `","size":5,"chunk_size":1024}`, update.Offer{}},
		{"short sha256", `{"sha256":"abcd","size":5,"chunk_size":1024}`, update.Offer{}},
		{"no size", `{"sha256":"` + sha0 + `","chunk_size":1024}`, update.Offer{}},
		{"negative size", `{"sha256":"` + sha0 + `","size":-1,"chunk_size":1024}`, update.Offer{}},
		{"size over the limit", `{"sha256":"` + sha0 + `","size":1073741825,"chunk_size":1024}`, update.Offer{}},
		{"chunk too small", `{"sha256":"` + sha0 + `","size":5,"chunk_size":1023}`, update.Offer{}},
		{"chunk too large", `{"sha256":"` + sha0 + `","size":5,"chunk_size":4194305}`, update.Offer{}},
		{"unknown field", `{"sha256":"` + sha0 + `","size":5,"chunk_size":1024,"url":"http://x"}`, update.Offer{}},
		{"trailing data", `{"sha256":"` + sha0 + `","size":5,"chunk_size":1024} {}`, update.Offer{}},
		{"control character in version", `{"version":"1.4\n","sha256":"` + sha0 + `","size":5,"chunk_size":1024}`, update.Offer{}},
		{"size as a string", `{"sha256":"` + sha0 + `","size":"5","chunk_size":1024}`, update.Offer{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs([]byte(tt.in))
			switch {
			case tt.want == (update.Offer{}) && !errors.Is(err, ErrWire):
				t.Errorf("ParseArgs(%s) = %+v, %v, want an ErrWire", tt.in, got, err)
			case tt.want != (update.Offer{}) && (err != nil || got != tt.want):
				t.Errorf("ParseArgs(%s) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int // index; -1: an error
	}{
		{"good", `{"v":1,"sha256":"` + sha0 + `","index":0}`, 0},
		{"large index", `{"v":1,"sha256":"` + sha0 + `","index":1048576}`, 1 << 20},
		{"index past the largest bundle", `{"v":1,"sha256":"` + sha0 + `","index":1048577}`, -1},
		{"negative index", `{"v":1,"sha256":"` + sha0 + `","index":-1}`, -1},
		{"version 2", `{"v":2,"sha256":"` + sha0 + `","index":0}`, -1},
		{"no version", `{"sha256":"` + sha0 + `","index":0}`, -1},
		{"bad sha256", `{"v":1,"sha256":"xyz","index":0}`, -1},
		{"unknown field", `{"v":1,"sha256":"` + sha0 + `","index":0,"offset":5}`, -1},
		{"not JSON", `index 0`, -1},
		{"too long", `{"v":1,"sha256":"` + sha0 + `","index":0` + strings.Repeat(" ", 600) + `}`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.in))
			switch {
			case tt.want < 0 && !errors.Is(err, ErrWire):
				t.Errorf("DecodeRequest(%.80s) = %+v, %v, want an ErrWire", tt.in, got, err)
			case tt.want >= 0 && (err != nil || got.Index != tt.want || got.SHA256 != sha0):
				t.Errorf("DecodeRequest(%.80s) = %+v, %v, want index %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDecodeChunk(t *testing.T) {
	big := make([]byte, update.MaxChunkSize+1)
	bigMsg := `{"v":1,"sha256":"` + sha0 + `","index":0,"data":"` + b64(big) + `"}`
	tests := []struct {
		name     string
		in       string
		data     string
		errText  string
		mustFail bool
	}{
		{name: "data", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"data":"aGFsbGd3"}`, data: "hallgw"},
		{name: "error", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"error":"unknown bundle"}`, errText: "unknown bundle"},
		{name: "both", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"data":"aGFsbGd3","error":"x"}`, mustFail: true},
		{name: "neither", in: `{"v":1,"sha256":"` + sha0 + `","index":2}`, mustFail: true},
		{name: "empty data", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"data":""}`, mustFail: true},
		{name: "bad base64", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"data":"a$b"}`, mustFail: true},
		{name: "data too large", in: bigMsg, mustFail: true},
		{name: "error too long", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"error":"` + strings.Repeat("x", 201) + `"}`, mustFail: true},
		{name: "unknown field", in: `{"v":1,"sha256":"` + sha0 + `","index":2,"data":"aGFsbGd3","crc":1}`, mustFail: true},
		{name: "wrong version", in: `{"v":0,"sha256":"` + sha0 + `","index":2,"data":"aGFsbGd3"}`, mustFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeChunk([]byte(tt.in))
			switch {
			case tt.mustFail && !errors.Is(err, ErrWire):
				t.Errorf("DecodeChunk(%.80s) = %+v, %v, want an ErrWire", tt.in, got, err)
			case !tt.mustFail && (err != nil || string(got.Data) != tt.data || got.Error != tt.errText || got.Index != 2):
				t.Errorf("DecodeChunk(%.80s) = %+v, %v, want data %q, error %q", tt.in, got, err, tt.data, tt.errText)
			}
		})
	}
}

// TestChunkRoundTrip checks that the largest chunk fits MaxChunkMessage.
func TestChunkRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte{0xa5}, update.MaxChunkSize)
	msg, err := EncodeChunk(Chunk{SHA256: sha0, Index: maxIndex, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > MaxChunkMessage {
		t.Fatalf("largest chunk message is %d bytes, over MaxChunkMessage %d", len(msg), MaxChunkMessage)
	}
	got, err := DecodeChunk(msg)
	if err != nil || !bytes.Equal(got.Data, data) || got.Index != maxIndex {
		t.Errorf("DecodeChunk(EncodeChunk(largest)) = index %d, %d bytes, %v", got.Index, len(got.Data), err)
	}
}

func TestRefusalCodes(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{update.ErrChecksum, CodeChecksum},
		{update.ErrNoKeys, CodeNoKeys},
		{update.ErrUnsigned, CodeUnsigned},
		{update.ErrBadSignature, CodeBadSignature},
		{&update.TamperError{File: "hallgw"}, CodeTampered},
		{&update.DowngradeError{Bundle: 1, Installed: 2}, CodeDowngrade},
		{&update.BoardError{Bundle: "x", Device: "y"}, CodeWrongBoard},
		{update.ErrWrongArch, CodeWrongArch},
		{update.ErrMalformed, CodeMalformed},
		{update.ErrTrialPending, CodeTrialPending},
		{errors.New("disk full"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := refusal(tt.err); got != tt.want {
				t.Errorf("refusal(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
