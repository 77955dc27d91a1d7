package bussim

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// newTestSim returns a Sim without wire pacing whose handlers the tests
// call directly.
func newTestSim(t *testing.T, proto string) (*Sim, *[]Change) {
	t.Helper()
	var changes []Change
	s, err := New(&bytes.Buffer{}, Opts{Protocol: proto, Terminals: []windowbus.Addr{5, 6}, Displays: []windowbus.Addr{201}, Seed: 1,
		OnShow: func(c Change) { changes = append(changes, c) }})
	if err != nil {
		t.Fatal(err)
	}
	return s, &changes
}

// mb sends one Modbus request to the sim and decodes its reply; ok is false
// when nobody answers.
func mb(t *testing.T, s *Sim, req modbusrtu.Request) (modbusrtu.Response, bool) {
	t.Helper()
	raw, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return mbRaw(t, s, raw, false)
}

func mbRaw(t *testing.T, s *Sim, raw []byte, silent bool) (modbusrtu.Response, bool) {
	t.Helper()
	s.mu.Lock()
	d, reply := s.modbus(frame{raw: raw, silent: silent}, time.Now())
	if d != nil && reply != nil {
		reply = s.misbehave(d, reply)
	}
	changes := s.changes
	s.changes = nil
	s.mu.Unlock()
	for _, c := range changes {
		s.o.OnShow(c)
	}
	if reply == nil {
		return modbusrtu.Response{}, false
	}
	resp, n, err := modbusrtu.DecodeResponse(reply)
	if err != nil || n != len(reply) {
		t.Fatalf("reply % X: %v", reply, err)
	}
	return resp, true
}

func read(unit byte, fn byte, addr, count uint16) modbusrtu.Request {
	return modbusrtu.Request{Unit: unit, Func: fn, Addr: addr, Count: count}
}

func write(unit byte, addr uint16, values ...uint16) modbusrtu.Request {
	fn := modbusrtu.FuncWriteMultiple
	if len(values) == 1 {
		fn = modbusrtu.FuncWriteSingle
	}
	return modbusrtu.Request{Unit: unit, Func: fn, Addr: addr, Values: values}
}

func TestModbusRequests(t *testing.T) {
	s, changes := newTestSim(t, "modbus")
	boot := s.devs[5].id.Boot
	text, _ := windowbus.EncodeText("A012 请到5号窗口")
	tests := []struct {
		name   string
		before func()
		req    modbusrtu.Request
		want   modbusrtu.Response
	}{
		{"identity", nil, read(5, 4, 0, 8),
			modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{Vendor, ModelWindow, Firmware, 1, 1, 16, 64, boot}}},
		{"status after power-up", nil, read(5, 4, 0x10, 1), modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{0x8000}}},
		{"press counted", func() { s.Press(5, windowbus.KeyTransfer, 0x8003) }, read(5, 4, 0x10, 1),
			modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{0x8001}}},
		{"ack ahead refused", nil, write(5, 0x100, 2), modbusrtu.Response{Unit: 5, Func: 6, Exception: 3}},
		{"ack", nil, write(5, 0x100, 1), modbusrtu.Response{Unit: 5, Func: 6, Addr: 0x100, Values: []uint16{1}}},
		{"FIFO empty", nil, read(5, 4, 0x10, 3), modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{0x8000, 1, boot}}},
		{"show", nil, modbusrtu.Request{Unit: 5, Func: 16, Addr: 0x110, Values: modbusrtu.PackText(text)},
			modbusrtu.Response{Unit: 5, Func: 16, Addr: 0x110, Count: 9}},
		{"restarted cleared", nil, read(5, 4, 0x10, 1), modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{0}}},
		{"text read back", nil, read(5, 3, 0x110, 3), modbusrtu.Response{Unit: 5, Func: 3, Values: []uint16{16, 0x4130, 0x3132}}},
		{"text over capacity", nil, write(5, 0x110, 65), modbusrtu.Response{Unit: 5, Func: 6, Exception: 3}},
		{"settings", nil, write(5, 0x101, 1, 80, 500), modbusrtu.Response{Unit: 5, Func: 16, Addr: 0x101, Count: 3}},
		{"settings read back", nil, read(5, 3, 0x101, 3), modbusrtu.Response{Unit: 5, Func: 3, Values: []uint16{1, 80, 500}}},
		{"brightness out of range", nil, write(5, 0x102, 101), modbusrtu.Response{Unit: 5, Func: 6, Exception: 3}},
		{"beep", nil, write(5, 0x104, 0x020A), modbusrtu.Response{Unit: 5, Func: 6, Addr: 0x104, Values: []uint16{0x020A}}},
		{"read across a gap", nil, read(5, 4, 0x06, 4), modbusrtu.Response{Unit: 5, Func: 4, Exception: 2}},
		{"write to a hole", nil, write(5, 0x105, 1), modbusrtu.Response{Unit: 5, Func: 6, Exception: 2}},
		{"text past capacity registers", nil, write(5, 0x111+32, 1), modbusrtu.Response{Unit: 5, Func: 6, Exception: 2}},
		{"hall display has no FIFO", nil, read(201, 4, 0x10, 1), modbusrtu.Response{Unit: 201, Func: 4, Exception: 2}},
		{"hall display has no ack", nil, write(201, 0x100, 0), modbusrtu.Response{Unit: 201, Func: 6, Exception: 2}},
		{"counters", nil, read(5, 4, 0x40, 4), modbusrtu.Response{Unit: 5, Func: 4, Values: []uint16{18, 0, 6, 0}}}, // this request included
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			got, ok := mb(t, s, tt.req)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reply to %+v = %+v (answered %v), want %+v", tt.req, got, ok, tt.want)
			}
		})
	}
	st, _ := s.State(5)
	if st.Text != "A012 请到5号窗口" || st.Settings != (windowbus.Settings{Mode: 1, Brightness: 80, Blink: 500 * time.Millisecond}) ||
		len(st.Beeps) != 1 || st.Beeps[0] != (windowbus.Beep{Count: 2, Length: 100 * time.Millisecond}) {
		t.Errorf("state = %+v", st)
	}
	if len(*changes) != 1 || (*changes)[0].Addr != 5 || (*changes)[0].Text != "A012 请到5号窗口" {
		t.Errorf("changes = %+v, want one for terminal 5", *changes)
	}
}

func TestModbusKeyEntries(t *testing.T) {
	s, _ := newTestSim(t, "modbus")
	boot := s.devs[5].id.Boot
	s.Press(5, windowbus.KeyCall, 0)
	s.Press(5, windowbus.KeyRate3, 0)
	got, _ := mb(t, s, read(5, 4, 0x10, 11))
	want := []uint16{0x8002, 0, boot, 1, 0, 1, got.Values[6], 0x13, 0, 2, got.Values[10]}
	if !reflect.DeepEqual(got.Values, want) {
		t.Errorf("FIFO = %#04x, want %#04x", got.Values, want)
	}
	ks, err := modbusrtu.DecodeKeys(got.Values)
	if err != nil || len(ks.Entries) != 2 {
		t.Fatalf("DecodeKeys = %+v, %v", ks, err)
	}
	// Acknowledging the first leaves the second at the head.
	mb(t, s, write(5, 0x100, 1))
	got, _ = mb(t, s, read(5, 4, 0x10, 7))
	if got.Values[0]&0xFF != 1 || got.Values[3] != 0x13 || got.Values[5] != 2 {
		t.Errorf("FIFO after ack = %#04x", got.Values)
	}
	// A repeated or stale ack changes nothing.
	if r, ok := mb(t, s, write(5, 0x100, 1)); !ok || r.Exception != 0 {
		t.Errorf("repeated ack = %+v", r)
	}
	if st, _ := s.State(5); st.Pending != 1 || st.Acked != 1 {
		t.Errorf("state after repeated ack = %+v", st)
	}
}

func TestModbusFramingFaults(t *testing.T) {
	s, _ := newTestSim(t, "modbus")
	ok := read(5, 4, 0, 1)
	raw, _ := ok.Encode()
	bad := append([]byte(nil), raw...)
	bad[7] ^= 1
	if _, answered := mbRaw(t, s, bad, false); answered {
		t.Error("answered a frame with a bad CRC")
	}
	// A CRC-valid frame of an unknown function, framed by silence.
	if r, answered := mbRaw(t, s, modbusrtu.AppendCRC([]byte{5, 0x2B, 0x0E, 0x01, 0x00}), true); !answered || r.Exception != 1 {
		t.Errorf("unknown function: %+v, answered %v; want exception 1", r, answered)
	}
	if _, answered := mbRaw(t, s, []byte{1, 2, 3}, true); answered {
		t.Error("answered noise")
	}
	if _, answered := mb(t, s, read(9, 4, 0, 1)); answered {
		t.Error("an absent address answered")
	}
	st, _ := s.State(5)
	if st.Counters.ChecksumErrors != 1 || st.Counters.BadFrames != 1 {
		t.Errorf("counters = %+v, want 1 CRC error, 1 bad frame", st.Counters)
	}
	if s.Junk() != 3 {
		t.Errorf("junk = %d, want 3", s.Junk())
	}
}

func TestFaults(t *testing.T) {
	s, _ := newTestSim(t, "modbus")
	req := read(5, 4, 0x10, 1)
	s.SetFault(5, Fault{Mute: true})
	if _, answered := mb(t, s, req); answered {
		t.Error("a muted device answered")
	}
	s.SetFault(5, Fault{DropReplies: 1})
	s.Press(5, windowbus.KeyCall, 0)
	if _, answered := mb(t, s, write(5, 0x100, 1)); answered {
		t.Error("the dropped reply was sent")
	}
	if st, _ := s.State(5); st.Pending != 0 {
		t.Error("the request whose reply was dropped was not applied")
	}
	if _, answered := mb(t, s, req); !answered {
		t.Error("no reply after the dropped one")
	}
	s.SetFault(5, Fault{Garble: true})
	raw, _ := req.Encode()
	s.mu.Lock()
	d, reply := s.modbus(frame{raw: raw}, time.Now())
	reply = s.misbehave(d, reply)
	s.mu.Unlock()
	if modbusrtu.CheckCRC(reply) {
		t.Errorf("garbled reply % X has a good CRC", reply)
	}
	s.SetFault(5, Fault{Noise: 4})
	s.mu.Lock()
	d, reply = s.modbus(frame{raw: raw}, time.Now())
	reply = s.misbehave(d, reply)
	s.mu.Unlock()
	if len(reply) != 7+4 {
		t.Errorf("reply with noise is %d bytes, want 11", len(reply))
	}
	if err := s.SetFault(9, Fault{}); err == nil {
		t.Error("SetFault(absent) = nil, want an error")
	}
}

func TestBroadcastAndReboot(t *testing.T) {
	s, changes := newTestSim(t, "modbus")
	text, _ := windowbus.EncodeText("暂停服务")
	if _, answered := mb(t, s, modbusrtu.Request{Unit: 0, Func: 16, Addr: 0x110, Values: modbusrtu.PackText(text)}); answered {
		t.Error("a broadcast was answered")
	}
	for _, a := range []windowbus.Addr{5, 6, 201} {
		if got := s.Text(a); got != "暂停服务" {
			t.Errorf("Text(%d) = %q after broadcast", a, got)
		}
	}
	if len(*changes) != 3 {
		t.Errorf("%d changes reported, want 3", len(*changes))
	}
	boot := s.devs[5].id.Boot
	s.Press(5, windowbus.KeyCall, 0)
	s.Reboot(5)
	st, _ := s.State(5)
	if st.Identity.Boot == boot || st.Text != "" || st.Pending != 0 || !st.Restarted || st.LastSeq != 0 {
		t.Errorf("state after reboot = %+v", st)
	}
}

func TestPressLimits(t *testing.T) {
	s, _ := newTestSim(t, "modbus")
	if _, _, err := s.Press(201, windowbus.KeyCall, 0); err == nil {
		t.Error("Press on a hall display = nil error")
	}
	for i := 0; i < 16; i++ {
		if _, _, err := s.Press(6, windowbus.KeyCall, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Press(6, windowbus.KeyCall, 0); err == nil {
		t.Error("Press on a full FIFO = nil error")
	}
	if st, _ := s.State(6); st.Counters.Overflows != 1 {
		t.Errorf("overflows = %d, want 1", st.Counters.Overflows)
	}
}

// vd sends one vendor frame and decodes the reply.
func vd(t *testing.T, s *Sim, f vendor.Frame) (vendor.Frame, bool) {
	t.Helper()
	raw, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	_, reply := s.vendor(frame{raw: raw}, time.Now())
	s.changes = nil
	s.mu.Unlock()
	if reply == nil {
		return vendor.Frame{}, false
	}
	r, n, err := vendor.Decode(reply)
	if err != nil || n != len(reply) {
		t.Fatalf("reply % X: %v", reply, err)
	}
	return r, true
}

func TestVendorCommands(t *testing.T) {
	s, _ := newTestSim(t, "vendor")
	boot := s.devs[5].id.Boot
	s.Press(5, windowbus.KeySkip, 0)
	text, _ := windowbus.EncodeText("A012 请到5号窗口")
	tests := []struct {
		name string
		req  vendor.Frame
		cmd  byte
		data []byte
	}{
		{"identify", vendor.Frame{Addr: 5, Cmd: vendor.CmdIdentify}, 0x81,
			vendor.EncodeIdentity(windowbus.Identity{Vendor: Vendor, Model: ModelWindow, Firmware: Firmware, Kind: 1, MapVersion: 1, FIFOSize: 16, TextCap: 64, Boot: boot})},
		{"identify with data", vendor.Frame{Addr: 5, Cmd: vendor.CmdIdentify, Data: []byte{1}}, 0xC1, []byte{vendor.ErrCodeLength}},
		{"ack ahead", vendor.Frame{Addr: 5, Cmd: vendor.CmdAck, Data: []byte{0, 9}}, 0xC3, []byte{vendor.ErrCodeValue}},
		{"ack", vendor.Frame{Addr: 5, Cmd: vendor.CmdAck, Data: []byte{0, 1}}, 0x83, nil},
		{"poll empty, restarted", vendor.Frame{Addr: 5, Cmd: vendor.CmdPoll}, 0x82, []byte{0x80}},
		{"text", vendor.Frame{Addr: 5, Cmd: vendor.CmdText, Data: text}, 0x84, nil},
		{"poll empty", vendor.Frame{Addr: 5, Cmd: vendor.CmdPoll}, 0x82, []byte{0}},
		{"text too long", vendor.Frame{Addr: 5, Cmd: vendor.CmdText, Data: make([]byte, 65)}, 0xC4, []byte{vendor.ErrCodeValue}},
		{"beep", vendor.Frame{Addr: 5, Cmd: vendor.CmdBeep, Data: []byte{1, 20}}, 0x85, nil},
		{"beep too many", vendor.Frame{Addr: 5, Cmd: vendor.CmdBeep, Data: []byte{16, 20}}, 0xC5, []byte{vendor.ErrCodeValue}},
		{"configure", vendor.Frame{Addr: 5, Cmd: vendor.CmdConfigure, Data: []byte{2, 40, 0x01, 0xF4}}, 0x86, nil},
		{"configure short", vendor.Frame{Addr: 5, Cmd: vendor.CmdConfigure, Data: []byte{2}}, 0xC6, []byte{vendor.ErrCodeLength}},
		{"unknown", vendor.Frame{Addr: 5, Cmd: 0x33}, 0xF3, []byte{vendor.ErrCodeCommand}},
		{"hall display cannot be polled", vendor.Frame{Addr: 201, Cmd: vendor.CmdPoll}, 0xC2, []byte{vendor.ErrCodeCommand}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := vd(t, s, tt.req)
			if !ok || got.Cmd != tt.cmd || !bytes.Equal(got.Data, tt.data) {
				t.Errorf("reply to %+v = %+v (answered %v), want cmd %#02x data % X", tt.req, got, ok, tt.cmd, tt.data)
			}
		})
	}
	st, _ := s.State(5)
	if st.Text != "A012 请到5号窗口" || st.Settings.Mode != windowbus.ModeClosed || st.Settings.Blink != 500*time.Millisecond || len(st.Beeps) != 1 {
		t.Errorf("state = %+v", st)
	}
}
