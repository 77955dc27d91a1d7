package bussim

import (
	"bytes"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// FuzzParseRequest feeds arbitrary bytes, in arbitrary pieces, to the
// emulator's request framer and handlers. The first byte picks the protocol
// (even: Modbus, odd: vendor) and the second the piece size. Framing must
// account for every byte exactly once, and every reply must be a valid
// frame of the protocol.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte{0, 3, 0x05, 0x04, 0x00, 0x10, 0x00, 0x01, 0x31, 0x8B})
	f.Add([]byte{1, 4, 0xFF, 0x68, 0x02, 0x02, 0x68, 0x05, 0x02, 0x07, 0x16})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		proto := "modbus"
		if in[0]%2 == 1 {
			proto = "vendor"
		}
		piece := int(in[1])%16 + 1
		stream := in[2:]
		s, err := New(&bytes.Buffer{}, Opts{Protocol: proto, Terminals: []windowbus.Addr{5, 6}, Displays: []windowbus.Addr{201}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Press(5, windowbus.KeyCall, 0)
		fr := newFramer(proto)
		framed := 0
		handle := func(f frame) {
			framed += len(f.raw)
			s.mu.Lock()
			var reply []byte
			if proto == "modbus" {
				_, reply = s.modbus(f, time.Now())
			} else {
				_, reply = s.vendor(f, time.Now())
			}
			s.changes = nil
			s.mu.Unlock()
			if reply == nil {
				return
			}
			var n int
			var err error
			if proto == "modbus" {
				_, n, err = modbusrtu.DecodeResponse(reply)
			} else {
				_, n, err = vendor.Decode(reply)
			}
			if err != nil || n != len(reply) {
				t.Fatalf("reply % X to % X: %d bytes, %v", reply, f.raw, n, err)
			}
		}
		for i := 0; i < len(stream); i += piece {
			end := i + piece
			if end > len(stream) {
				end = len(stream)
			}
			fr.feed(stream[i:end])
			for {
				f, ok := fr.next()
				if !ok {
					break
				}
				handle(f)
			}
		}
		if f, ok := fr.flush(); ok {
			handle(f)
		}
		if framed != len(stream) || fr.pending() != 0 {
			t.Fatalf("framed %d of %d bytes, %d left", framed, len(stream), fr.pending())
		}
	})
}
