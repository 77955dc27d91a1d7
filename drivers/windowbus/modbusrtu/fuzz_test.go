package modbusrtu

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeRequest checks the device-side decoder: no panic on any input,
// a consistent length, and a decoded request re-encodes to the same bytes.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte{0x05, 0x04, 0x00, 0x10, 0x00, 0x01, 0x31, 0x8B})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, n, err := DecodeRequest(b)
		if n > len(b) {
			t.Fatalf("DecodeRequest(% X) consumed %d of %d bytes", b, n, len(b))
		}
		if err != nil {
			if errors.Is(err, ErrIncomplete) && n != 0 {
				t.Fatalf("DecodeRequest(% X): incomplete with n = %d", b, n)
			}
			return
		}
		again, err := req.Encode()
		if err != nil {
			t.Fatalf("Encode(DecodeRequest(% X) = %+v): %v", b, req, err)
		}
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("Encode(DecodeRequest(% X)) = % X", b[:n], again)
		}
	})
}

// FuzzDecodeResponse checks the master-side decoder and the register block
// decoders behind it.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte{0x05, 0x04, 0x02, 0x00, 0x00, 0x48, 0xF0})
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, n, err := DecodeResponse(b)
		if n > len(b) {
			t.Fatalf("DecodeResponse(% X) consumed %d of %d bytes", b, n, len(b))
		}
		if err != nil {
			return
		}
		again, err := resp.Encode()
		if err != nil {
			t.Fatalf("Encode(DecodeResponse(% X) = %+v): %v", b, resp, err)
		}
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("Encode(DecodeResponse(% X)) = % X", b[:n], again)
		}
		if len(resp.Values) > 0 {
			// Whatever a device sends, the block decoders must not panic,
			// and decoded text must fit what was read.
			DecodeIdentity(resp.Values)
			DecodeCounters(resp.Values)
			if ks, err := DecodeKeys(resp.Values); err == nil && len(ks.Entries) > WindowEntries {
				t.Fatalf("DecodeKeys gave %d entries", len(ks.Entries))
			}
			if text, err := UnpackText(resp.Values); err == nil && len(text) > 2*(len(resp.Values)-1) {
				t.Fatalf("UnpackText gave %d bytes from %d registers", len(text), len(resp.Values))
			}
		}
	})
}
