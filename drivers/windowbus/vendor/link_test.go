package vendor

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

// scriptPort answers each expected request with a fixed reply.
type scriptPort struct {
	t      *testing.T
	mu     sync.Mutex
	steps  [][2][]byte
	got    []byte
	rx     chan []byte
	closed chan struct{}
	once   sync.Once
}

func newScriptPort(t *testing.T, steps [][2][]byte) *scriptPort {
	p := &scriptPort{t: t, steps: steps, rx: make(chan []byte, len(steps)+1), closed: make(chan struct{})}
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
	if want := p.steps[0][0]; len(p.got) >= len(want) {
		if !bytes.Equal(p.got, want) {
			p.t.Errorf("request = % X, want % X", p.got, want)
		}
		if p.steps[0][1] != nil {
			p.rx <- p.steps[0][1]
		}
		p.steps, p.got = p.steps[1:], nil
	}
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

// TestLinkSpeaksTheDocument runs every operation of the document's vendor
// examples through the Link.
func TestLinkSpeaksTheDocument(t *testing.T) {
	frames, err := docframes.Read(docPath, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	var steps [][2][]byte
	for i := 0; i+1 < len(frames); i += 2 {
		steps = append(steps, [2][]byte{frames[i].Bytes, frames[i+1].Bytes})
	}
	port := newScriptPort(t, steps)
	l, err := Open(port, windowbus.LinkOpts{Baud: 9600, ReplyTimeout: time.Second})
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
		t.Errorf("PollKeys(idle) = %+v, %v", ks, err)
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
	if err := l.Beep(5, windowbus.Beep{Count: 2, Length: 100 * time.Millisecond}); err != nil {
		t.Errorf("Beep = %v", err)
	}
	if err := l.Configure(5, windowbus.Settings{Mode: windowbus.ModePaused, Brightness: 80}); err != nil {
		t.Errorf("Configure = %v", err)
	}
	c, err := l.Counters(5)
	if want := (windowbus.Counters{FramesOK: 8000, ChecksumErrors: 2, BadFrames: 1, Uptime: 24 * time.Hour}); err != nil || c != want {
		t.Errorf("Counters = %+v, %v; want %+v", c, err, want)
	}
	var exc *windowbus.ExceptionError
	if err := l.Ack(5, 0x30); !errors.As(err, &exc) || exc.Code != ErrCodeValue {
		t.Errorf("Ack(never issued) = %v, want error 3", err)
	}
}

func TestLinkErrors(t *testing.T) {
	poll := []byte{0xFF, 0x68, 0x02, 0x02, 0x68, 0x05, 0x02, 0x07, 0x16}
	tests := []struct {
		name  string
		reply []byte
		want  error
		stray uint64
	}{
		{"silence", nil, windowbus.ErrTimeout, 0},
		{"bad sum", []byte{0xFF, 0x68, 0x03, 0x03, 0x68, 0x05, 0x82, 0x00, 0x88, 0x16}, windowbus.ErrChecksum, 10},
		// Not the reply asked for (a late one, another device's): skipped.
		{"other address", []byte{0xFF, 0x68, 0x03, 0x03, 0x68, 0x06, 0x82, 0x00, 0x88, 0x16}, windowbus.ErrTimeout, 10},
		{"wrong command", []byte{0xFF, 0x68, 0x03, 0x03, 0x68, 0x05, 0x81, 0x00, 0x86, 0x16}, windowbus.ErrTimeout, 10},
		{"late reply first", []byte{0xFF, 0x68, 0x03, 0x03, 0x68, 0x06, 0x82, 0x00, 0x88, 0x16, 0xFF, 0x68, 0x03, 0x03, 0x68, 0x05, 0x82, 0x00, 0x87, 0x16}, nil, 10},
		{"noise around", []byte{0x00, 0x68, 0xFF, 0x68, 0x03, 0x03, 0x68, 0x05, 0x82, 0x00, 0x87, 0x16, 0xAA}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := newScriptPort(t, [][2][]byte{{poll, tt.reply}})
			l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Halt()
			_, err = l.PollKeys(5)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Errorf("PollKeys = %v, want %v", err, tt.want)
			}
			if s := l.StrayBytes(); s != tt.stray {
				t.Errorf("StrayBytes = %d, want %d", s, tt.stray)
			}
		})
	}
}

func TestLinkDisconnected(t *testing.T) {
	port := newScriptPort(t, nil)
	l, err := Open(port, windowbus.LinkOpts{Baud: 115200, ReplyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Halt()
	port.Close()
	if _, err := l.PollKeys(5); !errors.Is(err, windowbus.ErrDisconnected) {
		t.Errorf("PollKeys = %v, want ErrDisconnected", err)
	}
}
