// Package probetest puts device emulators on pseudo-terminals that behave
// like serial lines at one speed, for the tests of `hallgw probe` and
// `hallgw selftest`.
//
// A pseudo-terminal ignores the baud rate, so an emulator on a plain pty
// answers whatever speed the driver set. Gate looks at the speed the driver
// gave the line (the termios of the pty, which the master side shares) each
// time bytes arrive, and passes them on only when it is the device's own:
// as on a real UART, a request sent at the wrong speed never reaches the
// device as a request, so the device stays silent.
package probetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/drivers/simwire"
	"hallgw/drivers/ups/upssim"
	"hallgw/drivers/windowbus/bussim"
)

var bauds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600, 19200: unix.B19200,
	38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
}

// Gate is the device side of a line at one speed: reads return only bytes
// that were sent at Baud.
type Gate struct {
	master *os.File
	want   uint32
	mu     sync.Mutex
	drops  int
}

// NewGate wraps a pty master for a device at baud.
func NewGate(master *os.File, baud int) (*Gate, error) {
	b, ok := bauds[baud]
	if !ok {
		return nil, fmt.Errorf("probetest: baud %d not supported", baud)
	}
	return &Gate{master: master, want: b}, nil
}

// Read returns the next bytes sent at the gate's speed; bytes sent at
// another are dropped.
func (g *Gate) Read(p []byte) (int, error) {
	for {
		n, err := g.master.Read(p)
		if n > 0 && !g.matches() {
			g.mu.Lock()
			g.drops += n
			g.mu.Unlock()
			if err != nil {
				return 0, err
			}
			continue
		}
		return n, err
	}
}

// Write sends the device's reply.
func (g *Gate) Write(p []byte) (int, error) { return g.master.Write(p) }

// Dropped returns how many bytes arrived at a wrong speed.
func (g *Gate) Dropped() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.drops
}

func (g *Gate) matches() bool {
	t, err := unix.IoctlGetTermios(int(g.master.Fd()), unix.TCGETS)
	return err == nil && t.Cflag&unix.CBAUD == g.want
}

// Line is an emulated device on a gated pseudo-terminal.
type Line struct {
	Path string
	Baud int
	Gate *Gate
	pty  *simwire.PTY
}

// open makes a gated pty and stops it with the test.
func open(t testing.TB, baud int, serve func(ctx context.Context, rw io.ReadWriter)) *Line {
	t.Helper()
	p, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGate(p.Master, baud)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(ctx, g)
	}()
	t.Cleanup(func() {
		cancel()
		p.Close()
		<-done
	})
	return &Line{Path: p.Path, Baud: baud, Gate: g, pty: p}
}

// Printer starts an ESC/POS printer emulator at baud.
func Printer(t testing.TB, baud int, o escpossim.Opts) (*Line, *escpossim.Printer) {
	t.Helper()
	o.Baud = baud
	var p *escpossim.Printer
	ready := make(chan struct{})
	l := open(t, baud, func(ctx context.Context, rw io.ReadWriter) {
		p = escpossim.New(rw, o)
		close(ready)
		p.Run(ctx)
	})
	<-ready
	return l, p
}

// UPS starts a Megatec Q1 UPS emulator (2400 baud unless cfg says
// otherwise).
func UPS(t testing.TB, cfg upssim.Config) (*Line, *upssim.Sim) {
	t.Helper()
	if cfg.Baud == 0 {
		cfg.Baud = 2400
	}
	sim, err := upssim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := open(t, cfg.Baud, func(ctx context.Context, rw io.ReadWriter) { sim.Serve(ctx, rw) })
	return l, sim
}

// IDCard starts an ID-card reader emulator at baud.
func IDCard(t testing.TB, baud int) (*Line, *idcardsim.Sim) {
	t.Helper()
	sim, err := idcardsim.New(&idcardsim.Opts{Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	l := open(t, baud, func(ctx context.Context, rw io.ReadWriter) { sim.Serve(rw) })
	return l, sim
}

// Bus starts a window bus at baud with the devices of o (o.Baud is set
// to baud; o.Protocol is "modbus" or "vendor").
func Bus(t testing.TB, baud int, o bussim.Opts) (*Line, *bussim.Sim) {
	t.Helper()
	o.Baud = baud
	if o.Seed == 0 {
		o.Seed = 7
	}
	var sim *bussim.Sim
	ready := make(chan error, 1)
	l := open(t, baud, func(ctx context.Context, rw io.ReadWriter) {
		s, err := bussim.New(rw, o)
		if err != nil {
			ready <- err
			return
		}
		sim = s
		ready <- nil
		s.Run(ctx)
	})
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	return l, sim
}

// Silent is a pty nobody answers on.
func Silent(t testing.TB) *Line {
	t.Helper()
	return open(t, 9600, func(ctx context.Context, rw io.ReadWriter) {
		buf := make([]byte, 256)
		for ctx.Err() == nil {
			if _, err := rw.Read(buf); err != nil {
				return
			}
		}
	})
}
