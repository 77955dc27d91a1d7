package modbusrtu

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/simonvetter/modbus"

	"periph.io/x/conn/v3"

	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/internal/rxpump"
)

// Protocol is Modbus RTU with the window-bus register map. The zero value is
// ready to use.
type Protocol struct{}

var _ windowbus.Protocol = Protocol{}

// Name returns "modbus".
func (Protocol) Name() string { return "modbus" }

// Open returns a Link over rw; see the package documentation for how it
// drives github.com/simonvetter/modbus.
func (Protocol) Open(rw io.ReadWriter, o windowbus.LinkOpts) (windowbus.Link, error) {
	return Open(rw, o)
}

// Airtime returns the wire time of op at baud with 8N1 characters and the
// inter-frame silence t3.5 after every frame (3.5 characters, or 1.75 ms
// above 19200 baud).
func (Protocol) Airtime(op windowbus.Op, n, baud int) time.Duration {
	var d time.Duration
	for _, f := range frames(op, n) {
		d += simwire.FrameTime(f, baud, simwire.F8N1) + Silence(baud)
	}
	return d
}

// frames returns the sizes of the frames op puts on the wire, requests and
// replies alternately.
func frames(op windowbus.Op, n int) []int {
	switch op {
	case windowbus.OpPoll:
		return []int{8, 7}
	case windowbus.OpReadKeys:
		if n > WindowEntries {
			n = WindowEntries
		}
		return []int{8, 7, 8, 5 + 2*(KeyHeaderRegs+EntryRegs*n)}
	case windowbus.OpAck, windowbus.OpBeep:
		return []int{8, 8}
	case windowbus.OpShow:
		return []int{9 + 2*(1+(n+1)/2), 8}
	case windowbus.OpConfigure:
		return []int{9 + 2*MaxSettingRegs, 8}
	case windowbus.OpIdentify, windowbus.OpCounters:
		return []int{8, 5 + 2*IdentityRegs}
	}
	return nil
}

// Silence returns the Modbus RTU inter-frame delay t3.5 at baud.
func Silence(baud int) time.Duration {
	if baud > 19200 {
		return 1750 * time.Microsecond
	}
	return simwire.FrameTime(35, baud, simwire.F8N1) / 10
}

// Link is the master side of the window bus in Modbus RTU.
type Link struct {
	o    windowbus.LinkOpts
	rw   io.ReadWriter
	pump *rxpump.Pump

	mu       sync.Mutex
	clients  map[time.Duration]*client
	owner    *client // client whose request is on the wire
	unit     byte    // its unit identifier
	rx       []byte  // reply bytes received so far
	complete bool    // a whole reply frame went to the owner
	sent     bool    // …in the current transaction
	stray    uint64
	fatal    error
	halted   bool
}

// client is one simonvetter/modbus RTU client and the bridge end of its
// socket.
type client struct {
	mc      *modbus.ModbusClient
	conn    net.Conn // our end
	timeout time.Duration
}

var (
	_ windowbus.Link = (*Link)(nil)
	_ conn.Resource  = (*Link)(nil)
)

// Open starts a Link over rw.
func Open(rw io.ReadWriter, o windowbus.LinkOpts) (*Link, error) {
	if rw == nil {
		return nil, errors.New("modbusrtu: nil port")
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	l := &Link{o: o, rw: rw, clients: map[time.Duration]*client{}}
	l.pump = rxpump.Start(rw)
	go l.receive()
	return l, nil
}

// String describes the link.
func (l *Link) String() string { return fmt.Sprintf("modbusrtu(%d baud)", l.o.Baud) }

// Halt stops the link's goroutines and closes the library clients. The
// port stays open; the goroutine reading it ends with its current Read.
func (l *Link) Halt() error {
	l.mu.Lock()
	l.halted = true
	cs := l.clients
	l.clients = map[time.Duration]*client{}
	l.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	l.pump.Stop()
	return nil
}

// StrayBytes counts received bytes that were not part of a reply.
func (l *Link) StrayBytes() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stray
}

// Timeout classes: the library applies one timeout per client, so there is
// a client for short transactions, one for key reads and one for text.
func (l *Link) timeout(reqChars, replyChars int) time.Duration {
	// The library paces itself with 11-bit characters and waits t3.5
	// before and after the request inside its deadline.
	t35 := 35 * simwire.CharTime(l.o.Baud, simwire.Framing{DataBits: 8, StopBits: 2}) / 10
	if l.o.Baud > 19200 {
		t35 = 1750 * time.Microsecond
	}
	return l.o.ReplyTimeout + simwire.FrameTime(reqChars+replyChars, l.o.Baud, simwire.Framing{DataBits: 8, StopBits: 2}) + 3*t35
}

func (l *Link) shortTimeout() time.Duration { return l.timeout(9+2*MaxSettingRegs, 5+2*IdentityRegs) }
func (l *Link) keysTimeout() time.Duration  { return l.timeout(8, 5+2*KeyBlockRegs) }
func (l *Link) textTimeout() time.Duration  { return l.timeout(9+2*(1+MaxTextRegs), 8) }

// do runs one library call as a transaction to unit a.
func (l *Link) do(op string, a windowbus.Addr, timeout time.Duration, call func(*modbus.ModbusClient) error) error {
	c, err := l.client(timeout)
	if err != nil {
		return err
	}
	if err := c.mc.SetUnitId(uint8(a)); err != nil {
		return fmt.Errorf("modbusrtu: %s %d: %w", op, a, err)
	}
	err = call(c.mc)
	l.mu.Lock()
	sent := l.sent
	l.owner, l.rx, l.sent, l.complete = nil, nil, false, false
	fatal, halted := l.fatal, l.halted
	l.mu.Unlock()
	if err == nil {
		return nil
	}
	switch {
	case halted:
		return fmt.Errorf("modbusrtu: %s %d: link halted: %w", op, a, windowbus.ErrDisconnected)
	case fatal != nil:
		return fmt.Errorf("modbusrtu: %s %d: %w: %w", op, a, windowbus.ErrDisconnected, fatal)
	}
	if sent && isTimeout(err) {
		// A reply reached the socket after the library gave up: it would be
		// read as the answer to the next request. Start afresh.
		l.drop(c)
	}
	return fmt.Errorf("modbusrtu: %s %d: %w", op, a, l.classify(err, c))
}

// classify maps a library error to the windowbus errors.
func (l *Link) classify(err error, c *client) error {
	switch {
	case isTimeout(err):
		return fmt.Errorf("%w (%v)", windowbus.ErrTimeout, err)
	case errors.Is(err, modbus.ErrBadCRC):
		return fmt.Errorf("%w (%v)", windowbus.ErrChecksum, err)
	case errors.Is(err, modbus.ErrProtocolError), errors.Is(err, modbus.ErrShortFrame), errors.Is(err, modbus.ErrBadUnitId):
		return fmt.Errorf("%w (%v)", windowbus.ErrGarbled, err)
	}
	exc := map[error]uint8{
		modbus.ErrIllegalFunction: 0x01, modbus.ErrIllegalDataAddress: 0x02, modbus.ErrIllegalDataValue: 0x03,
		modbus.ErrServerDeviceFailure: 0x04, modbus.ErrAcknowledge: 0x05, modbus.ErrServerDeviceBusy: 0x06,
		modbus.ErrMemoryParityError: 0x08, modbus.ErrGWPathUnavailable: 0x0A, modbus.ErrGWTargetFailedToRespond: 0x0B,
	}
	for e, code := range exc {
		if errors.Is(err, e) {
			return &windowbus.ExceptionError{Code: code}
		}
	}
	// Anything else is the socket to the library failing under us.
	l.drop(c)
	return fmt.Errorf("%w (%v)", windowbus.ErrGarbled, err)
}

func isTimeout(err error) bool {
	return errors.Is(err, modbus.ErrRequestTimedOut) || os.IsTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded)
}

// Identify reads the identity block with FC04.
func (l *Link) Identify(a windowbus.Addr) (windowbus.Identity, error) {
	var r []uint16
	err := l.do("identify", a, l.shortTimeout(), func(mc *modbus.ModbusClient) (err error) {
		r, err = mc.ReadRegisters(RegVendor, IdentityRegs, modbus.INPUT_REGISTER)
		return err
	})
	if err != nil {
		return windowbus.Identity{}, err
	}
	id, err := DecodeIdentity(r)
	if err != nil {
		return id, fmt.Errorf("modbusrtu: identify %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	return id, nil
}

// PollKeys reads the FIFO count with FC04 and, when presses wait, the FIFO
// header and the entries with a second FC04.
func (l *Link) PollKeys(a windowbus.Addr) (windowbus.KeyState, error) {
	var r []uint16
	err := l.do("poll", a, l.shortTimeout(), func(mc *modbus.ModbusClient) (err error) {
		r, err = mc.ReadRegisters(RegKeyCount, 1, modbus.INPUT_REGISTER)
		return err
	})
	if err != nil {
		return windowbus.KeyState{}, err
	}
	ks, err := DecodeKeys(r)
	if err != nil {
		return ks, fmt.Errorf("modbusrtu: poll %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	n := ks.Pending
	if n == 0 {
		return ks, nil
	}
	if n > WindowEntries {
		n = WindowEntries
	}
	err = l.do("read keys", a, l.keysTimeout(), func(mc *modbus.ModbusClient) (err error) {
		r, err = mc.ReadRegisters(RegKeyCount, uint16(KeyHeaderRegs+EntryRegs*n), modbus.INPUT_REGISTER)
		return err
	})
	if err != nil {
		return windowbus.KeyState{}, err
	}
	ks, err = DecodeKeys(r)
	if err != nil {
		return ks, fmt.Errorf("modbusrtu: read keys %d: %w: %w", a, windowbus.ErrGarbled, err)
	}
	return ks, nil
}

// Ack writes the acknowledge register with FC06.
func (l *Link) Ack(a windowbus.Addr, seq uint16) error {
	return l.do("ack", a, l.shortTimeout(), func(mc *modbus.ModbusClient) error {
		return mc.WriteRegister(HoldAck, seq)
	})
}

// Show writes the text length and bytes with one FC16.
func (l *Link) Show(a windowbus.Addr, text []byte) error {
	if len(text) > windowbus.MaxText {
		return fmt.Errorf("modbusrtu: show %d: text of %d bytes over %d", a, len(text), windowbus.MaxText)
	}
	return l.do("show", a, l.textTimeout(), func(mc *modbus.ModbusClient) error {
		return mc.WriteRegisters(HoldTextLen, PackText(text))
	})
}

// Beep writes the beep register with FC06.
func (l *Link) Beep(a windowbus.Addr, b windowbus.Beep) error {
	return l.do("beep", a, l.shortTimeout(), func(mc *modbus.ModbusClient) error {
		return mc.WriteRegister(HoldBeep, BeepReg(b))
	})
}

// Configure writes mode, brightness and blink with one FC16.
func (l *Link) Configure(a windowbus.Addr, s windowbus.Settings) error {
	return l.do("configure", a, l.shortTimeout(), func(mc *modbus.ModbusClient) error {
		return mc.WriteRegisters(HoldMode, SettingRegs(s))
	})
}

// Counters reads the health counter block with FC04.
func (l *Link) Counters(a windowbus.Addr) (windowbus.Counters, error) {
	var r []uint16
	err := l.do("counters", a, l.shortTimeout(), func(mc *modbus.ModbusClient) (err error) {
		r, err = mc.ReadRegisters(RegFramesOK, CounterRegs, modbus.INPUT_REGISTER)
		return err
	})
	if err != nil {
		return windowbus.Counters{}, err
	}
	return DecodeCounters(r)
}

// client returns the library client for a timeout, creating it on first
// use.
func (l *Link) client(timeout time.Duration) (*client, error) {
	l.mu.Lock()
	if l.halted {
		l.mu.Unlock()
		return nil, fmt.Errorf("modbusrtu: link halted: %w", windowbus.ErrDisconnected)
	}
	if l.fatal != nil {
		err := l.fatal
		l.mu.Unlock()
		return nil, fmt.Errorf("modbusrtu: %w: %w", windowbus.ErrDisconnected, err)
	}
	c := l.clients[timeout]
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := l.dial(timeout)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.halted {
		c.close()
		return nil, fmt.Errorf("modbusrtu: link halted: %w", windowbus.ErrDisconnected)
	}
	l.clients[timeout] = c
	return c, nil
}

// dial connects a new library client to the bridge. The library's RTU
// client opens serial devices by name only; its "rtuovertcp" mode runs the
// same RTU transport (framing, CRC, t3.5 pacing, reply sizing) over a
// socket, which the bridge connects to the port it was given. The listener
// lives on the loopback interface only for the one accept.
func (l *Link) dial(timeout time.Duration) (*client, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("modbusrtu: bridge: %w", err)
	}
	defer ln.Close()
	mc, err := modbus.NewClient(&modbus.ClientConfiguration{
		URL:     "rtuovertcp://" + ln.Addr().String(),
		Speed:   uint(l.o.Baud),
		Timeout: timeout,
		Logger:  log.New(io.Discard, "", 0),
	})
	if err != nil {
		return nil, fmt.Errorf("modbusrtu: client: %w", err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	if err := mc.Open(); err != nil {
		return nil, fmt.Errorf("modbusrtu: client: %w", err)
	}
	var conn net.Conn
	select {
	case conn = <-accepted:
	case <-time.After(5 * time.Second):
	}
	if conn == nil {
		mc.Close()
		return nil, errors.New("modbusrtu: bridge: library did not connect")
	}
	c := &client{mc: mc, conn: conn, timeout: timeout}
	go l.transmit(c)
	return c, nil
}

// drop closes a client whose socket may hold stale bytes; the next call
// with its timeout dials a new one.
func (l *Link) drop(c *client) {
	l.mu.Lock()
	if l.clients[c.timeout] == c {
		delete(l.clients, c.timeout)
	}
	l.mu.Unlock()
	c.close()
}

func (c *client) close() {
	c.mc.Close()
	c.conn.Close()
}

// transmit copies the library's requests to the port. Each request starts
// a transaction: bytes that arrived before it are stale and dropped.
func (l *Link) transmit(c *client) {
	buf := make([]byte, MaxFrame)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.owner != c {
			l.stray += uint64(len(l.rx) + len(l.pump.Take()))
			l.owner, l.unit, l.rx, l.sent, l.complete = c, buf[0], nil, false, false
		}
		l.mu.Unlock()
		if _, err := l.rw.Write(buf[:n]); err != nil {
			l.fail(fmt.Errorf("modbusrtu: write: %w", err))
			return
		}
	}
}

// receive passes each reply frame, whole, to the client whose request is
// on the wire and counts everything else as stray.
func (l *Link) receive() {
	for {
		select {
		case <-l.pump.Signal():
		case <-l.pump.Stopped():
			return
		}
		if err := l.pump.Err(); err != nil {
			l.fail(fmt.Errorf("modbusrtu: read: %w", err))
			return
		}
		l.mu.Lock()
		l.accept(l.pump.Take())
		l.mu.Unlock()
	}
}

// accept handles received bytes; l.mu is held.
func (l *Link) accept(b []byte) {
	if l.owner == nil || l.complete {
		l.stray += uint64(len(b))
		return
	}
	l.rx = append(l.rx, b...)
	// Noise before the reply: skip to the unit identifier asked for.
	for len(l.rx) > 0 && l.rx[0] != l.unit {
		l.rx = l.rx[1:]
		l.stray++
	}
	n, err := ResponseLen(l.rx)
	switch {
	case errors.Is(err, ErrIncomplete):
		return
	case err != nil:
		// Not sizable: let the library see it and report the error.
		n = len(l.rx)
	case len(l.rx) < n:
		return
	}
	l.stray += uint64(len(l.rx) - n)
	l.owner.conn.SetWriteDeadline(time.Now().Add(time.Second))
	l.owner.conn.Write(l.rx[:n])
	l.rx, l.complete, l.sent = nil, true, true
}

// fail records a port failure and closes the library sockets so that a
// call in progress returns at once.
func (l *Link) fail(err error) {
	l.mu.Lock()
	if l.fatal == nil {
		l.fatal = err
	}
	var cs []*client
	for _, c := range l.clients {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	for _, c := range cs {
		c.conn.Close()
	}
}
