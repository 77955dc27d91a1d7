package modbusrtu

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/internal/docframes"
)

// scriptPort is a device that answers each expected request with a fixed
// reply and fails the test on anything else.
type scriptPort struct {
	t      *testing.T
	mu     sync.Mutex
	steps  [][2][]byte // request, reply
	got    []byte      // request bytes received so far
	rx     chan []byte
	closed chan struct{}
	once   sync.Once
}

func newScriptPort(t *testing.T, steps [][2][]byte) *scriptPort {
	p := &scriptPort{t: t, steps: steps, rx: make(chan []byte, len(steps)), closed: make(chan struct{})}
	t.Cleanup(p.Close)
	return p
}

func (p *scriptPort) Write(b []byte) (int, error) {
	select {
	case <-p.closed:
		return 0, io.ErrClosedPipe
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, b...)
	if len(p.steps) == 0 {
		p.t.Errorf("unexpected request % X", p.got)
		p.got = nil
		return len(b), nil
	}
	want := p.steps[0][0]
	if len(p.got) < len(want) {
		return len(b), nil
	}
	if !bytes.Equal(p.got, want) {
		p.t.Errorf("request = % X, want % X", p.got, want)
	}
	p.rx <- p.steps[0][1]
	p.steps, p.got = p.steps[1:], nil
	return len(b), nil
}

func (p *scriptPort) Read(b []byte) (int, error) {
	select {
	case d := <-p.rx:
		return copy(b, d), nil
	case <-p.closed:
		return 0, io.EOF
	}
}

func (p *scriptPort) Close() { p.once.Do(func() { close(p.closed) }) }

func (p *scriptPort) left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.steps)
}

// TestLinkSpeaksTheDocument drives the Link, and so the simonvetter/modbus
// client, through every operation of the document's worked examples: the
// library must put exactly the document's request bytes on the wire, and the
// document's replies must decode to the values described there.
func TestLinkSpeaksTheDocument(t *testing.T) {
	frames, err := docframes.Read(docPath, "modbus")
	if err != nil {
		t.Fatal(err)
	}
	var steps [][2][]byte
	for i := 0; i+1 < len(frames); i += 2 {
		if !frames[i].Request || frames[i+1].Request {
			t.Fatalf("document line %d: frames do not alternate request, reply", frames[i].Line)
		}
		steps = append(steps, [2][]byte{frames[i].Bytes, frames[i+1].Bytes})
	}
	port := newScriptPort(t, steps)
	l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Halt()

	id, err := l.Identify(5)
	wantID := windowbus.Identity{Vendor: 0x1234, Model: 1, Firmware: 0x0102, Kind: windowbus.KindWindow, MapVersion: 1, FIFOSize: 16, TextCap: 64, Boot: 0x2A5C}
	if err != nil || id != wantID {
		t.Errorf("Identify = %+v, %v; want %+v", id, err, wantID)
	}
	if ks, err := l.PollKeys(5); err != nil || !reflect.DeepEqual(ks, windowbus.KeyState{}) {
		t.Errorf("PollKeys(idle) = %+v, %v; want empty", ks, err)
	}
	if ks, err := l.PollKeys(5); err != nil || !reflect.DeepEqual(ks, windowbus.KeyState{Restarted: true}) {
		t.Errorf("PollKeys(restarted) = %+v, %v; want restarted", ks, err)
	}
	ks, err := l.PollKeys(5)
	wantKS := windowbus.KeyState{Pending: 1, Synced: true, Acked: 0x10, Boot: 0x2A5C,
		Entries: []windowbus.Entry{{Key: windowbus.KeyTransfer, Arg: windowbus.ArgService | 3, Seq: 0x11, Age: 100 * time.Millisecond}}}
	if err != nil || !reflect.DeepEqual(ks, wantKS) {
		t.Errorf("PollKeys(press) = %+v, %v; want %+v", ks, err, wantKS)
	}
	if err := l.Ack(5, 0x11); err != nil {
		t.Errorf("Ack = %v", err)
	}
	text, _ := windowbus.EncodeText("A012 请到5号窗口")
	if err := l.Show(5, text); err != nil {
		t.Errorf("Show = %v", err)
	}
	if err := l.Show(201, text); err != nil {
		t.Errorf("Show(hall) = %v", err)
	}
	if err := l.Beep(5, windowbus.Beep{Count: 2, Length: 100 * time.Millisecond}); err != nil {
		t.Errorf("Beep = %v", err)
	}
	if err := l.Configure(5, windowbus.Settings{Mode: windowbus.ModePaused, Brightness: 80}); err != nil {
		t.Errorf("Configure = %v", err)
	}
	c, err := l.Counters(5)
	wantC := windowbus.Counters{FramesOK: 8000, ChecksumErrors: 2, BadFrames: 1, Uptime: 24 * time.Hour}
	if err != nil || c != wantC {
		t.Errorf("Counters = %+v, %v; want %+v", c, err, wantC)
	}
	err = l.Ack(5, 0x30)
	var exc *windowbus.ExceptionError
	if !errors.As(err, &exc) || exc.Code != ExIllegalValue {
		t.Errorf("Ack(never issued) = %v, want exception 3", err)
	}
	if n := port.left(); n != 0 {
		t.Errorf("%d scripted exchanges left over", n)
	}
}

// TestLinkErrors checks how wire faults reach the caller.
func TestLinkErrors(t *testing.T) {
	poll := []byte{0x05, 0x04, 0x00, 0x10, 0x00, 0x01, 0x31, 0x8B}
	tests := []struct {
		name  string
		reply []byte
		want  error
		stray uint64
	}{
		{"silence", nil, windowbus.ErrTimeout, 0},
		{"bad CRC", []byte{0x05, 0x04, 0x02, 0x00, 0x00, 0x48, 0xF1}, windowbus.ErrChecksum, 0},
		// A reply from another unit is noise to this transaction.
		{"other unit", AppendCRC([]byte{0x06, 0x04, 0x02, 0x00, 0x00}), windowbus.ErrTimeout, 7},
		{"reserved bits", AppendCRC([]byte{0x05, 0x04, 0x02, 0x01, 0x00}), windowbus.ErrGarbled, 0},
		{"unsizable", AppendCRC([]byte{0x05, 0x2B, 0x00}), windowbus.ErrGarbled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := newScriptPort(t, [][2][]byte{{poll, tt.reply}})
			l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Halt()
			if _, err := l.PollKeys(5); !errors.Is(err, tt.want) {
				t.Errorf("PollKeys = %v, want %v", err, tt.want)
			}
			if s := l.StrayBytes(); s != tt.stray {
				t.Errorf("StrayBytes = %d, want %d", s, tt.stray)
			}
		})
	}
}

// TestLinkDisconnected: a port whose reads fail makes every call fail with
// ErrDisconnected.
func TestLinkDisconnected(t *testing.T) {
	port := newScriptPort(t, nil)
	l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Halt()
	port.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := l.PollKeys(5)
		if errors.Is(err, windowbus.ErrDisconnected) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PollKeys = %v, want ErrDisconnected", err)
		}
	}
}

// TestStrayBytesAndLateReply: bytes arriving between transactions are
// counted and never taken for the next reply.
func TestStrayBytesAndLateReply(t *testing.T) {
	poll := []byte{0x05, 0x04, 0x00, 0x10, 0x00, 0x01, 0x31, 0x8B}
	idle := []byte{0x05, 0x04, 0x02, 0x00, 0x00, 0x48, 0xF0}
	// The first reply comes with 3 bytes of trailing noise.
	port := newScriptPort(t, [][2][]byte{{poll, append(append([]byte(nil), idle...), 1, 2, 3)}, {poll, idle}})
	l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Halt()
	for i := 0; i < 2; i++ {
		if ks, err := l.PollKeys(5); err != nil || ks.Pending != 0 {
			t.Fatalf("poll %d = %+v, %v", i, ks, err)
		}
	}
	if s := l.StrayBytes(); s != 3 {
		t.Errorf("StrayBytes = %d, want 3", s)
	}
}
