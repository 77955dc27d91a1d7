package idcardsim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"hallgw/drivers/idcard"
	"hallgw/drivers/simwire"
)

// Opts configures the emulator.
type Opts struct {
	// Baud paces the replies as a line at this speed would; 0 sends at
	// once.
	Baud int
	// RepeatFind makes find card answer 9F for as long as a card lies on the
	// reader, even after it was read.
	RepeatFind bool
	// SAMID is the identity the SAM reports.
	SAMID idcard.SAMID
}

// DefaultOpts is a reader at 115200 baud with the SAM ID of the protocol
// notes' example, 05.01-20101216-0012345678-0987654321.
var DefaultOpts = Opts{
	Baud:  115200,
	SAMID: idcard.SAMID{0x05, 0x00, 0x01, 0x00, 0x60, 0xB8, 0x32, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xB1, 0x68, 0xDE, 0x3A},
}

// Fault is an injected failure.
type Fault int

// Faults. FaultSAM lasts until FaultNone; the others hit the next reply
// they apply to and are then spent.
const (
	FaultNone     Fault = iota
	FaultSAM            // every command answers 60, SAM self-test failed
	FaultChecksum       // the next reply carries a wrong CHK
	FaultMidRead        // the next read answers 41 and the card is gone
)

// Sim is the emulated reader. Its methods are safe for concurrent use.
type Sim struct {
	o    Opts
	line *simwire.Line

	mu          sync.Mutex
	text, photo []byte // the card in the field; nil when none
	found       bool   // find answered 9F since the card was placed or read
	selected    bool
	read        bool // the card was read and has not been lifted since
	samFault    bool
	badChecksum bool
	midRead     bool
	requests    int

	pty  *simwire.PTY
	done chan struct{}
}

// New returns an emulator that is not attached to a line; use Handle or
// Serve. o may be nil for DefaultOpts.
func New(o *Opts) (*Sim, error) {
	opts := DefaultOpts
	if o != nil {
		opts = *o
	}
	if opts.Baud < 0 {
		return nil, fmt.Errorf("idcardsim: baud %d", opts.Baud)
	}
	return &Sim{o: opts, line: simwire.NewLine(opts.Baud)}, nil
}

// Start returns an emulator serving on a new pseudo-terminal; the driver
// opens Path.
func Start(o *Opts) (*Sim, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	p, err := simwire.OpenPTY()
	if err != nil {
		return nil, err
	}
	s.pty, s.done = p, make(chan struct{})
	go func() {
		defer close(s.done)
		s.Serve(p)
	}()
	return s, nil
}

// Path is the device the driver opens, for example /dev/pts/3.
func (s *Sim) Path() string {
	if s.pty == nil {
		return ""
	}
	return s.pty.Path
}

// Close stops serving and closes the pseudo-terminal.
func (s *Sim) Close() error {
	if s.pty == nil {
		return nil
	}
	err := s.pty.Close()
	<-s.done
	return err
}

// Place puts a card on the reader. The card is laid out as the real text
// block; its ID number is not checked, so a bad card can be presented. An
// empty photo is sent as 1024 zero bytes.
func (s *Sim) Place(c *idcard.Card) error {
	text, err := idcard.EncodeText(c)
	if err != nil {
		return err
	}
	photo := bytes.Clone(c.Photo)
	if len(photo) == 0 {
		photo = make([]byte, idcard.PhotoLen)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text, s.photo = text, photo
	s.found, s.selected, s.read = false, false, false
	return nil
}

// Remove lifts the card off the reader.
func (s *Sim) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove()
}

func (s *Sim) remove() {
	s.text, s.photo = nil, nil
	s.found, s.selected, s.read = false, false, false
}

// Fail injects f; FaultNone clears a SAM failure.
func (s *Sim) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f {
	case FaultNone:
		s.samFault, s.badChecksum, s.midRead = false, false, false
	case FaultSAM:
		s.samFault = true
	case FaultChecksum:
		s.badChecksum = true
	case FaultMidRead:
		s.midRead = true
	}
}

// Requests returns how many well-formed requests the emulator has answered.
func (s *Sim) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Handle answers one request frame with one response frame. A frame with a
// bad checksum is answered 10, one too short 11, an unknown command 21.
func (s *Sim) Handle(frame []byte) []byte {
	req, err := idcard.DecodeRequest(frame)
	if err != nil {
		if errors.Is(err, idcard.ErrChecksum) {
			return reply(idcard.StatusChecksum, nil)
		}
		return reply(idcard.StatusLength, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	out := s.answer(req)
	if s.badChecksum {
		s.badChecksum = false
		out[len(out)-1] ^= 0x5A
	}
	return out
}

func (s *Sim) answer(req idcard.Request) []byte {
	if s.samFault {
		return reply(idcard.StatusSelfTest, nil)
	}
	switch req.Cmd {
	case idcard.CmdSAMReset, idcard.CmdSAMStatus:
		return reply(idcard.StatusOK, nil)
	case idcard.CmdSAMID:
		return reply(idcard.StatusOK, s.o.SAMID[:])
	case idcard.CmdSetMaxRF:
		if len(req.Data) != 1 || req.Data[0] == 0 {
			return reply(idcard.StatusLength, nil)
		}
		return reply(idcard.StatusOK, nil)
	case idcard.CmdFindCard:
		if s.text == nil || (s.read && !s.o.RepeatFind) {
			return reply(idcard.StatusNoCard, nil)
		}
		s.found = true
		return reply(idcard.StatusCardFound, make([]byte, 4))
	case idcard.CmdSelectCard:
		if s.text == nil || !s.found {
			return reply(idcard.StatusSelectFailed, nil)
		}
		s.selected = true
		return reply(idcard.StatusOK, make([]byte, 8))
	case idcard.CmdReadText:
		if s.text == nil || !s.selected {
			return reply(idcard.StatusReadFailed, nil)
		}
		if s.midRead {
			s.midRead = false
			s.remove()
			return reply(idcard.StatusReadFailed, nil)
		}
		s.found, s.selected, s.read = false, false, true
		data, err := idcard.JoinRead(s.text, s.photo)
		if err != nil {
			return reply(idcard.StatusInfoLength, nil)
		}
		return reply(idcard.StatusOK, data)
	case idcard.CmdReadAddress:
		if s.text == nil || !s.selected {
			return reply(idcard.StatusReadFailed, nil)
		}
		return reply(idcard.StatusEmpty, nil)
	}
	return reply(idcard.StatusCommand, nil)
}

func reply(st idcard.Status, data []byte) []byte {
	b, err := idcard.EncodeResponse(st, data)
	if err != nil {
		// Only oversized data fails, and the emulator never builds any.
		b, _ = idcard.EncodeResponse(idcard.StatusInfoLength, nil)
	}
	return b
}

// maxRequest bounds a request's LEN; the longest real one is 4.
const maxRequest = 64

// Serve reads requests from rw and answers them until a read fails. Bytes
// before a preamble are skipped; a request whose LEN is absurd is answered
// 11 and skipped.
func (s *Sim) Serve(rw io.ReadWriter) error {
	br := bufio.NewReader(rw)
	for {
		frame, err := readRequest(br)
		if err != nil {
			return err
		}
		var out []byte
		if frame == nil {
			out = reply(idcard.StatusLength, nil)
		} else {
			s.line.Occupy(len(frame))
			out = s.Handle(frame)
		}
		s.line.Occupy(len(out))
		if _, err := rw.Write(out); err != nil {
			return err
		}
	}
}

// readRequest returns the next request frame, or nil for one whose LEN is
// out of range.
func readRequest(br *bufio.Reader) ([]byte, error) {
	var win [5]byte
	for n := 0; n < len(win) || win != idcard.Preamble; n++ {
		c, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		copy(win[:], win[1:])
		win[4] = c
	}
	var l [2]byte
	if _, err := io.ReadFull(br, l[:]); err != nil {
		return nil, err
	}
	n := int(l[0])<<8 | int(l[1])
	if n < 3 || n > maxRequest {
		return nil, nil
	}
	frame := make([]byte, idcard.HeaderLen+n)
	copy(frame, win[:])
	copy(frame[5:], l[:])
	if _, err := io.ReadFull(br, frame[idcard.HeaderLen:]); err != nil {
		return nil, err
	}
	return frame, nil
}
