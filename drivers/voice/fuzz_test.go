package voice

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseWAV checks that ParseWAV never panics, fails with a
// package-prefixed error, and that whatever it accepts is whole frames of a
// valid format that survive EncodeWAV and a second parse unchanged. Seeds
// are in testdata/fuzz/FuzzParseWAV (sox and espeak-ng output, damaged
// headers).
func FuzzParseWAV(f *testing.F) {
	f.Add(riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", []byte{1, 2, 3, 4})))
	f.Add(riff(chunk("fmt ", extensibleBody(2, 48000, 24, 1)), chunk("data", make([]byte, 6))))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseWAV(b)
		if err != nil {
			if a != nil {
				t.Fatalf("ParseWAV() = %v and error %v, want nil audio with an error", a, err)
			}
			if !strings.HasPrefix(err.Error(), "voice: ") {
				t.Fatalf("ParseWAV() error %q lacks the package prefix", err)
			}
			return
		}
		if err := a.Format.Validate(); err != nil {
			t.Fatalf("ParseWAV() accepted format %v: %v", a.Format, err)
		}
		if len(a.Data)%a.Format.FrameSize() != 0 {
			t.Fatalf("ParseWAV() data of %d bytes, not whole %d-byte frames", len(a.Data), a.Format.FrameSize())
		}
		if len(a.Data) > len(b) {
			t.Fatalf("ParseWAV() data of %d bytes from a %d-byte input", len(a.Data), len(b))
		}
		enc, err := a.WAV()
		if err != nil {
			t.Fatalf("EncodeWAV(ParseWAV()) error %v", err)
		}
		a2, err := ParseWAV(enc)
		if err != nil {
			t.Fatalf("ParseWAV(EncodeWAV(ParseWAV())) error %v", err)
		}
		if a2.Format != a.Format || !bytes.Equal(a2.Data, a.Data) {
			t.Fatalf("round trip = %v %d bytes, want %v %d bytes", a2.Format, len(a2.Data), a.Format, len(a.Data))
		}
	})
}
