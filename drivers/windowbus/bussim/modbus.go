package bussim

import (
	"errors"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
)

// modbus handles one received Modbus RTU frame and returns the device that
// answers and its reply, or nils when nobody answers. s.mu is held.
func (s *Sim) modbus(f frame, at time.Time) (*device, []byte) {
	raw := f.raw
	if f.silent {
		// A CRC-valid frame we could not size has an unsupported function
		// code: the addressed device refuses it. Anything else is noise.
		if len(raw) >= 4 && modbusrtu.CheckCRC(raw) {
			if d := s.device(raw[0]); d != nil {
				d.counters.BadFrames++
				return d, exception(raw[0], raw[1], modbusrtu.ExIllegalFunction)
			}
			return nil, nil
		}
		s.junk += uint64(len(raw))
		return nil, nil
	}
	req, _, err := modbusrtu.DecodeRequest(raw)
	switch {
	case errors.Is(err, modbusrtu.ErrCRC):
		if d := s.device(raw[0]); d != nil {
			d.counters.ChecksumErrors++
		}
		return nil, nil
	case err != nil:
		if d := s.device(raw[0]); d != nil {
			d.counters.BadFrames++
			return d, exception(raw[0], raw[1], modbusrtu.ExIllegalValue)
		}
		return nil, nil
	}
	if req.Unit == 0 {
		// Broadcast: writes reach every device that hears; nobody answers.
		if req.Func == modbusrtu.FuncWriteSingle || req.Func == modbusrtu.FuncWriteMultiple {
			for a, d := range s.devs {
				if !d.fault.Mute {
					s.writeHolding(a, d, req.Addr, req.Values, at)
				}
			}
		}
		return nil, nil
	}
	d := s.device(req.Unit)
	if d == nil {
		return nil, nil
	}
	d.requests++
	d.counters.FramesOK++
	resp := modbusrtu.Response{Unit: req.Unit, Func: req.Func}
	switch req.Func {
	case modbusrtu.FuncReadInput:
		resp.Values, resp.Exception = d.inputRegs(req.Addr, req.Count, at)
	case modbusrtu.FuncReadHolding:
		resp.Values, resp.Exception = d.holdingRegs(req.Addr, req.Count)
	case modbusrtu.FuncWriteSingle:
		resp.Addr, resp.Values = req.Addr, req.Values
		resp.Exception = s.writeHolding(windowbus.Addr(req.Unit), d, req.Addr, req.Values, at)
	case modbusrtu.FuncWriteMultiple:
		resp.Addr, resp.Count = req.Addr, req.Count
		resp.Exception = s.writeHolding(windowbus.Addr(req.Unit), d, req.Addr, req.Values, at)
	}
	if resp.Exception != 0 {
		d.counters.BadFrames++
	}
	b, err := resp.Encode()
	if err != nil {
		return d, exception(req.Unit, req.Func, modbusrtu.ExDeviceFailure)
	}
	return d, b
}

func exception(unit, fn, code byte) []byte {
	b, _ := modbusrtu.Response{Unit: unit, Func: fn &^ 0x80, Exception: code}.Encode()
	return b
}

// inputRegs reads count input registers from addr, or returns an
// exception code when the range leaves a defined block.
func (d *device) inputRegs(addr, count uint16, at time.Time) ([]uint16, uint8) {
	var block []uint16
	var base uint16
	keys := d.id.Kind.HasKeys()
	switch {
	case addr < modbusrtu.RegVendor+modbusrtu.IdentityRegs:
		block, base = modbusrtu.EncodeIdentity(d.id), modbusrtu.RegVendor
	case keys && addr >= modbusrtu.RegKeyCount && addr < modbusrtu.RegKeyCount+modbusrtu.KeyBlockRegs:
		block, base = modbusrtu.EncodeKeys(d.keys(at)), modbusrtu.RegKeyCount
	case addr >= modbusrtu.RegFramesOK && addr < modbusrtu.RegFramesOK+modbusrtu.CounterRegs:
		block, base = modbusrtu.EncodeCounters(d.counterBlock()), modbusrtu.RegFramesOK
	default:
		return nil, modbusrtu.ExIllegalAddress
	}
	o := int(addr - base)
	if o+int(count) > len(block) {
		return nil, modbusrtu.ExIllegalAddress
	}
	return block[o : o+int(count)], 0
}

// holdingRegs reads count holding registers from addr.
func (d *device) holdingRegs(addr, count uint16) ([]uint16, uint8) {
	out := make([]uint16, 0, count)
	for i := uint16(0); i < count; i++ {
		v, ok := d.holding(addr + i)
		if !ok {
			return nil, modbusrtu.ExIllegalAddress
		}
		out = append(out, v)
	}
	return out, 0
}

// holding returns one holding register.
func (d *device) holding(r uint16) (uint16, bool) {
	keys := d.id.Kind.HasKeys()
	switch {
	case r == modbusrtu.HoldAck && keys:
		return d.acked, true
	case r == modbusrtu.HoldMode:
		return uint16(d.settings.Mode), true
	case r == modbusrtu.HoldBrightness:
		return uint16(d.settings.Brightness), true
	case r == modbusrtu.HoldBlink:
		return uint16(d.settings.Blink / time.Millisecond), true
	case r == modbusrtu.HoldBeep:
		return d.beepReg, true
	case r == modbusrtu.HoldTextLen:
		return uint16(len(d.text)), true
	case r >= modbusrtu.HoldText && int(r-modbusrtu.HoldText) < len(d.textRegs):
		return d.textRegs[r-modbusrtu.HoldText], true
	}
	return 0, false
}

// writeHolding writes values from addr, all or nothing, and returns an
// exception code. Writing HoldTextLen shows the text held in the text
// registers at that moment, those written by the same request included.
func (s *Sim) writeHolding(a windowbus.Addr, d *device, addr uint16, values []uint16, at time.Time) uint8 {
	keys := d.id.Kind.HasKeys()
	for i, v := range values {
		r := addr + uint16(i)
		if _, ok := d.holding(r); !ok {
			return modbusrtu.ExIllegalAddress
		}
		switch r {
		case modbusrtu.HoldAck:
			if keys && windowbus.SeqAfter(v, d.lastSeq) {
				return modbusrtu.ExIllegalValue
			}
		case modbusrtu.HoldMode:
			if v > uint16(windowbus.ModeClosed) {
				return modbusrtu.ExIllegalValue
			}
		case modbusrtu.HoldBrightness:
			if v > 100 {
				return modbusrtu.ExIllegalValue
			}
		case modbusrtu.HoldBeep:
			if v>>8 > 15 {
				return modbusrtu.ExIllegalValue
			}
		case modbusrtu.HoldTextLen:
			if int(v) > d.id.TextCap {
				return modbusrtu.ExIllegalValue
			}
		}
	}
	commit := -1
	for i, v := range values {
		switch r := addr + uint16(i); {
		case r == modbusrtu.HoldAck:
			d.ack(v)
		case r == modbusrtu.HoldMode:
			d.settings.Mode = windowbus.Mode(v)
		case r == modbusrtu.HoldBrightness:
			d.settings.Brightness = uint8(v)
		case r == modbusrtu.HoldBlink:
			d.settings.Blink = time.Duration(v) * time.Millisecond
		case r == modbusrtu.HoldBeep:
			d.beepReg = v
			d.beep(modbusrtu.DecodeBeep(v))
		case r == modbusrtu.HoldTextLen:
			commit = int(v)
		default:
			d.textRegs[r-modbusrtu.HoldText] = v
		}
	}
	if commit >= 0 {
		regs := append([]uint16{uint16(commit)}, d.textRegs...)
		text, err := modbusrtu.UnpackText(regs)
		if err == nil {
			s.show(a, d, text, at)
		}
	}
	return 0
}
