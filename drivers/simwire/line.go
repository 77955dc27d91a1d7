package simwire

import (
	"sync"
	"time"
)

// Framing describes how one character travels on an asynchronous serial line.
type Framing struct {
	DataBits int  // usually 8
	Parity   bool // one parity bit when true
	StopBits int  // 1 or 2
}

// F8N1 is 8 data bits, no parity, 1 stop bit: 10 bit times per character.
var F8N1 = Framing{DataBits: 8, StopBits: 1}

// Bits returns the bit times one character takes, start bit included.
func (f Framing) Bits() int {
	n := 1 + f.DataBits + f.StopBits
	if f.Parity {
		n++
	}
	return n
}

// CharTime returns how long one character occupies the wire at baud.
func CharTime(baud int, f Framing) time.Duration {
	if baud <= 0 {
		return 0
	}
	return time.Duration(int64(f.Bits()) * int64(time.Second) / int64(baud))
}

// FrameTime returns how long n characters occupy the wire at baud when sent
// back to back.
func FrameTime(n, baud int, f Framing) time.Duration {
	if baud <= 0 {
		return 0
	}
	return time.Duration(int64(n) * int64(f.Bits()) * int64(time.Second) / int64(baud))
}

// Line models one half-duplex serial wire (an RS-232 link or an RS-485 bus):
// a character takes CharTime to cross it and only one sender may use it at a
// time. Emulators call Occupy with the number of bytes that just crossed the
// wire in either direction; it returns when those bytes would have finished
// arriving at the far end, so readers and writers see true wire timing.
//
// The zero Baud disables pacing.
type Line struct {
	Baud    int
	Framing Framing

	mu   sync.Mutex
	free time.Time // when the wire is next idle
}

// NewLine returns a Line at baud with 8N1 framing.
func NewLine(baud int) *Line { return &Line{Baud: baud, Framing: F8N1} }

// Occupy reserves the wire for n characters starting now or when the wire is
// next free, whichever is later, and sleeps until they have crossed it. It
// returns the moment the last character arrived.
func (l *Line) Occupy(n int) time.Time {
	if l == nil || l.Baud <= 0 || n <= 0 {
		return time.Now()
	}
	d := FrameTime(n, l.Baud, l.Framing)
	l.mu.Lock()
	start := time.Now()
	if l.free.After(start) {
		start = l.free
	}
	end := start.Add(d)
	l.free = end
	l.mu.Unlock()
	SleepUntil(end)
	return end
}

// SleepUntil sleeps until t with sub-millisecond accuracy: it sleeps most of
// the way and yields the processor for the last stretch, because Go's timers
// wake about a millisecond late on Linux and a 115200-baud character is only
// 87 µs long. The last 1.5 ms are spent yielding in a loop: emulators pay
// that processor time so that the figures measured against them are honest
// (a 200 µs stretch overshot each wire wait by about half a millisecond and
// made a 115200-baud poll cycle 1.4× its airtime).
func SleepUntil(t time.Time) {
	const spin = 1500 * time.Microsecond
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		if d > spin {
			time.Sleep(d - spin)
			continue
		}
		for time.Now().Before(t) {
			runtimeGosched()
		}
		return
	}
}
