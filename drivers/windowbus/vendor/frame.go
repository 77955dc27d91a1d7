package vendor

import (
	"errors"
	"fmt"
)

// Frame bytes.
const (
	Preamble byte = 0xFF
	Start    byte = 0x68
	End      byte = 0x16
)

// Commands, master to terminal. Replies set bit 7 (ReplyBit), error
// replies bits 7 and 6 (ErrorBits).
const (
	CmdIdentify  byte = 0x01
	CmdPoll      byte = 0x02
	CmdAck       byte = 0x03
	CmdText      byte = 0x04
	CmdBeep      byte = 0x05
	CmdConfigure byte = 0x06
	CmdCounters  byte = 0x07

	ReplyBit  byte = 0x80
	ErrorBits byte = 0xC0
)

// Error codes in an error reply.
const (
	ErrCodeCommand byte = 0x01 // unknown command
	ErrCodeLength  byte = 0x02 // data length wrong for the command
	ErrCodeValue   byte = 0x03 // value out of range
)

// MaxData is the most data bytes a frame carries (L is one byte and
// counts ADDR and CMD too).
const MaxData = 253

// Overhead is the frame size without data: FF 68 L L 68 ADDR CMD SUM 16.
const Overhead = 9

// Decoding errors. ErrIncomplete means more bytes are needed.
var (
	ErrIncomplete = errors.New("vendor: incomplete frame")
	ErrSum        = errors.New("vendor: bad checksum")
	ErrFrame      = errors.New("vendor: malformed frame")
)

// Frame is one frame on the wire.
type Frame struct {
	Addr byte
	Cmd  byte
	Data []byte
}

// Encode returns the frame's bytes, preamble included.
func (f Frame) Encode() ([]byte, error) {
	if len(f.Data) > MaxData {
		return nil, fmt.Errorf("%w: %d data bytes, limit %d", ErrFrame, len(f.Data), MaxData)
	}
	l := byte(2 + len(f.Data))
	b := make([]byte, 0, Overhead+len(f.Data))
	b = append(b, Preamble, Start, l, l, Start, f.Addr, f.Cmd)
	b = append(b, f.Data...)
	return append(b, Sum(b[5:]), End), nil
}

// Sum returns the low byte of the arithmetic sum of b.
func Sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// Decode finds the first frame in b. It returns the frame and the number
// of bytes consumed, garbage before the frame included. On ErrIncomplete,
// n bytes of garbage may be dropped and the rest kept for more input; on
// ErrSum, n covers the whole bad frame; on ErrFrame, n skips a false start.
func Decode(b []byte) (Frame, int, error) {
	for i := 0; i < len(b); i++ {
		if b[i] != Start {
			continue
		}
		if len(b) < i+4 {
			return Frame{}, i, ErrIncomplete
		}
		l := int(b[i+1])
		if b[i+2] != b[i+1] || b[i+3] != Start || l < 2 {
			continue // not a header: a data byte that happens to be 0x68
		}
		total := i + 4 + l + 2
		if len(b) < total {
			return Frame{}, i, ErrIncomplete
		}
		body := b[i+4 : i+4+l]
		if b[total-1] != End {
			return Frame{}, i + 1, fmt.Errorf("%w: end byte %#02x", ErrFrame, b[total-1])
		}
		if Sum(body) != b[total-2] {
			return Frame{}, total, fmt.Errorf("%w: sum %#02x, frame says %#02x", ErrSum, Sum(body), b[total-2])
		}
		f := Frame{Addr: body[0], Cmd: body[1], Data: append([]byte(nil), body[2:]...)}
		return f, total, nil
	}
	return Frame{}, len(b), ErrIncomplete
}
