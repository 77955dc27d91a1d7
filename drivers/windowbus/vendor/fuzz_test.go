package vendor

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode checks the frame decoder in both directions (the frame shape
// is the same): no panic, progress on every error, and a decoded frame
// re-encodes to the bytes it came from, preamble aside.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xFF, 0x68, 0x02, 0x02, 0x68, 0x05, 0x01, 0x06, 0x16})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := Decode(b)
		if n < 0 || n > len(b) {
			t.Fatalf("Decode(% X) consumed %d of %d bytes", b, n, len(b))
		}
		switch {
		case err == nil:
			enc, err := fr.Encode()
			if err != nil {
				t.Fatalf("Encode(Decode(% X)): %v", b, err)
			}
			if !bytes.HasSuffix(b[:n], enc[1:]) {
				t.Fatalf("Encode(Decode(% X)) = % X", b[:n], enc)
			}
			// Payload decoders must cope with whatever a device sends.
			DecodeIdentity(fr.Data)
			DecodeKeys(fr.Data)
			DecodeCounters(fr.Data)
			DecodeSettings(fr.Data)
			DecodeBeep(fr.Data)
		case errors.Is(err, ErrSum), errors.Is(err, ErrFrame):
			if n == 0 {
				t.Fatalf("Decode(% X) = %v without progress", b, err)
			}
		}
	})
}
