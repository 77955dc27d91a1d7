package vendor

import (
	"encoding/binary"
	"fmt"
	"time"

	"hallgw/drivers/windowbus"
)

// Payload sizes.
const (
	IdentityLen  = 12 // vendor 2, model 2, firmware 2, kind 1, map version 1, FIFO 1, text cap 1, boot 2
	KeyHeaderLen = 5  // count 1, acked 2, boot 2
	EntryLen     = 7  // key 1, arg 2, seq 2, age ms 2
	MaxEntries   = 8  // entries in one poll reply
	CountersLen  = 14 // frames 2, sum errors 2, bad 2, overflows 2, uptime s 4, flags 2
	SettingsLen  = 4  // mode 1, brightness 1, blink ms 2

	// KeyRestarted in the poll reply's status byte: powered up, display
	// not written since.
	KeyRestarted byte = 0x80
)

// EncodeIdentity returns the identify reply payload.
func EncodeIdentity(id windowbus.Identity) []byte {
	b := make([]byte, 0, IdentityLen)
	b = binary.BigEndian.AppendUint16(b, id.Vendor)
	b = binary.BigEndian.AppendUint16(b, id.Model)
	b = binary.BigEndian.AppendUint16(b, id.Firmware)
	b = append(b, byte(id.Kind), byte(id.MapVersion), byte(id.FIFOSize), byte(id.TextCap))
	return binary.BigEndian.AppendUint16(b, id.Boot)
}

// DecodeIdentity decodes an identify reply payload.
func DecodeIdentity(b []byte) (windowbus.Identity, error) {
	if len(b) != IdentityLen {
		return windowbus.Identity{}, fmt.Errorf("%w: identity of %d bytes, want %d", ErrFrame, len(b), IdentityLen)
	}
	return windowbus.Identity{
		Vendor: binary.BigEndian.Uint16(b), Model: binary.BigEndian.Uint16(b[2:]), Firmware: binary.BigEndian.Uint16(b[4:]),
		Kind: windowbus.Kind(b[6]), MapVersion: uint16(b[7]), FIFOSize: int(b[8]), TextCap: int(b[9]),
		Boot: binary.BigEndian.Uint16(b[10:]),
	}, nil
}

// EncodeKeys returns the poll reply payload for ks: the status byte
// (count 0–127, KeyRestarted) alone when the FIFO is empty, else also the
// acknowledged sequence, the boot number and up to MaxEntries entries.
func EncodeKeys(ks windowbus.KeyState) []byte {
	n := ks.Pending
	if n > 0x7F {
		n = 0x7F
	}
	b := []byte{byte(n)}
	if ks.Restarted {
		b[0] |= KeyRestarted
	}
	if n == 0 {
		return b
	}
	b = binary.BigEndian.AppendUint16(b, ks.Acked)
	b = binary.BigEndian.AppendUint16(b, ks.Boot)
	for i, e := range ks.Entries {
		if i == MaxEntries {
			break
		}
		b = append(b, byte(e.Key))
		b = binary.BigEndian.AppendUint16(b, e.Arg)
		b = binary.BigEndian.AppendUint16(b, e.Seq)
		ms := e.Age.Milliseconds()
		if ms > 0xFFFF {
			ms = 0xFFFF
		} else if ms < 0 {
			ms = 0
		}
		b = binary.BigEndian.AppendUint16(b, uint16(ms))
	}
	return b
}

// DecodeKeys decodes a poll reply payload.
func DecodeKeys(b []byte) (windowbus.KeyState, error) {
	if len(b) == 0 {
		return windowbus.KeyState{}, fmt.Errorf("%w: empty poll reply", ErrFrame)
	}
	ks := windowbus.KeyState{Pending: int(b[0] &^ KeyRestarted), Restarted: b[0]&KeyRestarted != 0}
	if ks.Pending == 0 {
		if len(b) != 1 {
			return ks, fmt.Errorf("%w: empty FIFO with %d more bytes", ErrFrame, len(b)-1)
		}
		return ks, nil
	}
	if len(b) < KeyHeaderLen || (len(b)-KeyHeaderLen)%EntryLen != 0 {
		return ks, fmt.Errorf("%w: poll reply of %d bytes", ErrFrame, len(b))
	}
	ks.Synced = true
	ks.Acked = binary.BigEndian.Uint16(b[1:])
	ks.Boot = binary.BigEndian.Uint16(b[3:])
	n := (len(b) - KeyHeaderLen) / EntryLen
	if n > ks.Pending || n > MaxEntries {
		return ks, fmt.Errorf("%w: %d entries for a count of %d", ErrFrame, n, ks.Pending)
	}
	prev := ks.Acked
	for i := 0; i < n; i++ {
		o := KeyHeaderLen + EntryLen*i
		e := windowbus.Entry{
			Key: windowbus.Key(b[o]), Arg: binary.BigEndian.Uint16(b[o+1:]), Seq: binary.BigEndian.Uint16(b[o+3:]),
			Age: time.Duration(binary.BigEndian.Uint16(b[o+5:])) * time.Millisecond,
		}
		if !windowbus.SeqAfter(e.Seq, prev) {
			return ks, fmt.Errorf("%w: entry %d: sequence %d does not follow %d", ErrFrame, i, e.Seq, prev)
		}
		prev = e.Seq
		ks.Entries = append(ks.Entries, e)
	}
	return ks, nil
}

// EncodeCounters returns the counters reply payload.
func EncodeCounters(c windowbus.Counters) []byte {
	b := make([]byte, 0, CountersLen)
	for _, v := range []uint16{c.FramesOK, c.ChecksumErrors, c.BadFrames, c.Overflows} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(c.Uptime/time.Second))
	return binary.BigEndian.AppendUint16(b, c.Flags)
}

// DecodeCounters decodes a counters reply payload.
func DecodeCounters(b []byte) (windowbus.Counters, error) {
	if len(b) != CountersLen {
		return windowbus.Counters{}, fmt.Errorf("%w: counters of %d bytes, want %d", ErrFrame, len(b), CountersLen)
	}
	return windowbus.Counters{
		FramesOK: binary.BigEndian.Uint16(b), ChecksumErrors: binary.BigEndian.Uint16(b[2:]),
		BadFrames: binary.BigEndian.Uint16(b[4:]), Overflows: binary.BigEndian.Uint16(b[6:]),
		Uptime: time.Duration(binary.BigEndian.Uint32(b[8:])) * time.Second, Flags: binary.BigEndian.Uint16(b[12:]),
	}, nil
}

// EncodeBeep returns the beep command payload: count, length in 10 ms.
func EncodeBeep(bp windowbus.Beep) []byte {
	return []byte{byte(bp.Count), byte(bp.Length / (10 * time.Millisecond))}
}

// DecodeBeep decodes a beep command payload.
func DecodeBeep(b []byte) (windowbus.Beep, error) {
	if len(b) != 2 {
		return windowbus.Beep{}, fmt.Errorf("%w: beep of %d bytes", ErrFrame, len(b))
	}
	return windowbus.Beep{Count: int(b[0]), Length: time.Duration(b[1]) * 10 * time.Millisecond}, nil
}

// EncodeSettings returns the configure command payload.
func EncodeSettings(s windowbus.Settings) []byte {
	b := []byte{byte(s.Mode), s.Brightness}
	return binary.BigEndian.AppendUint16(b, uint16(s.Blink/time.Millisecond))
}

// DecodeSettings decodes a configure command payload.
func DecodeSettings(b []byte) (windowbus.Settings, error) {
	if len(b) != SettingsLen {
		return windowbus.Settings{}, fmt.Errorf("%w: settings of %d bytes", ErrFrame, len(b))
	}
	return windowbus.Settings{Mode: windowbus.Mode(b[0]), Brightness: b[1],
		Blink: time.Duration(binary.BigEndian.Uint16(b[2:])) * time.Millisecond}, nil
}
