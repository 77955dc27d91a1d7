package probe

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// wire replays a device's reply: writes are kept, reads return the reply
// once a request was written and then nothing (as a port whose read
// timeout expires).
type wire struct {
	reply []byte
	r     *bytes.Reader
	w     bytes.Buffer
}

func newWire(reply []byte) *wire { return &wire{reply: reply} }

func (x *wire) Read(p []byte) (int, error) {
	if x.r == nil {
		return 0, nil
	}
	n, _ := x.r.Read(p)
	return n, nil
}

func (x *wire) Write(p []byte) (int, error) {
	if x.r == nil {
		x.r = bytes.NewReader(x.reply)
	}
	return x.w.Write(p)
}

// stepClock advances a millisecond at every reading, so deadlines pass
// without sleeping.
func stepClock() func() time.Time {
	t := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The worked frames of docs/window-bus.md.
const (
	modbusIdentifyReq   = "05 04 00 00 00 08 F0 48"
	modbusIdentifyReply = "05 04 10 12 34 00 01 01 02 00 01 00 01 00 10 00 40 2A 5C 2A 42"
	vendorIdentifyReq   = "FF 68 02 02 68 05 01 06 16"
	vendorIdentifyReply = "FF 68 0E 0E 68 05 81 12 34 00 01 01 02 01 01 10 40 2A 5C A8 16"
)

func TestIdentifyWorkedFrames(t *testing.T) {
	want := windowbus.Identity{Vendor: 0x1234, Model: 1, Firmware: 0x0102, Kind: windowbus.KindWindow, MapVersion: 1,
		FIFOSize: 16, TextCap: 64, Boot: 0x2A5C}
	tests := []struct {
		name     string
		req, rep string
		identify func(*wire) (windowbus.Identity, error)
	}{
		{"modbus", modbusIdentifyReq, modbusIdentifyReply, func(w *wire) (windowbus.Identity, error) {
			id, _, err := ModbusIdentify(w, 5, 9600, 50*time.Millisecond, stepClock())
			return id, err
		}},
		{"modbus with noise before", modbusIdentifyReq, "00 " + modbusIdentifyReply, nil},
		{"vendor", vendorIdentifyReq, vendorIdentifyReply, func(w *wire) (windowbus.Identity, error) {
			return VendorIdentify(w, 5, 9600, 50*time.Millisecond, stepClock())
		}},
		{"vendor with noise before", vendorIdentifyReq, "00 16 " + vendorIdentifyReply, func(w *wire) (windowbus.Identity, error) {
			return VendorIdentify(w, 5, 9600, 50*time.Millisecond, stepClock())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(unhex(t, tt.rep))
			if tt.identify == nil {
				// Modbus frames carry no start marker: a stray byte before
				// the reply makes it unreadable, and the probe says so.
				if _, _, err := ModbusIdentify(w, 5, 9600, 50*time.Millisecond, stepClock()); err == nil {
					t.Error("ModbusIdentify read a reply behind a stray byte")
				}
				return
			}
			id, err := tt.identify(w)
			if err != nil || id != want {
				t.Errorf("identify = %+v, %v, want %+v", id, err, want)
			}
			if got := w.w.Bytes(); !bytes.Equal(got, unhex(t, tt.req)) {
				t.Errorf("request = % X, want %s", got, tt.req)
			}
		})
	}
	w := newWire(exceptionReply(t))
	if _, exc, err := ModbusIdentify(w, 5, 9600, 50*time.Millisecond, stepClock()); exc != modbusrtu.ExIllegalAddress || err == nil {
		t.Errorf("exception reply: code %d, %v, want 2", exc, err)
	}
}

func exceptionReply(t testing.TB) []byte {
	b, err := modbusrtu.Response{Unit: 5, Func: modbusrtu.FuncReadInput, Exception: modbusrtu.ExIllegalAddress}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzModbusReply feeds any reply to the Modbus identify: it must return,
// never panic, and accept only a reply of the unit asked.
func FuzzModbusReply(f *testing.F) {
	f.Add(unhex(f, modbusIdentifyReply))
	f.Add(exceptionReply(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, reply []byte) {
		w := newWire(reply)
		id, exc, err := ModbusIdentify(w, 5, 9600, 20*time.Millisecond, stepClock())
		if err == nil && (exc != 0 || len(reply) < 5 || reply[0] != 5) {
			t.Fatalf("ModbusIdentify(% X) = %+v, exception %d, accepted", reply, id, exc)
		}
	})
}

// FuzzVendorReply does the same for the vendor identify.
func FuzzVendorReply(f *testing.F) {
	f.Add(unhex(f, vendorIdentifyReply))
	f.Add(unhex(f, "FF 68 03 03 68 05 C1 01 C7 16"))
	f.Add(unhex(f, "16 16 68 0E 0E 68"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		w := newWire(reply)
		id, err := VendorIdentify(w, 5, 9600, 20*time.Millisecond, stepClock())
		if err == nil && !bytes.Contains(reply, []byte{0x68, 0x05, vendor.CmdIdentify | vendor.ReplyBit}) {
			t.Fatalf("VendorIdentify(% X) = %+v, accepted a reply that is not the device's", reply, id)
		}
	})
}
