package serialport

import (
	"errors"
	"fmt"
	"io"
	"strings"
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
	p, err := serial.Open(path, m)
	if err != nil {
		var pe *serial.PortError
		if errors.As(err, &pe) && pe.Code() == serial.PortNotFound {
			return nil, fmt.Errorf("serialport: open %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("serialport: open %s: %w", path, err)
	}
	rt := mode.ReadTimeout
	if rt == 0 {
		rt = 50 * time.Millisecond
	}
	if err := p.SetReadTimeout(rt); err != nil {
		p.Close()
		return nil, fmt.Errorf("serialport: %s: set read timeout: %w", path, err)
	}
	return &port{Port: p, name: path}, nil
}

type port struct {
	serial.Port
	name string
}

func (p *port) Name() string { return p.name }

// Read returns an error once the device has gone: go.bug.st/serial reports
// a vanished device as a (0, nil) read forever on some kernels, so a read
// error of any kind is passed up for the supervisor to reopen the port.
func (p *port) Read(b []byte) (int, error) { return p.Port.Read(b) }
