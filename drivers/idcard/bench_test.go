package idcard

import "testing"

func benchFrame(b *testing.B) []byte {
	c := goodCard()
	text, err := EncodeText(c)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := JoinRead(text, make([]byte, PhotoLen))
	frame, _ := EncodeResponse(StatusOK, data)
	return frame
}

// BenchmarkBaselineChecksum is the floor for decoding a read reply: one
// XOR pass over the 1295 bytes.
func BenchmarkBaselineChecksum(b *testing.B) {
	frame := benchFrame(b)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if checksum(frame[len(Preamble):]) != 0 {
			b.Fatal("bad frame")
		}
	}
}

// BenchmarkDecodeRead decodes a whole 1295-byte read reply into a Card:
// frame, lengths, text block and validation.
func BenchmarkDecodeRead(b *testing.B) {
	frame := benchFrame(b)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		resp, err := DecodeResponse(frame)
		if err != nil {
			b.Fatal(err)
		}
		text, _, err := SplitRead(resp.Data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeText(text); err != nil {
			b.Fatal(err)
		}
	}
}
