package modbusrtu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC16(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint16
	}{
		{"check value", []byte("123456789"), 0x4B37},
		{"empty", nil, 0xFFFF},
		// FC03 read of 2 registers from 1 at unit 1, as a Modbus client
		// puts it on the wire: 01 03 00 01 00 02 95 CB.
		{"toolbox frame", []byte{0x01, 0x03, 0x00, 0x01, 0x00, 0x02}, 0xCB95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CRC16(tt.in); got != tt.want {
				t.Errorf("CRC16(% X) = %#04x, want %#04x", tt.in, got, tt.want)
			}
		})
	}
	if !CheckCRC(unhex(t, "01 03 00 01 00 02 95 CB")) {
		t.Error("CheckCRC(01 03 00 01 00 02 95 CB) = false, want true")
	}
}

func TestRequestEncode(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"FC03", Request{Unit: 1, Func: FuncReadHolding, Addr: 1, Count: 2}, "01 03 00 01 00 02 95 CB"},
		{"FC04 identity", Request{Unit: 5, Func: FuncReadInput, Addr: RegVendor, Count: IdentityRegs}, "05 04 00 00 00 08 F0 48"},
		{"FC06 ack", Request{Unit: 5, Func: FuncWriteSingle, Addr: HoldAck, Values: []uint16{0x11}}, "05 06 01 00 00 11 49 BE"},
		{"FC16 settings", Request{Unit: 5, Func: FuncWriteMultiple, Addr: HoldMode, Values: []uint16{1, 80, 0}}, "05 10 01 01 00 03 06 00 01 00 50 00 00 80 EC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("Encode(%+v) = % X, want % X", tt.req, got, want)
			}
			back, n, err := DecodeRequest(got)
			if err != nil || n != len(got) || !reflect.DeepEqual(back, normalise(tt.req)) {
				t.Errorf("DecodeRequest(% X) = %+v, %d, %v; want %+v", got, back, n, err, tt.req)
			}
		})
	}
}

// normalise fills the fields DecodeRequest derives.
func normalise(r Request) Request {
	switch r.Func {
	case FuncWriteSingle:
		r.Count = 1
	case FuncWriteMultiple:
		r.Count = uint16(len(r.Values))
	}
	return r
}

func TestRequestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		req  Request
	}{
		{"read 0", Request{Unit: 1, Func: FuncReadInput, Count: 0}},
		{"read 126", Request{Unit: 1, Func: FuncReadInput, Count: 126}},
		{"FC06 two values", Request{Unit: 1, Func: FuncWriteSingle, Values: []uint16{1, 2}}},
		{"FC16 none", Request{Unit: 1, Func: FuncWriteMultiple}},
		{"FC16 124", Request{Unit: 1, Func: FuncWriteMultiple, Values: make([]uint16, 124)}},
		{"FC05", Request{Unit: 1, Func: 0x05}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := tt.req.Encode(); err == nil {
				t.Errorf("Encode(%+v) = % X, want an error", tt.req, b)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  error
		wantN int
	}{
		{"empty", "", ErrIncomplete, 0},
		{"one byte", "05", ErrIncomplete, 0},
		{"short FC04", "05 04 00 00 00", ErrIncomplete, 0},
		{"short FC16 header", "05 10 01 10 00", ErrIncomplete, 0},
		{"bad CRC", "05 04 00 00 00 08 F0 49", ErrCRC, 8},
		{"unsupported function", "05 2B 0E 01 00 00 00", ErrFunction, 0},
		{"FC16 byte count mismatch", crcHex("05 10 01 10 00 02 02 00 01"), ErrFrame, 11},
		{"FC04 of zero registers", crcHex("05 04 00 00 00 00"), ErrFrame, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			_, n, err := DecodeRequest(in)
			if !errors.Is(err, tt.want) || n != tt.wantN {
				t.Errorf("DecodeRequest(% X) = n %d, %v; want n %d, %v", in, n, err, tt.wantN, tt.want)
			}
		})
	}
}

// crcHex appends the CRC to a hex frame body.
func crcHex(s string) string {
	b, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	return hex.EncodeToString(AppendCRC(b))
}

func TestResponseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		want string
	}{
		{"FC04 count", Response{Unit: 5, Func: FuncReadInput, Values: []uint16{0}}, "05 04 02 00 00 48 F0"},
		{"FC06 echo", Response{Unit: 5, Func: FuncWriteSingle, Addr: HoldBeep, Values: []uint16{0x020A}}, "05 06 01 04 02 0A 49 14"},
		{"FC16 echo", Response{Unit: 5, Func: FuncWriteMultiple, Addr: HoldTextLen, Count: 9}, "05 10 01 10 00 09 01 B2"},
		{"exception", Response{Unit: 5, Func: FuncWriteSingle, Exception: ExIllegalValue}, "05 86 03 43 A0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.resp.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("Encode(%+v) = % X, want % X", tt.resp, got, want)
			}
			back, n, err := DecodeResponse(got)
			if err != nil || n != len(got) || !reflect.DeepEqual(back, tt.resp) {
				t.Errorf("DecodeResponse(% X) = %+v, %d, %v; want %+v", got, back, n, err, tt.resp)
			}
		})
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"short", "05 04", ErrIncomplete},
		{"short data", "05 04 04 00 01", ErrIncomplete},
		{"bad CRC", "05 04 02 00 00 48 F1", ErrCRC},
		{"odd byte count", crcHex("05 04 03 00 00 00"), ErrFrame},
		{"exception 0", crcHex("05 84 00"), ErrFrame},
		{"unknown function", "05 2B 00 00", ErrFunction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			if _, _, err := DecodeResponse(in); !errors.Is(err, tt.want) {
				t.Errorf("DecodeResponse(% X) = %v, want %v", in, err, tt.want)
			}
		})
	}
}
