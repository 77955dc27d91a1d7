package vendor

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
		want string
	}{
		{"identify", Frame{Addr: 5, Cmd: CmdIdentify}, "FF 68 02 02 68 05 01 06 16"},
		{"ack", Frame{Addr: 5, Cmd: CmdAck, Data: []byte{0x00, 0x11}}, "FF 68 04 04 68 05 03 00 11 19 16"},
		{"error reply", Frame{Addr: 5, Cmd: CmdAck | ErrorBits, Data: []byte{ErrCodeValue}}, "FF 68 03 03 68 05 C3 03 CB 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("Encode(%+v) = % X, want % X", tt.f, got, want)
			}
			back, n, err := Decode(got)
			if err != nil || n != len(got) || back.Addr != tt.f.Addr || back.Cmd != tt.f.Cmd || !bytes.Equal(back.Data, tt.f.Data) {
				t.Errorf("Decode(% X) = %+v, %d, %v; want %+v", got, back, n, err, tt.f)
			}
		})
	}
	if b, err := (Frame{Addr: 1, Cmd: CmdText, Data: make([]byte, MaxData+1)}).Encode(); err == nil {
		t.Errorf("Encode(254 data bytes) = % X, want an error", b)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  error
		wantN int
		addr  byte
	}{
		{"no preamble", "68 02 02 68 05 01 06 16", nil, 8, 5},
		{"garbage before", "00 13 FF FF 68 02 02 68 05 01 06 16", nil, 12, 5},
		{"false start in garbage", "68 30 68 02 02 68 05 01 06 16", nil, 10, 5},
		{"empty", "", ErrIncomplete, 0, 0},
		{"only garbage", "01 02 03", ErrIncomplete, 3, 0},
		{"header only", "FF 68 02 02", ErrIncomplete, 1, 0},
		{"short body", "FF 68 04 04 68 05 03 00", ErrIncomplete, 1, 0},
		{"bad sum", "FF 68 02 02 68 05 01 07 16", ErrSum, 9, 0},
		{"bad end byte", "FF 68 02 02 68 05 01 06 17", ErrFrame, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			f, n, err := Decode(in)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || n != tt.wantN || (err == nil && f.Addr != tt.addr) {
				t.Errorf("Decode(% X) = %+v, n %d, %v; want n %d, %v", in, f, n, err, tt.wantN, tt.want)
			}
		})
	}
}

func TestPayloads(t *testing.T) {
	id := windowbus.Identity{Vendor: 0x1234, Model: 1, Firmware: 0x0102, Kind: windowbus.KindWindow, MapVersion: 1, FIFOSize: 16, TextCap: 64, Boot: 0x2A5C}
	if got, err := DecodeIdentity(EncodeIdentity(id)); err != nil || got != id {
		t.Errorf("identity round trip = %+v, %v", got, err)
	}
	ks := windowbus.KeyState{Pending: 2, Restarted: true, Synced: true, Acked: 9, Boot: 3, Entries: []windowbus.Entry{
		{Key: windowbus.KeyCall, Seq: 10, Age: time.Second}, {Key: windowbus.KeyRate2, Arg: 4, Seq: 11}}}
	if got, err := DecodeKeys(EncodeKeys(ks)); err != nil || !reflect.DeepEqual(got, ks) {
		t.Errorf("keys round trip = %+v, %v; want %+v", got, err, ks)
	}
	if got, err := DecodeKeys([]byte{KeyRestarted}); err != nil || !got.Restarted || got.Pending != 0 {
		t.Errorf("DecodeKeys(restarted, empty) = %+v, %v", got, err)
	}
	c := windowbus.Counters{FramesOK: 1, ChecksumErrors: 2, BadFrames: 3, Overflows: 4, Uptime: time.Hour, Flags: 5}
	if got, err := DecodeCounters(EncodeCounters(c)); err != nil || got != c {
		t.Errorf("counters round trip = %+v, %v", got, err)
	}
	s := windowbus.Settings{Mode: windowbus.ModeClosed, Brightness: 30, Blink: 500 * time.Millisecond}
	if got, err := DecodeSettings(EncodeSettings(s)); err != nil || got != s {
		t.Errorf("settings round trip = %+v, %v", got, err)
	}
	b := windowbus.Beep{Count: 3, Length: 250 * time.Millisecond}
	if got, err := DecodeBeep(EncodeBeep(b)); err != nil || got != b {
		t.Errorf("beep round trip = %+v, %v", got, err)
	}
}

func TestDecodeKeysRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"empty FIFO with data", []byte{0, 1}},
		{"short header", []byte{1, 0, 0}},
		{"partial entry", []byte{1, 0, 0, 0, 1, 1, 0}},
		{"more entries than count", append([]byte{1, 0, 0, 0, 1}, make([]byte, 14)...)},
		{"sequence not after acked", []byte{1, 0, 5, 0, 1, 1, 0, 0, 0, 5, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ks, err := DecodeKeys(tt.in); err == nil {
				t.Errorf("DecodeKeys(% X) = %+v, want an error", tt.in, ks)
			}
		})
	}
}
