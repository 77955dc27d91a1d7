package windowbus

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Addr is a device address on the bus, 1–247 (Modbus unit identifier, or
// the DIP-switch address of a vendor terminal). 0 is the broadcast address
// and is never polled.
type Addr uint8

// MaxAddr is the highest device address.
const MaxAddr Addr = 247

// Valid reports whether a is a unicast device address.
func (a Addr) Valid() bool { return a >= 1 && a <= MaxAddr }

// Kind is what a device on the bus is, as its identity reports it.
type Kind uint16

// Device kinds (identity register "terminal type").
const (
	KindUnknown Kind = 0
	KindWindow  Kind = 1 // keypad and LED bar at a window
	KindHall    Kind = 2 // hall display (综合屏): text only, no keys
	KindKeypad  Kind = 3 // keypad without a bar
	KindBar     Kind = 4 // LED bar without keys
)

func (k Kind) String() string {
	switch k {
	case KindWindow:
		return "window"
	case KindHall:
		return "hall"
	case KindKeypad:
		return "keypad"
	case KindBar:
		return "bar"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// HasKeys reports whether devices of kind k have a key FIFO to poll.
func (k Kind) HasKeys() bool { return k == KindWindow || k == KindKeypad }

// Key is a key code as stored in a terminal's key FIFO.
type Key uint16

// Key codes. A number typed on the keypad before the key travels in the
// entry's argument (Press.Arg).
const (
	KeyCall     Key = 0x01 // call next (叫号); Arg ≠ 0 calls that ticket number
	KeyRecall   Key = 0x02 // call the current ticket again (重呼)
	KeySkip     Key = 0x03 // no-show, skip (过号)
	KeyTransfer Key = 0x04 // transfer (转移); Arg is the target, see ArgService
	KeyHold     Key = 0x05 // hold the current ticket (挂起)
	KeyPause    Key = 0x06 // pause the window (暂停)
	KeyResume   Key = 0x07 // resume the window (恢复)
	KeyFinish   Key = 0x08 // finish the current ticket (办结)

	// Rating keys of an evaluation pad on the terminal, best first.
	KeyRate1 Key = 0x11 // 非常满意
	KeyRate2 Key = 0x12 // 满意
	KeyRate3 Key = 0x13 // 基本满意
	KeyRate4 Key = 0x14 // 不满意
	KeyRate5 Key = 0x15 // 非常不满意
)

// ArgService marks a transfer argument as a service number rather than a
// window number: Arg = ArgService | service for a service, Arg = window for
// a window.
const ArgService uint16 = 0x8000

var keyNames = map[Key]string{
	KeyCall: "call", KeyRecall: "recall", KeySkip: "skip", KeyTransfer: "transfer",
	KeyHold: "hold", KeyPause: "pause", KeyResume: "resume", KeyFinish: "finish",
	KeyRate1: "rate1", KeyRate2: "rate2", KeyRate3: "rate3", KeyRate4: "rate4", KeyRate5: "rate5",
}

// String returns the key's name as ParseKey accepts it, or key(0xNN).
func (k Key) String() string {
	if s, ok := keyNames[k]; ok {
		return s
	}
	return fmt.Sprintf("key(%#02x)", uint16(k))
}

// Known reports whether k is one of the defined key codes.
func (k Key) Known() bool { _, ok := keyNames[k]; return ok }

// Rating returns the grade 1 (非常满意) to 5 (非常不满意) of a rating key,
// or 0 for other keys.
func (k Key) Rating() int {
	if k >= KeyRate1 && k <= KeyRate5 {
		return int(k-KeyRate1) + 1
	}
	return 0
}

// ParseKey turns a key name ("call", "rate3") or a number ("0x11", "17")
// into a Key.
func ParseKey(s string) (Key, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for k, n := range keyNames {
		if n == s {
			return k, nil
		}
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("windowbus: unknown key %q", s)
	}
	return Key(v), nil
}

// Mode is the status an LED bar shows beside its text.
type Mode uint16

// LED bar modes.
const (
	ModeServing Mode = 0 // normal service
	ModePaused  Mode = 1 // 暂停服务
	ModeClosed  Mode = 2 // window closed
)

// Settings are the display settings of a bar or hall display.
type Settings struct {
	Mode       Mode
	Brightness uint8         // percent, 0–100
	Blink      time.Duration // blink period of the text, 0 for steady; whole milliseconds up to 65.535 s
}

// Beep is a buzzer request: Count beeps of Length each.
type Beep struct {
	Count  int           // 1–15
	Length time.Duration // 10 ms steps, up to 2.55 s
}

// Identity is what a device reports about itself.
type Identity struct {
	Vendor     uint16 // vendor code
	Model      uint16
	Firmware   uint16 // major<<8 | minor
	Kind       Kind
	MapVersion uint16 // register map / command set version, 1 here
	FIFOSize   int    // key FIFO capacity, 0 for devices without keys
	TextCap    int    // LED text capacity in bytes
	Boot       uint16 // changes at every power-up
}

// Entry is one key press held in a terminal's FIFO.
type Entry struct {
	Key Key
	Arg uint16
	Seq uint16        // per-terminal press number, 1–65535, wraps skipping 0
	Age time.Duration // time since the press when the entry was read
}

// KeyState is the result of polling a terminal's key FIFO.
type KeyState struct {
	// Pending is how many presses wait in the FIFO (unacknowledged).
	Pending int
	// Restarted says the device has powered up and its display has not
	// been written since: the master must restore text and settings.
	Restarted bool
	// Synced says whether Acked and Boot were read. Protocols may leave
	// them out when Pending is 0.
	Synced bool
	Acked  uint16 // the last sequence number the terminal saw acknowledged
	Boot   uint16 // the terminal's boot number
	// Entries are the oldest pending presses, oldest first; possibly fewer
	// than Pending.
	Entries []Entry
}

// Counters is a device's own health counter block.
type Counters struct {
	FramesOK       uint16 // frames addressed to it and accepted (wraps)
	ChecksumErrors uint16
	BadFrames      uint16 // malformed or unsupported requests
	Overflows      uint16 // presses lost because the FIFO was full
	Uptime         time.Duration
	Flags          uint16
}

// Press is a key press delivered by the Master.
type Press struct {
	Addr   Addr
	Window int // window number the terminal is registered with
	Key    Key
	Arg    uint16
	Seq    uint16 // per-terminal press number, unique within Boot
	Boot   uint16 // the terminal's boot number: (Addr, Boot, Seq) is unique
	At     time.Time
}

func (p Press) String() string {
	return fmt.Sprintf("window %d (addr %d) %s arg %d seq %d", p.Window, p.Addr, p.Key, p.Arg, p.Seq)
}

// SeqAfter reports whether sequence number a comes after b, in 16-bit serial
// number arithmetic (RFC 1982): a is after b when it is at most 32767 ahead.
func SeqAfter(a, b uint16) bool { return int16(a-b) > 0 }

// NextSeq returns the sequence number after s, skipping 0.
func NextSeq(s uint16) uint16 {
	s++
	if s == 0 {
		s = 1
	}
	return s
}
