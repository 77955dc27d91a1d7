package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"hallgw/firmware/serialport"
)

// Device kinds of a Finding.
const (
	DevicePrinter = "printer"
	DeviceUPS     = "ups"
	DeviceIDCard  = "idcard"
	DeviceBus     = "window-bus"
)

// Protocols of a Finding.
const (
	ProtoESCPOS = "escpos"
	ProtoQ1     = "megatec-q1"
	ProtoSAM    = "sam"
	ProtoModbus = "modbus"
	ProtoVendor = "vendor"
)

// Port is a serial port and its USB identity, when it has one.
type Port struct {
	Name    string `json:"port"`
	USB     bool   `json:"usb"`
	VID     string `json:"vid,omitempty"`
	PID     string `json:"pid,omitempty"`
	Serial  string `json:"serial,omitempty"`
	Product string `json:"product,omitempty"`
}

// USBID returns "vid:pid" or "vid:pid:serial", "" for a port without USB.
func (p Port) USBID() string {
	if !p.USB {
		return ""
	}
	id := strings.ToLower(p.VID + ":" + p.PID)
	if p.Serial != "" {
		id += ":" + p.Serial
	}
	return id
}

// ConfigName is how a configuration file should name the port: by USB
// identity when it has one (it survives replugging), else by path.
func (p Port) ConfigName() string {
	if id := p.USBID(); id != "" {
		return "usb:" + id
	}
	return p.Name
}

// Finding is what answered on a port; Device is "" when nothing did.
type Finding struct {
	Port
	Device   string `json:"device,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Baud     int    `json:"baud,omitempty"`
	// Address is the bus address that answered (window bus only).
	Address int    `json:"address,omitempty"`
	Detail  string `json:"detail"`
	// Error says why the port could not be probed (busy, no permission).
	Error string `json:"error,omitempty"`
}

// Progress says what is being tried.
type Progress struct {
	Port     string
	Protocol string
	Baud     int
	Addr     int // bus address, 0 for other protocols
	// Done ports of Ports are finished.
	Done, Ports int
}

// Opts configure a Scan. Zero fields take their defaults.
type Opts struct {
	// Ports are probed; empty means every port the enumerator lists.
	Ports []string
	// BusAddrs is the highest window-bus address tried (1…BusAddrs);
	// default 8, at most 247.
	BusAddrs int
	// Timeout bounds the wait for a reply once the request is on the
	// wire; the reply's own airtime is added (default 250 ms; the window
	// bus uses a fifth of it, its devices answer within 20 ms).
	Timeout time.Duration
	// Parallel is how many ports are probed at once (default 4).
	Parallel int
	// Open opens a port at a speed; nil means serialport.Open with a 10 ms
	// read timeout.
	Open func(name string, baud int) (io.ReadWriteCloser, error)
	// Enumerate lists the ports; nil means serialport.Enumerate.
	Enumerate func() ([]*enumerator.PortDetails, error)
	// Progress, when set, is called before every attempt (from the
	// goroutines probing the ports, one call at a time).
	Progress func(Progress)
	// Now is the clock of the reply deadlines; nil means time.Now.
	Now func() time.Time
}

func (o *Opts) defaults() error {
	if o.BusAddrs == 0 {
		o.BusAddrs = 8
	}
	if o.BusAddrs < 1 || o.BusAddrs > 247 {
		return fmt.Errorf("probe: bus addresses 1…%d: want 1…247", o.BusAddrs)
	}
	if o.Timeout == 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Timeout < 10*time.Millisecond || o.Timeout > 10*time.Second {
		return fmt.Errorf("probe: timeout %v: want 10ms…10s", o.Timeout)
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Open == nil {
		o.Open = func(name string, baud int) (io.ReadWriteCloser, error) {
			return serialport.Open(name, serialport.Mode{Baud: baud, ReadTimeout: 10 * time.Millisecond})
		}
	}
	if o.Enumerate == nil {
		o.Enumerate = serialport.Enumerate
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// ListPorts returns the serial ports the system has, sorted by name.
func ListPorts(enum func() ([]*enumerator.PortDetails, error)) ([]Port, error) {
	if enum == nil {
		enum = serialport.Enumerate
	}
	ds, err := enum()
	if err != nil {
		return nil, fmt.Errorf("probe: list ports: %w", err)
	}
	out := make([]Port, 0, len(ds))
	for _, d := range ds {
		out = append(out, Port{Name: d.Name, USB: d.IsUSB, VID: strings.ToLower(d.VID), PID: strings.ToLower(d.PID),
			Serial: d.SerialNumber, Product: d.Product})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Scan probes the ports and returns a finding for each, in port order.
// It returns early, with what it found so far, when ctx ends.
func Scan(ctx context.Context, o Opts) ([]Finding, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	known, lerr := ListPorts(o.Enumerate)
	var ports []Port
	if len(o.Ports) == 0 {
		if lerr != nil {
			return nil, lerr
		}
		ports = known
	} else {
		for _, name := range o.Ports {
			p := Port{Name: name}
			for _, k := range known {
				if k.Name == name {
					p = k
				}
			}
			ports = append(ports, p)
		}
	}
	out := make([]Finding, len(ports))
	s := &scanner{o: o, total: len(ports)}
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Finding{Port: p, Detail: "not probed", Error: ctx.Err().Error()}
				return
			}
			defer func() { <-sem }()
			out[i] = s.port(ctx, p)
			s.finish()
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

type scanner struct {
	o     Opts
	mu    sync.Mutex
	done  int
	total int
}

func (s *scanner) progress(p Progress) {
	if s.o.Progress == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Done, p.Ports = s.done, s.total
	s.o.Progress(p)
}

func (s *scanner) finish() {
	s.mu.Lock()
	s.done++
	s.mu.Unlock()
}

// ErrBusy matches a port that another process holds open.
var ErrBusy = errors.New("port busy: another program (the hallgw daemon?) has it open; stop it first (systemctl stop hallgw)")

// OpenError explains why a port could not be opened, matching ErrBusy when
// it is held by another process.
func OpenError(err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			return fmt.Errorf("%w (%v)", ErrBusy, err)
		case serial.PermissionDenied:
			return fmt.Errorf("no permission (run as root or join the dialout group): %w", err)
		}
	}
	return err
}

// port tries every protocol on p until one answers.
func (s *scanner) port(ctx context.Context, p Port) Finding {
	f := Finding{Port: p}
	for _, pr := range protocols {
		for _, baud := range pr.bauds {
			if ctx.Err() != nil {
				f.Detail, f.Error = "not probed", ctx.Err().Error()
				return f
			}
			rw, err := s.o.Open(p.Name, baud)
			if err != nil {
				err = OpenError(err)
				f.Detail, f.Error = "cannot open", err.Error()
				return f
			}
			found, ok := pr.try(ctx, s, p, rw, baud)
			rw.Close()
			if ok {
				found.Port, found.Protocol, found.Baud = p, pr.name, baud
				return found
			}
		}
	}
	f.Detail = "no known device answered"
	return f
}
