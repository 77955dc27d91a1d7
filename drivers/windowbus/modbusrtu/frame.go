package modbusrtu

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Function codes used on the window bus.
const (
	FuncReadHolding   uint8 = 0x03
	FuncReadInput     uint8 = 0x04
	FuncWriteSingle   uint8 = 0x06
	FuncWriteMultiple uint8 = 0x10
)

// Exception codes a terminal answers with.
const (
	ExIllegalFunction uint8 = 0x01
	ExIllegalAddress  uint8 = 0x02
	ExIllegalValue    uint8 = 0x03
	ExDeviceFailure   uint8 = 0x04
)

// Frame limits from the Modbus application protocol.
const (
	MaxRead  = 125 // registers per FC03/FC04
	MaxWrite = 123 // registers per FC16
	MaxFrame = 256 // bytes in an RTU frame
)

// Decoding errors. ErrIncomplete means more bytes are needed.
var (
	ErrIncomplete = errors.New("modbusrtu: incomplete frame")
	ErrCRC        = errors.New("modbusrtu: bad CRC")
	ErrFrame      = errors.New("modbusrtu: malformed frame")
	// ErrFunction is a frame whose function code this package cannot
	// size; it also matches ErrFrame.
	ErrFunction = fmt.Errorf("%w: unsupported function", ErrFrame)
)

// Request is a master's request.
type Request struct {
	Unit   uint8
	Func   uint8
	Addr   uint16   // first register
	Count  uint16   // registers read (FC03/04) or written (FC16); 1 for FC06
	Values []uint16 // FC06: the value; FC16: Count values
}

// Encode returns the RTU frame of r, CRC included.
func (r Request) Encode() ([]byte, error) {
	b := []byte{r.Unit, r.Func, byte(r.Addr >> 8), byte(r.Addr)}
	switch r.Func {
	case FuncReadHolding, FuncReadInput:
		if r.Count < 1 || r.Count > MaxRead {
			return nil, fmt.Errorf("%w: read of %d registers", ErrFrame, r.Count)
		}
		b = binary.BigEndian.AppendUint16(b, r.Count)
	case FuncWriteSingle:
		if len(r.Values) != 1 {
			return nil, fmt.Errorf("%w: FC06 with %d values", ErrFrame, len(r.Values))
		}
		b = binary.BigEndian.AppendUint16(b, r.Values[0])
	case FuncWriteMultiple:
		n := len(r.Values)
		if n < 1 || n > MaxWrite {
			return nil, fmt.Errorf("%w: write of %d registers", ErrFrame, n)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		b = append(b, byte(2*n))
		for _, v := range r.Values {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	default:
		return nil, fmt.Errorf("%w %#02x", ErrFunction, r.Func)
	}
	return AppendCRC(b), nil
}

// RequestLen returns the length of the request frame that starts b, from
// its header; ErrIncomplete when b is too short to tell.
func RequestLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, ErrIncomplete
	}
	switch b[1] {
	case FuncReadHolding, FuncReadInput, FuncWriteSingle:
		return 8, nil
	case FuncWriteMultiple:
		if len(b) < 7 {
			return 0, ErrIncomplete
		}
		return 9 + int(b[6]), nil
	}
	return 0, fmt.Errorf("%w %#02x", ErrFunction, b[1])
}

// DecodeRequest decodes the request frame at the start of b and returns it
// with its length. On ErrCRC the length is still returned, so a caller can
// skip the frame.
func DecodeRequest(b []byte) (Request, int, error) {
	n, err := RequestLen(b)
	if err != nil {
		return Request{}, 0, err
	}
	if len(b) < n {
		return Request{}, 0, ErrIncomplete
	}
	f := b[:n]
	if !CheckCRC(f) {
		return Request{}, n, ErrCRC
	}
	r := Request{Unit: f[0], Func: f[1], Addr: binary.BigEndian.Uint16(f[2:])}
	switch r.Func {
	case FuncReadHolding, FuncReadInput:
		r.Count = binary.BigEndian.Uint16(f[4:])
		if r.Count < 1 || r.Count > MaxRead {
			return r, n, fmt.Errorf("%w: read of %d registers", ErrFrame, r.Count)
		}
	case FuncWriteSingle:
		r.Count = 1
		r.Values = []uint16{binary.BigEndian.Uint16(f[4:])}
	case FuncWriteMultiple:
		r.Count = binary.BigEndian.Uint16(f[4:])
		bc := int(f[6])
		if r.Count < 1 || r.Count > MaxWrite || bc != 2*int(r.Count) {
			return r, n, fmt.Errorf("%w: FC16 of %d registers with %d bytes", ErrFrame, r.Count, bc)
		}
		r.Values = make([]uint16, r.Count)
		for i := range r.Values {
			r.Values[i] = binary.BigEndian.Uint16(f[7+2*i:])
		}
	}
	return r, n, nil
}

// Response is a device's reply.
type Response struct {
	Unit      uint8
	Func      uint8    // function code, without the exception bit
	Exception uint8    // 0, or the exception code
	Addr      uint16   // FC06 and FC16 echo: first register
	Count     uint16   // FC16 echo: registers written
	Values    []uint16 // FC03/04: registers read; FC06: the value echoed
}

// Encode returns the RTU frame of r, CRC included.
func (r Response) Encode() ([]byte, error) {
	if r.Exception != 0 {
		return AppendCRC([]byte{r.Unit, r.Func | 0x80, r.Exception}), nil
	}
	b := []byte{r.Unit, r.Func}
	switch r.Func {
	case FuncReadHolding, FuncReadInput:
		if len(r.Values) < 1 || len(r.Values) > MaxRead {
			return nil, fmt.Errorf("%w: reply with %d registers", ErrFrame, len(r.Values))
		}
		b = append(b, byte(2*len(r.Values)))
		for _, v := range r.Values {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	case FuncWriteSingle:
		if len(r.Values) != 1 {
			return nil, fmt.Errorf("%w: FC06 echo with %d values", ErrFrame, len(r.Values))
		}
		b = binary.BigEndian.AppendUint16(b, r.Addr)
		b = binary.BigEndian.AppendUint16(b, r.Values[0])
	case FuncWriteMultiple:
		b = binary.BigEndian.AppendUint16(b, r.Addr)
		b = binary.BigEndian.AppendUint16(b, r.Count)
	default:
		return nil, fmt.Errorf("%w %#02x", ErrFunction, r.Func)
	}
	return AppendCRC(b), nil
}

// ResponseLen returns the length of the reply frame that starts b, from its
// header; ErrIncomplete when b is too short to tell.
func ResponseLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, ErrIncomplete
	}
	if b[1]&0x80 != 0 {
		return 5, nil
	}
	switch b[1] {
	case FuncReadHolding, FuncReadInput:
		if len(b) < 3 {
			return 0, ErrIncomplete
		}
		return 5 + int(b[2]), nil
	case FuncWriteSingle, FuncWriteMultiple:
		return 8, nil
	}
	return 0, fmt.Errorf("%w %#02x", ErrFunction, b[1])
}

// DecodeResponse decodes the reply frame at the start of b and returns it
// with its length. On ErrCRC the length is still returned.
func DecodeResponse(b []byte) (Response, int, error) {
	n, err := ResponseLen(b)
	if err != nil {
		return Response{}, 0, err
	}
	if len(b) < n {
		return Response{}, 0, ErrIncomplete
	}
	f := b[:n]
	if !CheckCRC(f) {
		return Response{}, n, ErrCRC
	}
	r := Response{Unit: f[0], Func: f[1] &^ 0x80}
	if f[1]&0x80 != 0 {
		r.Exception = f[2]
		if r.Exception == 0 {
			return r, n, fmt.Errorf("%w: exception code 0", ErrFrame)
		}
		return r, n, nil
	}
	switch r.Func {
	case FuncReadHolding, FuncReadInput:
		bc := int(f[2])
		if bc == 0 || bc%2 != 0 || bc > 2*MaxRead {
			return r, n, fmt.Errorf("%w: byte count %d", ErrFrame, bc)
		}
		r.Values = make([]uint16, bc/2)
		for i := range r.Values {
			r.Values[i] = binary.BigEndian.Uint16(f[3+2*i:])
		}
	case FuncWriteSingle:
		r.Addr = binary.BigEndian.Uint16(f[2:])
		r.Values = []uint16{binary.BigEndian.Uint16(f[4:])}
	case FuncWriteMultiple:
		r.Addr = binary.BigEndian.Uint16(f[2:])
		r.Count = binary.BigEndian.Uint16(f[4:])
	}
	return r, n, nil
}
