package modbusrtu

import (
	"fmt"
	"time"

	"hallgw/drivers/windowbus"
)

// Register map version 1 (docs/window-bus.md). Addresses are protocol
// (0-based) addresses; tools that number from 1 add one.
const (
	MapVersion = 1

	// Input registers (FC04): identity block.
	RegVendor     uint16 = 0x0000
	RegModel      uint16 = 0x0001
	RegFirmware   uint16 = 0x0002
	RegKind       uint16 = 0x0003
	RegMapVersion uint16 = 0x0004
	RegFIFOSize   uint16 = 0x0005
	RegTextCap    uint16 = 0x0006
	RegBoot       uint16 = 0x0007
	IdentityRegs         = 8

	// Input registers: key FIFO block.
	RegKeyCount   uint16 = 0x0010 // presses waiting (bits 0–7), KeyRestarted
	RegKeyAcked   uint16 = 0x0011 // last sequence number acknowledged
	RegKeyBoot    uint16 = 0x0012 // boot number, as RegBoot
	RegKeyEntries uint16 = 0x0013 // entry i at RegKeyEntries + 4i
	EntryRegs            = 4      // key, argument, sequence, age in ms
	WindowEntries        = 8      // entries visible at once
	KeyHeaderRegs        = 3
	// KeyRestarted in RegKeyCount: powered up, display not written since.
	KeyRestarted uint16 = 0x8000
	KeyBlockRegs        = KeyHeaderRegs + EntryRegs*WindowEntries

	// Input registers: health counter block.
	RegFramesOK    uint16 = 0x0040
	RegCRCErrors   uint16 = 0x0041
	RegBadFrames   uint16 = 0x0042
	RegOverflows   uint16 = 0x0043
	RegUptimeHigh  uint16 = 0x0044
	RegUptimeLow   uint16 = 0x0045
	RegFlags       uint16 = 0x0046
	RegReserved    uint16 = 0x0047
	CounterRegs           = 8
	MaxTextRegs           = windowbus.MaxText / 2
	MaxSettingRegs        = 3

	// Holding registers (FC03, FC06, FC16).
	HoldAck        uint16 = 0x0100 // write the last sequence number taken
	HoldMode       uint16 = 0x0101 // windowbus.Mode
	HoldBrightness uint16 = 0x0102 // percent 0–100
	HoldBlink      uint16 = 0x0103 // blink period in ms, 0 steady
	HoldBeep       uint16 = 0x0104 // count<<8 | length in 10 ms; reads 0 when quiet
	HoldTextLen    uint16 = 0x0110 // text length in bytes; writing it shows the text
	HoldText       uint16 = 0x0111 // packed GB18030 bytes, first byte in the high half
)

// EncodeIdentity returns the identity block registers.
func EncodeIdentity(id windowbus.Identity) []uint16 {
	return []uint16{id.Vendor, id.Model, id.Firmware, uint16(id.Kind), id.MapVersion,
		uint16(id.FIFOSize), uint16(id.TextCap), id.Boot}
}

// DecodeIdentity decodes the identity block read from RegVendor.
func DecodeIdentity(r []uint16) (windowbus.Identity, error) {
	if len(r) < IdentityRegs {
		return windowbus.Identity{}, fmt.Errorf("modbusrtu: identity block of %d registers, want %d", len(r), IdentityRegs)
	}
	id := windowbus.Identity{Vendor: r[0], Model: r[1], Firmware: r[2], Kind: windowbus.Kind(r[3]),
		MapVersion: r[4], FIFOSize: int(r[5]), TextCap: int(r[6]), Boot: r[7]}
	if id.TextCap > windowbus.MaxText {
		return id, fmt.Errorf("modbusrtu: identity: text capacity %d over %d", id.TextCap, windowbus.MaxText)
	}
	return id, nil
}

// EncodeKeys returns the key FIFO block (KeyBlockRegs registers from
// RegKeyCount) for ks. Entries beyond WindowEntries are left out; unused
// slots are zero.
func EncodeKeys(ks windowbus.KeyState) []uint16 {
	r := make([]uint16, KeyBlockRegs)
	n := ks.Pending
	if n > 0xFF {
		n = 0xFF
	}
	r[0], r[1], r[2] = uint16(n), ks.Acked, ks.Boot
	if ks.Restarted {
		r[0] |= KeyRestarted
	}
	for i, e := range ks.Entries {
		if i == WindowEntries {
			break
		}
		o := KeyHeaderRegs + EntryRegs*i
		r[o], r[o+1], r[o+2], r[o+3] = uint16(e.Key), e.Arg, e.Seq, AgeReg(e.Age)
	}
	return r
}

// AgeReg turns a press age into the age register: milliseconds, 65535 for
// anything older.
func AgeReg(d time.Duration) uint16 {
	ms := d.Milliseconds()
	switch {
	case ms < 0:
		return 0
	case ms > 0xFFFF:
		return 0xFFFF
	}
	return uint16(ms)
}

// DecodeKeys decodes registers read from RegKeyCount: one register gives
// the count only; KeyHeaderRegs or more give the state and the entries
// present. Entries with sequence number 0 end the list.
func DecodeKeys(r []uint16) (windowbus.KeyState, error) {
	if len(r) == 0 {
		return windowbus.KeyState{}, fmt.Errorf("modbusrtu: empty key block")
	}
	if r[0]&^(KeyRestarted|0xFF) != 0 {
		return windowbus.KeyState{}, fmt.Errorf("modbusrtu: key count register %#04x has reserved bits set", r[0])
	}
	ks := windowbus.KeyState{Pending: int(r[0] & 0xFF), Restarted: r[0]&KeyRestarted != 0}
	if len(r) < KeyHeaderRegs {
		return ks, nil
	}
	ks.Synced, ks.Acked, ks.Boot = true, r[1], r[2]
	n := (len(r) - KeyHeaderRegs) / EntryRegs
	if n > ks.Pending {
		n = ks.Pending
	}
	prev := ks.Acked
	for i := 0; i < n; i++ {
		o := KeyHeaderRegs + EntryRegs*i
		e := windowbus.Entry{Key: windowbus.Key(r[o]), Arg: r[o+1], Seq: r[o+2], Age: time.Duration(r[o+3]) * time.Millisecond}
		if e.Seq == 0 {
			return ks, fmt.Errorf("modbusrtu: key entry %d of %d has sequence number 0", i, ks.Pending)
		}
		if !windowbus.SeqAfter(e.Seq, prev) {
			return ks, fmt.Errorf("modbusrtu: key entry %d: sequence %d does not follow %d", i, e.Seq, prev)
		}
		prev = e.Seq
		ks.Entries = append(ks.Entries, e)
	}
	return ks, nil
}

// EncodeCounters returns the counter block registers.
func EncodeCounters(c windowbus.Counters) []uint16 {
	up := uint32(c.Uptime / time.Second)
	return []uint16{c.FramesOK, c.ChecksumErrors, c.BadFrames, c.Overflows, uint16(up >> 16), uint16(up), c.Flags, 0}
}

// DecodeCounters decodes the counter block read from RegFramesOK.
func DecodeCounters(r []uint16) (windowbus.Counters, error) {
	if len(r) < CounterRegs {
		return windowbus.Counters{}, fmt.Errorf("modbusrtu: counter block of %d registers, want %d", len(r), CounterRegs)
	}
	return windowbus.Counters{FramesOK: r[0], ChecksumErrors: r[1], BadFrames: r[2], Overflows: r[3],
		Uptime: time.Duration(uint32(r[4])<<16|uint32(r[5])) * time.Second, Flags: r[6]}, nil
}

// PackText returns the registers to write from HoldTextLen: the length,
// then the bytes two per register, high byte first, the last low byte 0
// when the length is odd.
func PackText(b []byte) []uint16 {
	r := make([]uint16, 1+(len(b)+1)/2)
	r[0] = uint16(len(b))
	for i, c := range b {
		if i%2 == 0 {
			r[1+i/2] = uint16(c) << 8
		} else {
			r[1+i/2] |= uint16(c)
		}
	}
	return r
}

// UnpackText decodes registers read or written from HoldTextLen.
func UnpackText(r []uint16) ([]byte, error) {
	if len(r) == 0 {
		return nil, fmt.Errorf("modbusrtu: empty text block")
	}
	n := int(r[0])
	if n > 2*(len(r)-1) {
		return nil, fmt.Errorf("modbusrtu: text length %d in %d registers", n, len(r)-1)
	}
	b := make([]byte, n)
	for i := range b {
		v := r[1+i/2]
		if i%2 == 0 {
			b[i] = byte(v >> 8)
		} else {
			b[i] = byte(v)
		}
	}
	return b, nil
}

// BeepReg encodes a beep request for HoldBeep.
func BeepReg(b windowbus.Beep) uint16 {
	return uint16(b.Count)<<8 | uint16(b.Length/(10*time.Millisecond))
}

// DecodeBeep decodes HoldBeep.
func DecodeBeep(v uint16) windowbus.Beep {
	return windowbus.Beep{Count: int(v >> 8), Length: time.Duration(v&0xFF) * 10 * time.Millisecond}
}

// SettingRegs encodes s for HoldMode, HoldBrightness and HoldBlink.
func SettingRegs(s windowbus.Settings) []uint16 {
	return []uint16{uint16(s.Mode), uint16(s.Brightness), uint16(s.Blink / time.Millisecond)}
}
