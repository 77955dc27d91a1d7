package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/drivers/idcard"
	"hallgw/drivers/serialio"
	"hallgw/drivers/simwire"
	"hallgw/drivers/ups"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// protocol is one kind of device to look for.
type protocol struct {
	name  string
	bauds []int
	try   func(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool)
}

// The speeds tried, in order.
var (
	PrinterBauds = []int{9600, 19200, 38400, 115200}
	UPSBauds     = []int{2400}
	IDCardBauds  = []int{115200, 57600, 38400, 19200, 9600}
	BusBauds     = []int{9600, 19200, 38400, 115200}
)

var protocols = []protocol{
	{ProtoESCPOS, PrinterBauds, tryPrinter},
	{ProtoQ1, UPSBauds, tryUPS},
	{ProtoSAM, IDCardBauds, tryIDCard},
	{ProtoModbus, BusBauds, tryModbus},
	{ProtoVendor, BusBauds, tryVendor},
}

func tryPrinter(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool) {
	s.progress(Progress{Port: p.Name, Protocol: ProtoESCPOS, Baud: baud})
	pr, err := escpos.New(rw, &escpos.Opts{Baud: baud, StatusTimeout: s.o.Timeout, Retries: 0,
		DrainTime: 10 * time.Millisecond, Now: s.o.Now})
	if err != nil {
		return Finding{}, false
	}
	st, err := pr.Status(ctx)
	if err != nil {
		return Finding{}, false
	}
	return Finding{Device: DevicePrinter, Detail: "ESC/POS printer: " + st.String()}, true
}

func tryUPS(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool) {
	s.progress(Progress{Port: p.Name, Protocol: ProtoQ1, Baud: baud})
	d, err := ups.New(rw, &ups.Opts{ReplyTimeout: s.o.Timeout + simwire.FrameTime(ups.Q1Len, baud, simwire.F8N1),
		Flush: 10 * time.Millisecond, WireNow: s.o.Now})
	if err != nil {
		return Finding{}, false
	}
	st, err := d.Status()
	if err != nil {
		return Finding{}, false
	}
	detail := "Megatec Q1 UPS: " + st.UPSStatus()
	if v := st.BatteryVoltage; v != nil {
		detail += fmt.Sprintf(", battery %.2f V", *v)
	}
	if l := st.Load; l != nil {
		detail += fmt.Sprintf(", load %.0f %%", *l)
	}
	if info, err := d.Info(); err == nil && (info.Manufacturer != "" || info.Model != "") {
		detail += ", " + strings.TrimSpace(info.Manufacturer+" "+info.Model)
	}
	return Finding{Device: DeviceUPS, Detail: detail}, true
}

func tryIDCard(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool) {
	s.progress(Progress{Port: p.Name, Protocol: ProtoSAM, Baud: baud})
	// A SAM status reply is 11 bytes.
	wait := s.o.Timeout + simwire.FrameTime(11, baud, simwire.F8N1)
	r, err := idcard.New(rw, &idcard.Opts{HeaderTimeout: wait, FrameTimeout: wait, MaxRetries: 1})
	if err != nil {
		return Finding{}, false
	}
	serialio.Drain(rw, 10*time.Millisecond, s.o.Now)
	err = r.SAMStatus(ctx)
	var se *idcard.StatusError
	switch {
	case err == nil:
		detail := "ID-card reader, SAM ready"
		if id, err := r.SAMID(ctx); err == nil {
			detail += ", SAM " + id.String()
		}
		return Finding{Device: DeviceIDCard, Detail: detail}, true
	case errors.As(err, &se):
		// A well-formed reply with a failure status: a reader whose
		// security module is faulty.
		return Finding{Device: DeviceIDCard, Detail: "ID-card reader, SAM fault: " + err.Error()}, true
	}
	return Finding{}, false
}

// busWait is the time a bus device has to answer once a request is on the
// wire, plus the reply's airtime.
func (s *scanner) busWait(reply, baud int) time.Duration {
	return s.o.Timeout/5 + simwire.FrameTime(reply, baud, simwire.F8N1)
}

func tryModbus(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool) {
	for a := 1; a <= s.o.BusAddrs && ctx.Err() == nil; a++ {
		s.progress(Progress{Port: p.Name, Protocol: ProtoModbus, Baud: baud, Addr: a})
		id, exc, err := ModbusIdentify(rw, windowbus.Addr(a), baud, s.busWait(5+2*modbusrtu.IdentityRegs, baud), s.o.Now)
		switch {
		case err == nil:
			return Finding{Device: DeviceBus, Address: a, Detail: busDetail("Modbus RTU", a, id)}, true
		case exc != 0:
			return Finding{Device: DeviceBus, Address: a,
				Detail: fmt.Sprintf("a Modbus RTU device at address %d refused the window-bus identity (exception %d): not a window terminal?", a, exc)}, true
		}
		time.Sleep(modbusrtu.Silence(baud))
	}
	return Finding{}, false
}

func tryVendor(ctx context.Context, s *scanner, p Port, rw io.ReadWriter, baud int) (Finding, bool) {
	for a := 1; a <= s.o.BusAddrs && ctx.Err() == nil; a++ {
		s.progress(Progress{Port: p.Name, Protocol: ProtoVendor, Baud: baud, Addr: a})
		id, err := VendorIdentify(rw, windowbus.Addr(a), baud, s.busWait(vendor.Overhead+vendor.IdentityLen, baud), s.o.Now)
		var ee *windowbus.ExceptionError
		switch {
		case err == nil:
			return Finding{Device: DeviceBus, Address: a, Detail: busDetail("vendor frame", a, id)}, true
		case errors.As(err, &ee):
			return Finding{Device: DeviceBus, Address: a,
				Detail: fmt.Sprintf("a vendor-frame device at address %d refused identify (error %d)", a, ee.Code)}, true
		}
		time.Sleep(vendor.Turnaround(baud))
	}
	return Finding{}, false
}

func busDetail(proto string, a int, id windowbus.Identity) string {
	return fmt.Sprintf("%s at address %d (%s bus): vendor %#04x model %d firmware %d.%d, text %d bytes",
		KindLabel(id.Kind), a, proto, id.Vendor, id.Model, id.Firmware>>8, id.Firmware&0xff, id.TextCap)
}

// KindLabel names a bus device kind for people.
func KindLabel(k windowbus.Kind) string {
	switch k {
	case windowbus.KindWindow:
		return "window terminal (keypad and LED bar)"
	case windowbus.KindHall:
		return "hall display"
	case windowbus.KindKeypad:
		return "keypad"
	case windowbus.KindBar:
		return "LED bar"
	}
	return fmt.Sprintf("bus device of kind %d", k)
}

// ModbusIdentify reads the identity block of the window-bus device at a
// with one FC04 request and waits up to wait for the reply. A device that
// answers with an exception returns its code (and an error); silence or a
// garbled reply returns an error matching serialio.ErrTimeout or a decode
// error.
func ModbusIdentify(rw io.ReadWriter, a windowbus.Addr, baud int, wait time.Duration, now func() time.Time) (windowbus.Identity, uint8, error) {
	req := modbusrtu.Request{Unit: uint8(a), Func: modbusrtu.FuncReadInput, Addr: modbusrtu.RegVendor, Count: modbusrtu.IdentityRegs}
	resp, err := ModbusTransact(rw, req, baud, wait, now)
	if err != nil {
		return windowbus.Identity{}, 0, err
	}
	if resp.Exception != 0 {
		return windowbus.Identity{}, resp.Exception, &windowbus.ExceptionError{Code: resp.Exception}
	}
	id, err := modbusrtu.DecodeIdentity(resp.Values)
	return id, 0, err
}

// ModbusTransact sends one Modbus RTU request and reads the reply of the
// same unit and function within wait (after the request's own airtime).
// Bytes that arrived before the request are discarded first.
func ModbusTransact(rw io.ReadWriter, req modbusrtu.Request, baud int, wait time.Duration, now func() time.Time) (modbusrtu.Response, error) {
	if now == nil {
		now = time.Now
	}
	frame, err := req.Encode()
	if err != nil {
		return modbusrtu.Response{}, err
	}
	serialio.Drain(rw, 5*time.Millisecond, now)
	if _, err := rw.Write(frame); err != nil {
		return modbusrtu.Response{}, fmt.Errorf("probe: write: %w", err)
	}
	deadline := now().Add(simwire.FrameTime(len(frame), baud, simwire.F8N1) + wait)
	buf := make([]byte, 0, 256)
	for {
		// The shortest reply (an exception) is 5 bytes; the header tells
		// the rest.
		need := 5
		if len(buf) >= 3 {
			n, err := modbusrtu.ResponseLen(buf)
			if err == nil {
				need = n
			} else if !errors.Is(err, modbusrtu.ErrIncomplete) {
				return modbusrtu.Response{}, err
			}
		}
		if len(buf) >= need {
			resp, _, err := modbusrtu.DecodeResponse(buf[:need])
			if err != nil {
				return modbusrtu.Response{}, err
			}
			if resp.Unit != req.Unit || resp.Func != req.Func {
				return modbusrtu.Response{}, fmt.Errorf("probe: reply from unit %d function %d", resp.Unit, resp.Func)
			}
			return resp, nil
		}
		if need > cap(buf) {
			return modbusrtu.Response{}, errors.New("probe: reply too long")
		}
		n, err := serialio.ReadFull(rw, buf[len(buf):need], deadline, now)
		buf = buf[:len(buf)+n]
		if err != nil {
			return modbusrtu.Response{}, err
		}
	}
}

// VendorIdentify asks the vendor-frame device at a to identify itself and
// waits up to wait for the reply. An error reply gives a
// *windowbus.ExceptionError.
func VendorIdentify(rw io.ReadWriter, a windowbus.Addr, baud int, wait time.Duration, now func() time.Time) (windowbus.Identity, error) {
	f, err := VendorTransact(rw, vendor.Frame{Addr: byte(a), Cmd: vendor.CmdIdentify}, baud, wait, now)
	if err != nil {
		return windowbus.Identity{}, err
	}
	return vendor.DecodeIdentity(f.Data)
}

// VendorTransact sends one vendor frame and reads the reply of the same
// address and command within wait (after the request's airtime). An error
// reply is returned as a *windowbus.ExceptionError.
func VendorTransact(rw io.ReadWriter, req vendor.Frame, baud int, wait time.Duration, now func() time.Time) (vendor.Frame, error) {
	if now == nil {
		now = time.Now
	}
	frame, err := req.Encode()
	if err != nil {
		return vendor.Frame{}, err
	}
	serialio.Drain(rw, 5*time.Millisecond, now)
	if _, err := rw.Write(frame); err != nil {
		return vendor.Frame{}, fmt.Errorf("probe: write: %w", err)
	}
	deadline := now().Add(simwire.FrameTime(len(frame), baud, simwire.F8N1) + wait)
	var buf []byte
	for {
		part, err := serialio.ReadUntil(rw, vendor.End, vendor.Overhead+vendor.MaxData, deadline, now)
		buf = append(buf, part...)
		if len(buf) > 2*(vendor.Overhead+vendor.MaxData) {
			return vendor.Frame{}, errors.New("probe: no frame in the reply")
		}
		for len(buf) > 0 {
			f, n, derr := vendor.Decode(buf)
			if errors.Is(derr, vendor.ErrIncomplete) {
				buf = buf[n:]
				break
			}
			if n == 0 {
				n = 1 // never stall on a decoder that consumed nothing
			}
			buf = buf[n:]
			if derr != nil || f.Addr != req.Addr {
				continue
			}
			switch f.Cmd {
			case req.Cmd | vendor.ReplyBit:
				return f, nil
			case req.Cmd | vendor.ErrorBits:
				code := uint8(0)
				if len(f.Data) > 0 {
					code = f.Data[0]
				}
				return vendor.Frame{}, &windowbus.ExceptionError{Code: code}
			}
		}
		if err != nil {
			return vendor.Frame{}, err
		}
	}
}
