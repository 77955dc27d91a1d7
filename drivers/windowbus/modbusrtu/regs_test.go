package modbusrtu

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
)

func TestIdentityRoundTrip(t *testing.T) {
	id := windowbus.Identity{Vendor: 0x1234, Model: 1, Firmware: 0x0102, Kind: windowbus.KindWindow, MapVersion: 1, FIFOSize: 16, TextCap: 64, Boot: 0x2A5C}
	got, err := DecodeIdentity(EncodeIdentity(id))
	if err != nil || got != id {
		t.Errorf("DecodeIdentity(EncodeIdentity(%+v)) = %+v, %v", id, got, err)
	}
	if _, err := DecodeIdentity([]uint16{1, 2, 3}); err == nil {
		t.Error("DecodeIdentity(3 registers) = nil error, want one")
	}
	if _, err := DecodeIdentity([]uint16{0, 0, 0, 1, 1, 16, 300, 1}); err == nil {
		t.Error("DecodeIdentity(text capacity 300) = nil error, want one")
	}
}

func TestKeysRoundTrip(t *testing.T) {
	ks := windowbus.KeyState{Pending: 2, Restarted: true, Synced: true, Acked: 0xFFFF, Boot: 7, Entries: []windowbus.Entry{
		{Key: windowbus.KeyCall, Seq: 1, Age: 5 * time.Millisecond},
		{Key: windowbus.KeyRate5, Arg: 3, Seq: 2, Age: 90 * time.Second},
	}}
	regs := EncodeKeys(ks)
	if len(regs) != KeyBlockRegs || regs[0] != 0x8002 {
		t.Fatalf("EncodeKeys: %d registers, status %#04x; want %d, 0x8002", len(regs), regs[0], KeyBlockRegs)
	}
	got, err := DecodeKeys(regs[:KeyHeaderRegs+2*EntryRegs])
	if err != nil {
		t.Fatal(err)
	}
	want := ks
	want.Entries[1].Age = 65535 * time.Millisecond // saturated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeKeys = %+v, want %+v", got, want)
	}
	count, err := DecodeKeys(regs[:1])
	if err != nil || count.Pending != 2 || !count.Restarted || count.Synced {
		t.Errorf("DecodeKeys(status only) = %+v, %v; want 2 pending, restarted, not synced", count, err)
	}
}

func TestDecodeKeysRefuses(t *testing.T) {
	tests := []struct {
		name string
		regs []uint16
	}{
		{"empty", nil},
		{"reserved bits", []uint16{0x0100}},
		{"sequence 0", []uint16{1, 0, 7, 1, 0, 0, 0}},
		{"sequence not after acked", []uint16{1, 5, 7, 1, 0, 5, 0}},
		{"out of order", []uint16{2, 0, 7, 1, 0, 2, 0, 1, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ks, err := DecodeKeys(tt.regs); err == nil {
				t.Errorf("DecodeKeys(%v) = %+v, want an error", tt.regs, ks)
			}
		})
	}
}

func TestTextPacking(t *testing.T) {
	tests := []struct {
		name string
		text []byte
		regs []uint16
	}{
		{"empty", nil, []uint16{0}},
		{"odd", []byte("OK!"), []uint16{3, 0x4F4B, 0x2100}},
		{"GB18030", []byte{0xC7, 0xEB}, []uint16{2, 0xC7EB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PackText(tt.text); !reflect.DeepEqual(got, tt.regs) {
				t.Errorf("PackText(% X) = %#04x, want %#04x", tt.text, got, tt.regs)
			}
			back, err := UnpackText(tt.regs)
			if err != nil || !bytes.Equal(back, tt.text) {
				t.Errorf("UnpackText(%#04x) = % X, %v; want % X", tt.regs, back, err, tt.text)
			}
		})
	}
	if _, err := UnpackText([]uint16{5, 0}); err == nil {
		t.Error("UnpackText(length 5 in 1 register) = nil error, want one")
	}
}

func TestCountersAndBeep(t *testing.T) {
	c := windowbus.Counters{FramesOK: 8000, ChecksumErrors: 2, BadFrames: 1, Uptime: 86400 * time.Second, Flags: 4}
	got, err := DecodeCounters(EncodeCounters(c))
	if err != nil || got != c {
		t.Errorf("DecodeCounters(EncodeCounters(%+v)) = %+v, %v", c, got, err)
	}
	b := windowbus.Beep{Count: 2, Length: 100 * time.Millisecond}
	if v := BeepReg(b); v != 0x020A || DecodeBeep(v) != b {
		t.Errorf("BeepReg(%+v) = %#04x, want 0x020A", b, v)
	}
}

func TestAgeReg(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want uint16
	}{{-time.Second, 0}, {1500 * time.Microsecond, 1}, {65535 * time.Millisecond, 65535}, {time.Hour, 65535}}
	for _, tt := range tests {
		if got := AgeReg(tt.in); got != tt.want {
			t.Errorf("AgeReg(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
