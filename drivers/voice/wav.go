package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Format is the sample format of integer PCM audio.
type Format struct {
	SampleRate    int // frames per second
	Channels      int // interleaved channels per frame
	BitsPerSample int // 8 (unsigned), 16, 24 or 32 (signed, little endian)
}

// Limits accepted by ParseWAV and EncodeWAV.
const (
	MaxChannels   = 8
	MaxSampleRate = 384000
)

// FrameSize returns the bytes of one frame (one sample of every channel).
func (f Format) FrameSize() int { return f.Channels * f.BitsPerSample / 8 }

// Duration returns how long n frames play.
func (f Format) Duration(frames int) time.Duration {
	if f.SampleRate <= 0 {
		return 0
	}
	return time.Duration(int64(frames) * int64(time.Second) / int64(f.SampleRate))
}

// Frames returns the number of whole frames that last d, rounded to the
// nearest frame.
func (f Format) Frames(d time.Duration) int {
	return int((int64(d)*int64(f.SampleRate) + int64(time.Second)/2) / int64(time.Second))
}

// String describes f as "22050 Hz mono 16-bit".
func (f Format) String() string {
	ch := fmt.Sprintf("%d channels", f.Channels)
	switch f.Channels {
	case 1:
		ch = "mono"
	case 2:
		ch = "stereo"
	}
	return fmt.Sprintf("%d Hz %s %d-bit", f.SampleRate, ch, f.BitsPerSample)
}

// Validate reports whether f is a format this package reads and writes.
func (f Format) Validate() error {
	switch {
	case f.Channels < 1 || f.Channels > MaxChannels:
		return fmt.Errorf("voice: wav: %d channels, want 1 to %d", f.Channels, MaxChannels)
	case f.SampleRate < 1 || f.SampleRate > MaxSampleRate:
		return fmt.Errorf("voice: wav: sample rate %d Hz, want 1 to %d", f.SampleRate, MaxSampleRate)
	case f.BitsPerSample != 8 && f.BitsPerSample != 16 && f.BitsPerSample != 24 && f.BitsPerSample != 32:
		return fmt.Errorf("voice: wav: %d bits per sample, want 8, 16, 24 or 32", f.BitsPerSample)
	}
	return nil
}

// Audio is integer PCM audio: whole frames of interleaved samples.
type Audio struct {
	Format Format
	Data   []byte // len(Data) is a multiple of Format.FrameSize()
}

// Frames returns the number of frames in a.
func (a *Audio) Frames() int {
	if fs := a.Format.FrameSize(); fs > 0 {
		return len(a.Data) / fs
	}
	return 0
}

// Duration returns how long a plays.
func (a *Audio) Duration() time.Duration { return a.Format.Duration(a.Frames()) }

// WAV encodes a as a canonical RIFF/WAVE file.
func (a *Audio) WAV() ([]byte, error) { return EncodeWAV(a.Format, a.Data) }

const (
	wavHeaderLen     = 44
	formatPCM        = 0x0001
	formatExtensible = 0xFFFE
)

// pcmSubFormat is KSDATAFORMAT_SUBTYPE_PCM after its first two bytes (the
// format tag, 0x0001).
var pcmSubFormat = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// EncodeWAV returns a canonical WAV file holding data: a 44-byte header with
// a 16-byte PCM "fmt " chunk, then the "data" chunk, padded to an even length
// as RIFF requires. The RIFF and data sizes are exact.
func EncodeWAV(f Format, data []byte) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if len(data)%f.FrameSize() != 0 {
		return nil, fmt.Errorf("voice: wav: %d data bytes are not whole %d-byte frames", len(data), f.FrameSize())
	}
	b, err := appendHeader(make([]byte, 0, wavHeaderLen+len(data)+1), f, len(data))
	if err != nil {
		return nil, err
	}
	return finishWAV(append(b, data...)), nil
}

// appendHeader appends the 44-byte canonical header for n data bytes in
// format f (already validated) to b.
func appendHeader(b []byte, f Format, n int) ([]byte, error) {
	if int64(n)+int64(n&1)+wavHeaderLen-8 > 0xFFFFFFFF {
		return nil, fmt.Errorf("voice: wav: %d data bytes do not fit a RIFF file", n)
	}
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(wavHeaderLen-8+n+n&1))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, formatPCM)
	b = le.AppendUint16(b, uint16(f.Channels))
	b = le.AppendUint32(b, uint32(f.SampleRate))
	b = le.AppendUint32(b, uint32(f.SampleRate*f.FrameSize()))
	b = le.AppendUint16(b, uint16(f.FrameSize()))
	b = le.AppendUint16(b, uint16(f.BitsPerSample))
	b = append(b, "data"...)
	return le.AppendUint32(b, uint32(n)), nil
}

// finishWAV adds the pad byte RIFF requires after an odd-sized data chunk
// to a file made by appendHeader and the data.
func finishWAV(b []byte) []byte {
	if (len(b)-wavHeaderLen)&1 == 1 {
		b = append(b, 0)
	}
	return b
}

// ErrNotWAV is returned by ParseWAV for input that is not a RIFF/WAVE file
// at all, as opposed to a WAV file that is damaged or in a format this
// package does not handle.
var ErrNotWAV = errors.New("voice: not a RIFF/WAVE file")

// ParseWAV decodes a RIFF/WAVE file of integer PCM: format tag 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format. Chunks other than "fmt "
// and "data" (LIST, fact, cue …) are skipped. The returned Data aliases b.
//
// It rejects, with an error saying why: another container (RIFX, RF64),
// compressed or float samples, a "data" chunk before "fmt ", duplicate
// chunks, a partial frame, and any size field larger than the bytes present
// — which is what a header written to a pipe looks like (placeholder sizes),
// so such a file must be rewritten, not guessed at. Bytes after the end the
// RIFF size gives are ignored.
func ParseWAV(b []byte) (*Audio, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a RIFF header", ErrNotWAV, len(b))
	}
	switch string(b[0:4]) {
	case "RIFF":
	case "RIFX", "RF64", "BW64":
		return nil, fmt.Errorf("voice: wav: %q container not supported, want little-endian RIFF", b[0:4])
	default:
		return nil, fmt.Errorf("%w: starts with %q, want \"RIFF\"", ErrNotWAV, b[0:4])
	}
	if string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: RIFF form %q, want \"WAVE\"", ErrNotWAV, b[8:12])
	}
	riffSize := int64(binary.LittleEndian.Uint32(b[4:]))
	if riffSize < 4 {
		return nil, fmt.Errorf("voice: wav: RIFF size %d, too small for the WAVE form", riffSize)
	}
	if riffSize > int64(len(b))-8 {
		return nil, fmt.Errorf("voice: wav: RIFF size %d but only %d bytes follow (truncated file or a streamed header with placeholder sizes)", riffSize, len(b)-8)
	}
	body := b[12 : 8+riffSize]

	var (
		f       Format
		haveFmt bool
		data    []byte
		hasData bool
	)
	for off := 0; off < len(body); {
		if len(body)-off < 8 {
			return nil, fmt.Errorf("voice: wav: %d stray bytes at offset %d, too short for a chunk header", len(body)-off, 12+off)
		}
		id := string(body[off : off+4])
		size := int64(binary.LittleEndian.Uint32(body[off+4:]))
		start := off + 8
		if size > int64(len(body)-start) {
			return nil, fmt.Errorf("voice: wav: chunk %q at offset %d has size %d but only %d bytes follow", id, 12+off, size, len(body)-start)
		}
		chunk := body[start : start+int(size)]
		switch id {
		case "fmt ":
			if haveFmt {
				return nil, errors.New("voice: wav: two \"fmt \" chunks")
			}
			var err error
			if f, err = parseFmt(chunk); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("voice: wav: \"data\" chunk before the \"fmt \" chunk")
			}
			if hasData {
				return nil, errors.New("voice: wav: two \"data\" chunks")
			}
			if len(chunk)%f.FrameSize() != 0 {
				return nil, fmt.Errorf("voice: wav: %d data bytes are not whole %d-byte frames", len(chunk), f.FrameSize())
			}
			data, hasData = chunk, true
		}
		// Chunks are padded to even length; a missing final pad byte is
		// common and harmless.
		off = start + int(size) + int(size&1)
	}
	if !haveFmt {
		return nil, errors.New("voice: wav: no \"fmt \" chunk")
	}
	if !hasData {
		return nil, errors.New("voice: wav: no \"data\" chunk")
	}
	return &Audio{Format: f, Data: data}, nil
}

// parseFmt decodes a "fmt " chunk and checks its redundant fields.
func parseFmt(c []byte) (Format, error) {
	if len(c) < 16 {
		return Format{}, fmt.Errorf("voice: wav: \"fmt \" chunk of %d bytes, want at least 16", len(c))
	}
	tag := binary.LittleEndian.Uint16(c[0:])
	f := Format{
		Channels:      int(binary.LittleEndian.Uint16(c[2:])),
		SampleRate:    int(binary.LittleEndian.Uint32(c[4:])),
		BitsPerSample: int(binary.LittleEndian.Uint16(c[14:])),
	}
	byteRate := int64(binary.LittleEndian.Uint32(c[8:]))
	blockAlign := int(binary.LittleEndian.Uint16(c[12:]))
	switch tag {
	case formatPCM:
	case formatExtensible:
		if len(c) < 40 {
			return Format{}, fmt.Errorf("voice: wav: extensible \"fmt \" chunk of %d bytes, want 40", len(c))
		}
		if binary.LittleEndian.Uint16(c[24:]) != formatPCM || string(c[26:40]) != string(pcmSubFormat) {
			return Format{}, fmt.Errorf("voice: wav: extensible sub-format % x is not integer PCM", c[24:40])
		}
		if valid := int(binary.LittleEndian.Uint16(c[18:])); valid > f.BitsPerSample {
			return Format{}, fmt.Errorf("voice: wav: %d valid bits in a %d-bit container", valid, f.BitsPerSample)
		}
	default:
		return Format{}, fmt.Errorf("voice: wav: format tag %#04x not supported, want integer PCM (1)", tag)
	}
	if err := f.Validate(); err != nil {
		return Format{}, err
	}
	if blockAlign != f.FrameSize() {
		return Format{}, fmt.Errorf("voice: wav: block align %d, want %d for %s", blockAlign, f.FrameSize(), f)
	}
	if byteRate != int64(f.SampleRate)*int64(f.FrameSize()) {
		return Format{}, fmt.Errorf("voice: wav: byte rate %d, want %d for %s", byteRate, f.SampleRate*f.FrameSize(), f)
	}
	return f, nil
}
