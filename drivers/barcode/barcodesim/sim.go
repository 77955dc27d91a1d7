package barcodesim

import (
	"fmt"
	"io"
	"sync"

	"hallgw/drivers/simwire"
)

// Opts configures the emulated scanner.
type Opts struct {
	Baud   int    // paces the bytes; 0 sends at once
	Suffix string // ends every scan; CR by default, as scanners leave the factory
	Prefix string // sent before every scan
	AIM    string // AIM symbology identifier sent after the prefix, e.g. "]Q1"
}

// DefaultOpts is a 9600-baud scanner ending scans with CR.
var DefaultOpts = Opts{Baud: 9600, Suffix: "\r"}

// Sim is an emulated scanner. Its methods are safe for concurrent use.
type Sim struct {
	o    Opts
	line *simwire.Line
	mu   sync.Mutex
	w    io.Writer
	pty  *simwire.PTY
}

// New returns a scanner that writes its scans to w. o may be nil for
// DefaultOpts.
func New(w io.Writer, o *Opts) (*Sim, error) {
	opts := DefaultOpts
	if o != nil {
		opts = *o
	}
	if opts.Baud < 0 {
		return nil, fmt.Errorf("barcodesim: baud %d", opts.Baud)
	}
	return &Sim{o: opts, line: simwire.NewLine(opts.Baud), w: w}, nil
}

// Start returns a scanner on a new pseudo-terminal; the driver opens Path.
func Start(o *Opts) (*Sim, error) {
	p, err := simwire.OpenPTY()
	if err != nil {
		return nil, err
	}
	s, err := New(p, o)
	if err != nil {
		p.Close()
		return nil, err
	}
	s.pty = p
	return s, nil
}

// Path is the device the driver opens, or "" without a pseudo-terminal.
func (s *Sim) Path() string {
	if s.pty == nil {
		return ""
	}
	return s.pty.Path
}

// Close closes the pseudo-terminal.
func (s *Sim) Close() error {
	if s.pty == nil {
		return nil
	}
	return s.pty.Close()
}

// Scan sends one code, framed as configured.
func (s *Sim) Scan(data string) error {
	return s.SendRaw([]byte(s.o.Prefix + s.o.AIM + data + s.o.Suffix))
}

// SendRaw sends bytes as they are, for garbled lines and line noise.
func (s *Sim) SendRaw(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.line.Occupy(len(b))
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("barcodesim: %w", err)
	}
	return nil
}
