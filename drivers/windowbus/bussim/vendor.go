package bussim

import (
	"encoding/binary"
	"errors"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/vendor"
)

// vendor handles one received vendor frame and returns the device that
// answers and its reply, or nils. s.mu is held.
func (s *Sim) vendor(f frame, at time.Time) (*device, []byte) {
	if f.silent {
		s.junk += uint64(len(f.raw))
		return nil, nil
	}
	req, _, err := vendor.Decode(f.raw)
	if errors.Is(err, vendor.ErrSum) {
		if a, ok := vendorAddr(f.raw); ok {
			if d := s.device(a); d != nil {
				d.counters.ChecksumErrors++
			}
		}
		return nil, nil
	}
	if err != nil {
		s.junk += uint64(len(f.raw))
		return nil, nil
	}
	if req.Addr == 0 {
		for a, d := range s.devs {
			if !d.fault.Mute && (req.Cmd == vendor.CmdText || req.Cmd == vendor.CmdBeep || req.Cmd == vendor.CmdConfigure) {
				s.vendorCommand(a, d, req, at)
			}
		}
		return nil, nil
	}
	d := s.device(req.Addr)
	if d == nil {
		return nil, nil
	}
	d.requests++
	d.counters.FramesOK++
	data, code := s.vendorCommand(windowbus.Addr(req.Addr), d, req, at)
	reply := vendor.Frame{Addr: req.Addr, Cmd: req.Cmd | vendor.ReplyBit, Data: data}
	if code != 0 {
		d.counters.BadFrames++
		reply = vendor.Frame{Addr: req.Addr, Cmd: req.Cmd | vendor.ErrorBits, Data: []byte{code}}
	}
	b, err := reply.Encode()
	if err != nil {
		return d, nil
	}
	return d, b
}

// vendorAddr finds the address byte of a frame whose sum failed.
func vendorAddr(raw []byte) (byte, bool) {
	for i := 0; i+4 < len(raw); i++ {
		if raw[i] == vendor.Start && raw[i+3] == vendor.Start && raw[i+1] == raw[i+2] {
			return raw[i+4], true
		}
	}
	return 0, false
}

// vendorCommand executes a command and returns the reply data or an error
// code.
func (s *Sim) vendorCommand(a windowbus.Addr, d *device, f vendor.Frame, at time.Time) ([]byte, byte) {
	keys := d.id.Kind.HasKeys()
	switch f.Cmd {
	case vendor.CmdIdentify:
		if len(f.Data) != 0 {
			return nil, vendor.ErrCodeLength
		}
		return vendor.EncodeIdentity(d.id), 0
	case vendor.CmdPoll:
		if len(f.Data) != 0 {
			return nil, vendor.ErrCodeLength
		}
		if !keys {
			return nil, vendor.ErrCodeCommand
		}
		return vendor.EncodeKeys(d.keys(at)), 0
	case vendor.CmdAck:
		if len(f.Data) != 2 {
			return nil, vendor.ErrCodeLength
		}
		if !keys {
			return nil, vendor.ErrCodeCommand
		}
		if !d.ack(binary.BigEndian.Uint16(f.Data)) {
			return nil, vendor.ErrCodeValue
		}
		return nil, 0
	case vendor.CmdText:
		if len(f.Data) > d.id.TextCap {
			return nil, vendor.ErrCodeValue
		}
		s.show(a, d, f.Data, at)
		return nil, 0
	case vendor.CmdBeep:
		b, err := vendor.DecodeBeep(f.Data)
		if err != nil {
			return nil, vendor.ErrCodeLength
		}
		if b.Count > 15 {
			return nil, vendor.ErrCodeValue
		}
		d.beep(b)
		return nil, 0
	case vendor.CmdConfigure:
		st, err := vendor.DecodeSettings(f.Data)
		if err != nil {
			return nil, vendor.ErrCodeLength
		}
		if st.Mode > windowbus.ModeClosed || st.Brightness > 100 {
			return nil, vendor.ErrCodeValue
		}
		d.settings = st
		return nil, 0
	case vendor.CmdCounters:
		if len(f.Data) != 0 {
			return nil, vendor.ErrCodeLength
		}
		return vendor.EncodeCounters(d.counterBlock()), 0
	}
	return nil, vendor.ErrCodeCommand
}
