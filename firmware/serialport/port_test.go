package serialport

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial/enumerator"

	"hallgw/drivers/serialio"
	"hallgw/drivers/simwire"
)

func TestResolve(t *testing.T) {
	old := Enumerate
	defer func() { Enumerate = old }()
	Enumerate = func() ([]*enumerator.PortDetails, error) {
		return []*enumerator.PortDetails{
			{Name: "/dev/ttyS0"},
			{Name: "/dev/ttyUSB3", IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: "P1"},
			{Name: "/dev/ttyUSB4", IsUSB: true, VID: "1a86", PID: "7523", SerialNumber: "P2"},
		}, nil
	}
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"plain path", "/dev/ttyS1", "/dev/ttyS1", false},
		{"vid pid", "usb:1a86:7523", "/dev/ttyUSB3", false},
		{"vid pid serial", "usb:1a86:7523:P2", "/dev/ttyUSB4", false},
		{"absent", "usb:0403:6001", "", true},
		{"malformed", "usb:1a86", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestOpenPTY(t *testing.T) {
	pt, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	p, err := Open(pt.Path, Mode{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write([]byte("Q1\r")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(pt.Master, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "Q1\r" {
		t.Fatalf("emulator got %q", got)
	}
	pt.Write([]byte("(ok\r"))
	line, err := serialio.ReadUntil(p, '\r', 64, time.Now().Add(5*time.Second), nil)
	if err != nil || !bytes.Equal(line, []byte("(ok\r")) {
		t.Fatalf("ReadUntil = %q, %v", line, err)
	}
	// A silent device times out rather than blocking.
	_, err = serialio.ReadFull(p, make([]byte, 1), time.Now().Add(200*time.Millisecond), nil)
	if !errors.Is(err, serialio.ErrTimeout) {
		t.Fatalf("silent read err = %v, want timeout", err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open("/dev/does-not-exist-hallgw", Mode{Baud: 9600})
	if err == nil {
		t.Fatal("Open of a missing port succeeded")
	}
}

func TestVanishedDeviceIsAnError(t *testing.T) {
	// A USB adapter pulled out looks like a pseudo-terminal whose master
	// has closed: reads must fail, not return (0, nil) forever, so that
	// the supervisor reopens the port.
	pt, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(pt.Path, Mode{Baud: 9600, ReadTimeout: 10 * time.Millisecond})
	if err != nil {
		pt.Close()
		t.Fatal(err)
	}
	defer p.Close()
	pt.Close()
	buf := make([]byte, 16)
	for i := 0; ; i++ {
		n, err := p.Read(buf)
		if err != nil {
			if !strings.Contains(err.Error(), pt.Path) {
				t.Errorf("the error %q does not name the port", err)
			}
			break
		}
		if n == 0 && i > 100 {
			t.Fatal("a vanished device still reads as (0, nil)")
		}
	}
	if _, err := p.Write([]byte("x")); err == nil {
		t.Error("a write to a vanished device succeeded")
	}
}

func TestCloseEndsARead(t *testing.T) {
	pt, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	p, err := Open(pt.Path, Mode{Baud: 9600, ReadTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		done <- err
	}()
	p.Close()
	if err := <-done; err == nil {
		t.Error("a read cut off by Close returned no error")
	}
}
