package idcard

import (
	"bytes"
	"errors"
	"fmt"
)

// Preamble opens every frame in both directions.
var Preamble = [5]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

// HeaderLen is the preamble plus the two length bytes: a reader reads this
// much, then LEN more.
const HeaderLen = 7

// maxPayload is the largest payload LEN can describe (LEN counts CHK too).
const maxPayload = 0xFFFF - 1

// Command is a request's CMD byte (high) and PARA byte (low).
type Command uint16

// The commands of the SAM protocol (docs/idcard.md).
const (
	CmdSAMReset       Command = 0x10FF // reset the SAM
	CmdSAMStatus      Command = 0x11FF // SAM status (self-test)
	CmdSAMID          Command = 0x12FF // read the SAM's 16-byte identity
	CmdFindCard       Command = 0x2001 // is a card in the field?
	CmdSelectCard     Command = 0x2002 // select it; returns its 8-byte serial
	CmdReadText       Command = 0x3001 // read text and photo
	CmdReadTextFinger Command = 0x3010 // read text, photo and fingerprint
	CmdReadAddress    Command = 0x3003 // read the appended address
	CmdSetMaxRF       Command = 0x61FF // set the RF frame size; one data byte
)

var commandText = map[Command]string{
	CmdSAMReset:       "SAM reset",
	CmdSAMStatus:      "SAM status",
	CmdSAMID:          "read SAM ID",
	CmdFindCard:       "find card",
	CmdSelectCard:     "select card",
	CmdReadText:       "read text+photo",
	CmdReadTextFinger: "read text+photo+fingerprint",
	CmdReadAddress:    "read appended address",
	CmdSetMaxRF:       "set max RF frame",
}

// Cmd returns the CMD byte.
func (c Command) Cmd() byte { return byte(c >> 8) }

// Para returns the PARA byte.
func (c Command) Para() byte { return byte(c) }

// String names the command, or gives its bytes when it is not a known one.
func (c Command) String() string {
	if t, ok := commandText[c]; ok {
		return t
	}
	return fmt.Sprintf("command %02X %02X", c.Cmd(), c.Para())
}

// Frame errors. They are wrapped with details; branch with errors.Is.
var (
	ErrShortFrame = errors.New("idcard: short frame")
	ErrFrame      = errors.New("idcard: malformed frame")
	ErrChecksum   = errors.New("idcard: bad checksum")
	ErrTooLong    = errors.New("idcard: payload too long")
)

// checksum is the XOR of b.
func checksum(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// Encode frames payload: preamble, LEN, payload, CHK. The payload is CMD
// PARA DATA for a request and SW1 SW2 SW3 DATA for a response.
func Encode(payload []byte) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLong, len(payload))
	}
	n := len(payload) + 1
	out := make([]byte, 0, HeaderLen+n)
	out = append(out, Preamble[:]...)
	out = append(out, byte(n>>8), byte(n))
	out = append(out, payload...)
	return append(out, checksum(out[len(Preamble):])), nil
}

// EncodeRequest frames a command and its data.
func EncodeRequest(c Command, data []byte) ([]byte, error) {
	return Encode(append([]byte{c.Cmd(), c.Para()}, data...))
}

// EncodeResponse frames a response with SW1 SW2 = 00 00, status s and data.
func EncodeResponse(s Status, data []byte) ([]byte, error) {
	return Encode(append([]byte{0, 0, byte(s)}, data...))
}

// DecodeFrame checks one whole frame (preamble, LEN, CHK) and returns its
// payload, which aliases b. b must hold exactly the frame.
func DecodeFrame(b []byte) ([]byte, error) {
	if len(b) < HeaderLen+1 {
		return nil, fmt.Errorf("%w: %d bytes", ErrShortFrame, len(b))
	}
	if !bytes.Equal(b[:len(Preamble)], Preamble[:]) {
		return nil, fmt.Errorf("%w: preamble % X", ErrFrame, b[:len(Preamble)])
	}
	n := int(b[5])<<8 | int(b[6])
	if n == 0 {
		return nil, fmt.Errorf("%w: LEN 0", ErrFrame)
	}
	switch {
	case len(b) < HeaderLen+n:
		return nil, fmt.Errorf("%w: %d of %d bytes", ErrShortFrame, len(b), HeaderLen+n)
	case len(b) > HeaderLen+n:
		return nil, fmt.Errorf("%w: %d bytes after a %d-byte frame", ErrFrame, len(b)-HeaderLen-n, HeaderLen+n)
	}
	if x := checksum(b[len(Preamble):]); x != 0 {
		return nil, fmt.Errorf("%w: CHK %02X, want %02X", ErrChecksum, b[len(b)-1], b[len(b)-1]^x)
	}
	return b[HeaderLen : len(b)-1], nil
}

// Request is a decoded request frame.
type Request struct {
	Cmd  Command
	Data []byte
}

// DecodeRequest decodes a request frame (what a reader receives).
func DecodeRequest(b []byte) (Request, error) {
	p, err := DecodeFrame(b)
	if err != nil {
		return Request{}, err
	}
	if len(p) < 2 {
		return Request{}, fmt.Errorf("%w: request payload of %d bytes", ErrShortFrame, len(p))
	}
	return Request{Cmd: Command(p[0])<<8 | Command(p[1]), Data: p[2:]}, nil
}

// Response is a decoded response frame.
type Response struct {
	SW1, SW2 byte
	Status   Status // SW3
	Data     []byte
}

// DecodeResponse decodes a response frame.
func DecodeResponse(b []byte) (Response, error) {
	p, err := DecodeFrame(b)
	if err != nil {
		return Response{}, err
	}
	if len(p) < 3 {
		return Response{}, fmt.Errorf("%w: response payload of %d bytes", ErrShortFrame, len(p))
	}
	return Response{SW1: p[0], SW2: p[1], Status: Status(p[2]), Data: p[3:]}, nil
}

// SplitRead splits the data of a successful read-text reply into the text
// block and the photo, taking both lengths (big-endian) from the data.
func SplitRead(data []byte) (text, photo []byte, err error) {
	if len(data) < 4 {
		return nil, nil, fmt.Errorf("%w: read data of %d bytes", ErrShortFrame, len(data))
	}
	tl := int(data[0])<<8 | int(data[1])
	pl := int(data[2])<<8 | int(data[3])
	if len(data) != 4+tl+pl {
		return nil, nil, fmt.Errorf("%w: read data of %d bytes, lengths say 4+%d+%d", ErrFrame, len(data), tl, pl)
	}
	return data[4 : 4+tl], data[4+tl:], nil
}

// JoinRead is the inverse of SplitRead: the data of a read-text reply.
func JoinRead(text, photo []byte) ([]byte, error) {
	if len(text) > 0xFFFF || len(photo) > 0xFFFF {
		return nil, fmt.Errorf("%w: text %d, photo %d bytes", ErrTooLong, len(text), len(photo))
	}
	out := make([]byte, 0, 4+len(text)+len(photo))
	out = append(out, byte(len(text)>>8), byte(len(text)), byte(len(photo)>>8), byte(len(photo)))
	out = append(out, text...)
	return append(out, photo...), nil
}
