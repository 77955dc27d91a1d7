package simwire

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

func TestFrameTime(t *testing.T) {
	tests := []struct {
		name string
		n    int
		baud int
		f    Framing
		want time.Duration
	}{
		{"one char 9600 8N1", 1, 9600, F8N1, 1041666 * time.Nanosecond},
		{"modbus read 8 bytes 9600", 8, 9600, F8N1, 8333333 * time.Nanosecond},
		{"8E1 adds a bit", 1, 9600, Framing{DataBits: 8, Parity: true, StopBits: 1}, 1145833 * time.Nanosecond},
		{"115200", 10, 115200, F8N1, 868055 * time.Nanosecond},
		{"zero baud", 10, 0, F8N1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FrameTime(tt.n, tt.baud, tt.f); got != tt.want {
				t.Errorf("FrameTime(%d, %d) = %v, want %v", tt.n, tt.baud, got, tt.want)
			}
		})
	}
}

func TestPTYRoundTripRaw(t *testing.T) {
	p, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	drv, err := os.OpenFile(p.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	// Bytes that a cooked terminal would mangle: CR, LF, ^C, DEL, 0xFF.
	msg := []byte{0x0D, 0x0A, 0x03, 0x7F, 0xFF, 'A'}
	if _, err := drv.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(p.Master, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("master read %x, want %x", got, msg)
	}
	if _, err := p.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(drv, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("slave read %x, want %x", got, msg)
	}
}

func TestLineSerialises(t *testing.T) {
	l := NewLine(9600)
	start := time.Now()
	end1 := l.Occupy(10)
	end2 := l.Occupy(10)
	// The second frame cannot start before the first has finished.
	if gap := end2.Sub(end1); gap < FrameTime(10, 9600, F8N1) {
		t.Errorf("second frame ended %v after the first, want at least one frame time", gap)
	}
	if end1.Before(start.Add(FrameTime(10, 9600, F8N1))) {
		t.Errorf("first frame ended before its wire time")
	}
}

func TestPTYCloseInterruptsRead(t *testing.T) {
	p, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	drv, err := os.OpenFile(p.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	done := make(chan error, 1)
	go func() {
		_, err := p.Master.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the reader block
	p.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read after Close returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not interrupt a pending Read while the driver held the slave open")
	}
}
