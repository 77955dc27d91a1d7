package windowbus

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Protocol is one wire protocol for window terminals. Implementations are
// stateless values; Open binds one to a port.
type Protocol interface {
	// Name is a short lower-case name ("modbus", "vendor").
	Name() string
	// Open returns a Link speaking the protocol over rw. The link does not
	// own rw: closing the port is the caller's business, after Link.Halt.
	Open(rw io.ReadWriter, o LinkOpts) (Link, error)
	// Airtime returns how long one transaction of op occupies the wire at
	// baud, request and reply and the silences the protocol demands between
	// frames included, with n the number of FIFO entries read (OpReadKeys)
	// or of text bytes written (OpShow). Software and device delays are not
	// included: it is the physical floor.
	Airtime(op Op, n, baud int) time.Duration
}

// Op names a kind of bus transaction, for Protocol.Airtime.
type Op int

// Bus transactions.
const (
	OpPoll      Op = iota // poll a key FIFO that turns out empty
	OpReadKeys            // poll that returns n entries (all frames it takes)
	OpAck                 // acknowledge presses
	OpShow                // write n bytes of text
	OpBeep                // sound the buzzer
	OpConfigure           // write mode, brightness, blink
	OpIdentify            // read the identity block
	OpCounters            // read the health counter block
)

// LinkOpts are what a Link needs to know about the line.
type LinkOpts struct {
	// Baud is the line speed; protocols derive frame timing and reply
	// timeouts from it.
	Baud int
	// ReplyTimeout is how long a device may take to start answering once
	// a request has crossed the wire; the full timeout of a transaction is
	// its airtime plus ReplyTimeout.
	ReplyTimeout time.Duration
}

// Validate checks o.
func (o LinkOpts) Validate() error {
	if o.Baud < 1200 || o.Baud > 921600 {
		return fmt.Errorf("windowbus: baud %d out of range 1200–921600", o.Baud)
	}
	if o.ReplyTimeout <= 0 {
		return fmt.Errorf("windowbus: reply timeout %v must be positive", o.ReplyTimeout)
	}
	return nil
}

// Link is a protocol bound to a port: one method per bus transaction. Calls
// are made by one goroutine at a time (the Master serialises them). Errors
// match ErrTimeout, ErrChecksum, ErrGarbled, ErrDisconnected or are an
// *ExceptionError.
type Link interface {
	// Identify reads the device's identity block.
	Identify(a Addr) (Identity, error)
	// PollKeys reads the key FIFO: its count and, when presses wait, the
	// oldest entries with the acknowledged sequence number and boot number.
	PollKeys(a Addr) (KeyState, error)
	// Ack tells the terminal that every press up to and including seq has
	// been taken; it removes them from its FIFO.
	Ack(a Addr, seq uint16) error
	// Show replaces the text of a bar or hall display with text, encoded
	// GB18030, at most the device's TextCap bytes.
	Show(a Addr, text []byte) error
	// Beep sounds the buzzer.
	Beep(a Addr, b Beep) error
	// Configure writes the display settings.
	Configure(a Addr, s Settings) error
	// Counters reads the device's health counter block.
	Counters(a Addr) (Counters, error)
	// StrayBytes is the running count of received bytes that belonged to no
	// reply (late replies, noise, trailing garbage); they were discarded.
	StrayBytes() uint64
	// Halt stops the link's goroutines. The port stays open.
	Halt() error
}

// MaxText is the largest text in bytes any protocol here carries in one
// write; a device's own capacity (Identity.TextCap) may be smaller.
const MaxText = 240

// Errors a Link reports; the Master counts them per device.
var (
	// ErrTimeout: the device did not answer in time.
	ErrTimeout = errors.New("windowbus: no reply")
	// ErrChecksum: a reply arrived with a bad CRC or sum.
	ErrChecksum = errors.New("windowbus: bad checksum")
	// ErrGarbled: a reply was malformed (wrong length, address, function).
	ErrGarbled = errors.New("windowbus: garbled reply")
	// ErrDisconnected: the port failed (device unplugged, pty closed). The
	// Master stops; the supervisor reopens the port and starts a new one.
	ErrDisconnected = errors.New("windowbus: port disconnected")
)

// ExceptionError is a device's refusal of a request (a Modbus exception, or
// a vendor error reply).
type ExceptionError struct {
	Code uint8
}

func (e *ExceptionError) Error() string {
	return fmt.Sprintf("windowbus: device refused request: exception %d", e.Code)
}
