package voice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// chunk builds a RIFF chunk, padded to even length.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riff wraps chunks in a RIFF/WAVE header with the exact size.
func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	return append(b, body...)
}

// fmtBody builds a 16-byte PCM "fmt " body; blockAlign and byteRate are
// computed unless given.
func fmtBody(tag uint16, ch, rate, bits int) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], uint16(ch))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(rate*ch*bits/8))
	binary.LittleEndian.PutUint16(b[12:], uint16(ch*bits/8))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return b
}

// extensibleBody builds a 40-byte WAVE_FORMAT_EXTENSIBLE body with the given
// sub-format tag.
func extensibleBody(ch, rate, bits int, sub uint16) []byte {
	b := append(fmtBody(formatExtensible, ch, rate, bits), 22, 0) // cbSize
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))         // valid bits
	b = binary.LittleEndian.AppendUint32(b, 4)                    // channel mask
	b = binary.LittleEndian.AppendUint16(b, sub)
	return append(b, pcmSubFormat...)
}

var mono16 = Format{SampleRate: 22050, Channels: 1, BitsPerSample: 16}

func TestParseWAV(t *testing.T) {
	samples := []byte{1, 2, 3, 4, 5, 6}
	list := chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00\x00"))
	noPad := riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", []byte{7, 8, 9}))
	noPad = noPad[:len(noPad)-1]
	binary.LittleEndian.PutUint32(noPad[4:], uint32(len(noPad)-8))
	tests := []struct {
		name string
		in   []byte
		want Format
		data []byte
	}{
		{"canonical", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", samples)), mono16, samples},
		{"list chunk before and after", riff(list, chunk("fmt ", fmtBody(1, 1, 22050, 16)), list, chunk("data", samples), list), mono16, samples},
		{"odd chunk padded", riff(chunk("junk", []byte{9, 9, 9}), chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", samples)), mono16, samples},
		{"stereo 8-bit odd data", riff(chunk("fmt ", fmtBody(1, 2, 8000, 8)), chunk("data", []byte{1, 2, 3, 4})), Format{8000, 2, 8}, []byte{1, 2, 3, 4}},
		{"mono 8-bit odd length, final pad missing", noPad, Format{8000, 1, 8}, []byte{7, 8, 9}},
		{"extensible 24-bit", riff(chunk("fmt ", extensibleBody(1, 48000, 24, 1)), chunk("data", samples)), Format{48000, 1, 24}, samples},
		{"fmt chunk with cbSize", riff(chunk("fmt ", append(fmtBody(1, 1, 22050, 16), 0, 0)), chunk("data", samples)), mono16, samples},
		{"empty data", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", nil)), mono16, []byte{}},
		{"trailing bytes after RIFF", append(riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", samples)), "junk"...), mono16, samples},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseWAV(tc.in)
			if err != nil {
				t.Fatalf("ParseWAV() error %v, want nil", err)
			}
			if a.Format != tc.want || !bytes.Equal(a.Data, tc.data) {
				t.Errorf("ParseWAV() = %v % x, want %v % x", a.Format, a.Data, tc.want, tc.data)
			}
		})
	}
}

func TestParseWAVErrors(t *testing.T) {
	good := riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", []byte{1, 2, 3, 4}))
	streamed := bytes.Clone(good)
	binary.LittleEndian.PutUint32(streamed[4:], 0x7ffff000) // espeak-ng --stdout
	binary.LittleEndian.PutUint32(streamed[40:], 0x7fffffd0)
	bigData := bytes.Clone(good)
	binary.LittleEndian.PutUint32(bigData[40:], 100)
	badAlign := fmtBody(1, 1, 22050, 16)
	badAlign[12] = 4
	badRate := fmtBody(1, 1, 22050, 16)
	badRate[8]++
	tests := []struct {
		name   string
		in     []byte
		want   string // substring of the error
		notWAV bool
	}{
		{"nil", nil, "0 bytes", true},
		{"short", []byte("RIFF\x04\x00"), "6 bytes", true},
		{"mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), `starts with "ID3\x04"`, true},
		{"avi", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), `form "AVI "`, true},
		{"rifx", append([]byte("RIFX"), good[4:]...), `"RIFX" container`, false},
		{"rf64", append([]byte("RF64"), good[4:]...), `"RF64" container`, false},
		{"riff size too small", append([]byte("RIFF\x02\x00\x00\x00"), good[8:]...), "RIFF size 2", false},
		{"truncated", good[:len(good)-1], "RIFF size 40 but only 39 bytes follow", false},
		{"streamed header", streamed, "placeholder sizes", false},
		{"data size past end", bigData, `chunk "data" at offset 36 has size 100`, false},
		{"stray bytes", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", nil), []byte{1, 2, 3}), "3 stray bytes", false},
		{"no fmt", riff(chunk("LIST", nil)), `no "fmt " chunk`, false},
		{"no data", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16))), `no "data" chunk`, false},
		{"data before fmt", riff(chunk("data", nil), chunk("fmt ", fmtBody(1, 1, 22050, 16))), "before the", false},
		{"two fmt", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", nil)), `two "fmt "`, false},
		{"two data", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", nil), chunk("data", nil)), `two "data"`, false},
		{"short fmt", riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)[:14]), chunk("data", nil)), "14 bytes, want at least 16", false},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 22050, 32)), chunk("data", nil)), "format tag 0x0003", false},
		{"mp3 in wav", riff(chunk("fmt ", fmtBody(0x55, 1, 22050, 16)), chunk("data", nil)), "format tag 0x0055", false},
		{"extensible float", riff(chunk("fmt ", extensibleBody(1, 22050, 32, 3)), chunk("data", nil)), "not integer PCM", false},
		{"extensible short", riff(chunk("fmt ", extensibleBody(1, 22050, 16, 1)[:30]), chunk("data", nil)), "extensible", false},
		{"zero channels", riff(chunk("fmt ", fmtBody(1, 0, 22050, 16)), chunk("data", nil)), "0 channels", false},
		{"nine channels", riff(chunk("fmt ", fmtBody(1, 9, 22050, 16)), chunk("data", nil)), "9 channels", false},
		{"zero rate", riff(chunk("fmt ", fmtBody(1, 1, 0, 16)), chunk("data", nil)), "sample rate 0", false},
		{"12-bit", riff(chunk("fmt ", fmtBody(1, 1, 22050, 12)), chunk("data", nil)), "12 bits", false},
		{"block align", riff(chunk("fmt ", badAlign), chunk("data", nil)), "block align 4, want 2", false},
		{"byte rate", riff(chunk("fmt ", badRate), chunk("data", nil)), "byte rate 44101", false},
		{"partial frame", riff(chunk("fmt ", fmtBody(1, 2, 22050, 16)), chunk("data", []byte{1, 2, 3, 4, 5, 6})), "6 data bytes are not whole 4-byte frames", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseWAV(tc.in)
			if err == nil {
				t.Fatalf("ParseWAV() = %v, want error containing %q", a.Format, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "voice: ") {
				t.Errorf("ParseWAV() error %q, want it to start with \"voice: \" and contain %q", err, tc.want)
			}
			if got := errors.Is(err, ErrNotWAV); got != tc.notWAV {
				t.Errorf("errors.Is(%v, ErrNotWAV) = %v, want %v", err, got, tc.notWAV)
			}
		})
	}
}

func TestEncodeWAV(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		data []byte
	}{
		{"mono 16-bit", mono16, []byte{1, 2, 3, 4}},
		{"empty", mono16, nil},
		{"mono 8-bit odd", Format{8000, 1, 8}, []byte{1, 2, 3}},
		{"stereo 24-bit", Format{48000, 2, 24}, make([]byte, 12)},
		{"8 channels 32-bit", Format{96000, 8, 32}, make([]byte, 64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeWAV(tc.f, tc.data)
			if err != nil {
				t.Fatalf("EncodeWAV() error %v", err)
			}
			pad := len(tc.data) % 2
			if got, want := len(b), 44+len(tc.data)+pad; got != want {
				t.Errorf("len(EncodeWAV()) = %d, want %d", got, want)
			}
			if got, want := binary.LittleEndian.Uint32(b[4:]), uint32(len(b)-8); got != want {
				t.Errorf("RIFF size = %d, want %d", got, want)
			}
			if got, want := binary.LittleEndian.Uint32(b[40:]), uint32(len(tc.data)); got != want {
				t.Errorf("data size = %d, want %d", got, want)
			}
			a, err := ParseWAV(b)
			if err != nil {
				t.Fatalf("ParseWAV(EncodeWAV()) error %v", err)
			}
			if a.Format != tc.f || !bytes.Equal(a.Data, tc.data) {
				t.Errorf("ParseWAV(EncodeWAV()) = %v % x, want %v % x", a.Format, a.Data, tc.f, tc.data)
			}
		})
	}
}

func TestEncodeWAVErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		data []byte
		want string
	}{
		{"no channels", Format{22050, 0, 16}, nil, "0 channels"},
		{"rate too high", Format{MaxSampleRate + 1, 1, 16}, nil, "sample rate 384001"},
		{"bits", Format{22050, 1, 20}, nil, "20 bits"},
		{"partial frame", Format{22050, 2, 16}, []byte{1, 2}, "2 data bytes are not whole 4-byte frames"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeWAV(tc.f, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EncodeWAV(%v, %d bytes) error %v, want one containing %q", tc.f, len(tc.data), err, tc.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		f      Format
		str    string
		frame  int
		frames int // in 60 ms
		dur    time.Duration
	}{
		{mono16, "22050 Hz mono 16-bit", 2, 1323, 100 * time.Millisecond},
		{Format{44100, 2, 16}, "44100 Hz stereo 16-bit", 4, 2646, 50 * time.Millisecond},
		{Format{8000, 6, 24}, "8000 Hz 6 channels 24-bit", 18, 480, 275625 * time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.str, func(t *testing.T) {
			if got := tc.f.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			if got := tc.f.FrameSize(); got != tc.frame {
				t.Errorf("FrameSize() = %d, want %d", got, tc.frame)
			}
			if got := tc.f.Frames(60 * time.Millisecond); got != tc.frames {
				t.Errorf("Frames(60ms) = %d, want %d", got, tc.frames)
			}
			if got := tc.f.Duration(2205); got != tc.dur {
				t.Errorf("Duration(2205) = %v, want %v", got, tc.dur)
			}
		})
	}
}
