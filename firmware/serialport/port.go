package serialport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// Mode is the line setting of a port.
type Mode struct {
	Baud     int
	DataBits int  // 0 means 8
	Parity   byte // 'N', 'E' or 'O'; 0 means 'N'
	StopBits int  // 0 means 1
	// ReadTimeout bounds each Read call, so that drivers' deadline loops
	// wake up; 0 means 50 ms.
	ReadTimeout time.Duration
}

// Port is an open serial port.
type Port interface {
	io.ReadWriteCloser
	// Name is the device path the port was opened at.
	Name() string
}

// Enumerate lists the serial ports the system has, with their USB identity
// when there is one. It is a variable so tests can replace it.
var Enumerate = func() ([]*enumerator.PortDetails, error) {
	return enumerator.GetDetailedPortsList()
}

// Resolve turns a port name into a device path. Plain paths are returned
// unchanged. "usb:VID:PID" and "usb:VID:PID:SERIAL" (hex, case-insensitive)
// match the first port with that identity.
func Resolve(name string) (string, error) {
	if !strings.HasPrefix(name, "usb:") {
		return name, nil
	}
	parts := strings.Split(strings.TrimPrefix(name, "usb:"), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return "", fmt.Errorf("serialport: %q: want usb:VID:PID or usb:VID:PID:SERIAL", name)
	}
	ports, err := Enumerate()
	if err != nil {
		return "", fmt.Errorf("serialport: enumerate: %w", err)
	}
	for _, p := range ports {
		if !p.IsUSB || !strings.EqualFold(p.VID, parts[0]) || !strings.EqualFold(p.PID, parts[1]) {
			continue
		}
		if len(parts) == 3 && p.SerialNumber != parts[2] {
			continue
		}
		return p.Name, nil
	}
	return "", fmt.Errorf("serialport: no port matches %s: %w", name, ErrNotFound)
}

// ErrNotFound is returned when a named or USB-identified port does not exist.
var ErrNotFound = errors.New("port not found")

// Open resolves name and opens it with mode.
func Open(name string, mode Mode) (Port, error) {
	path, err := Resolve(name)
	if err != nil {
		return nil, err
	}
	m := &serial.Mode{BaudRate: mode.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	if mode.DataBits != 0 {
		m.DataBits = mode.DataBits
	}
	switch mode.Parity {
	case 0, 'N', 'n':
	case 'E', 'e':
		m.Parity = serial.EvenParity
	case 'O', 'o':
		m.Parity = serial.OddParity
	default:
		return nil, fmt.Errorf("serialport: %s: parity %q: want N, E or O", name, mode.Parity)
	}
	if mode.StopBits == 2 {
		m.StopBits = serial.TwoStopBits
	}
	// The port is opened twice: go.bug.st/serial sets the line up (raw
	// mode, speed, framing, exclusive use) and the second, non-blocking
	// descriptor carries the bytes through the Go runtime's poller. Its
	// own Read blocks a thread in select(2) for every read timeout, and
	// those blocking calls keep the runtime's monitor thread waking every
	// 20 µs to take their processor back: a hall of idle ports spent
	// several percent of a core on that alone. Termios settings belong to
	// the device, so both descriptors see the same line. The second open
	// comes first, before the exclusive-use flag is set.
	f, ferr := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	p, err := serial.Open(path, m)
	if err != nil {
		if f != nil {
			f.Close()
		}
		var pe *serial.PortError
		if errors.As(err, &pe) && pe.Code() == serial.PortNotFound {
			return nil, fmt.Errorf("serialport: open %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("serialport: open %s: %w", path, err)
	}
	if ferr != nil {
		p.Close()
		return nil, fmt.Errorf("serialport: open %s: %w", path, ferr)
	}
	rt := mode.ReadTimeout
	if rt == 0 {
		rt = 50 * time.Millisecond
	}
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		// A device the poller cannot wait on: use go.bug.st/serial's
		// own reads.
		f.Close()
		if err := p.SetReadTimeout(rt); err != nil {
			p.Close()
			return nil, fmt.Errorf("serialport: %s: set read timeout: %w", path, err)
		}
		return &port{ctl: p, name: path, timeout: rt}, nil
	}
	return &port{ctl: p, f: f, name: path, timeout: rt}, nil
}

// port is an open serial port: ctl is the go.bug.st/serial port that set
// the line up, f the descriptor bytes travel through (nil when the device
// cannot be polled and ctl carries them too).
type port struct {
	ctl     serial.Port
	f       *os.File
	name    string
	timeout time.Duration
}

func (p *port) Name() string { return p.name }

// Read waits up to the port's read timeout for bytes and returns (0, nil)
// when none came, as drivers expect of a serial port. A device that has
// gone (a USB adapter pulled out) reads as end of file or an I/O error:
// both are returned as errors for the supervisor to reopen the port.
func (p *port) Read(b []byte) (int, error) {
	if p.f == nil {
		return p.ctl.Read(b)
	}
	if err := p.f.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, fmt.Errorf("serialport: %s: %w", p.name, err)
	}
	n, err := p.f.Read(b)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case errors.Is(err, io.EOF):
		return n, fmt.Errorf("serialport: %s: the device has gone: %w", p.name, io.ErrUnexpectedEOF)
	}
	return n, fmt.Errorf("serialport: %s: %w", p.name, err)
}

// Write writes b to the port.
func (p *port) Write(b []byte) (int, error) {
	if p.f == nil {
		return p.ctl.Write(b)
	}
	n, err := p.f.Write(b)
	if err != nil {
		return n, fmt.Errorf("serialport: %s: %w", p.name, err)
	}
	return n, nil
}

// Close closes both descriptors; a Read in progress returns an error.
func (p *port) Close() error {
	var err error
	if p.f != nil {
		err = p.f.Close()
	}
	if cerr := p.ctl.Close(); err == nil {
		err = cerr
	}
	return err
}
