package bussim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// Identity values the emulated devices report. Vendor codes 0xFF00–0xFFFF
// are kept for test equipment (docs/window-bus.md).
const (
	Vendor        uint16 = 0xFFFE
	ModelWindow   uint16 = 0x0001
	ModelHall     uint16 = 0x0002
	Firmware      uint16 = 0x0100
	WindowTextCap        = 64
	HallTextCap          = windowbus.MaxText
)

// Opts configures a Sim.
type Opts struct {
	// Baud paces every byte on the wire; 0 turns pacing off (unit tests of
	// the protocol logic only).
	Baud int
	// Protocol is "modbus" (the default) or "vendor".
	Protocol string
	// Terminals are keypad/bar devices (KindWindow), Displays hall
	// displays (KindHall).
	Terminals, Displays []windowbus.Addr
	// FIFOSize is each terminal's key FIFO capacity; 0 means 16.
	FIFOSize int
	// OnShow is called, on the serving goroutine, each time a device's
	// text is written; Change.At is the moment the write crossed the wire.
	// It holds up the bus while it runs, so it must be quick.
	OnShow func(Change)
	// Trace, when set, sees every frame received (rx) and sent.
	Trace func(rx bool, frame []byte)
	// Seed makes boot numbers reproducible; 0 picks them at random.
	Seed uint64
}

// Change reports a text written to a device.
type Change struct {
	Addr windowbus.Addr
	Text string
	At   time.Time
}

// Fault makes a device misbehave.
type Fault struct {
	Mute        bool // offline: hears nothing, answers nothing
	DropReplies int  // handle the next n requests but lose their replies
	Garble      bool // corrupt a byte in every reply
	Noise       int  // append n junk bytes after every reply
}

// State is a snapshot of one emulated device.
type State struct {
	Identity   windowbus.Identity
	Text       string
	TextBytes  []byte
	Settings   windowbus.Settings
	Beeps      []windowbus.Beep // every beep requested, oldest first
	Pending    int              // presses in the FIFO
	Restarted  bool             // display not written since power-up
	Acked      uint16
	LastSeq    uint16 // last press number issued
	Counters   windowbus.Counters
	Requests   int // frames addressed to it and handled
	TextWrites int
}

// Sim is a bus full of emulated devices.
type Sim struct {
	rw    io.ReadWriter
	o     Opts
	proto string
	line  *simwire.Line
	gap   time.Duration // reply delay: t3.5 or the vendor turnaround

	mu      sync.Mutex
	devs    map[windowbus.Addr]*device
	rng     *rand.Rand
	junk    uint64   // bytes that could not be framed at all
	changes []Change // texts written by the frame being handled
}

// device is one emulated terminal or display.
type device struct {
	id        windowbus.Identity
	restarted bool // powered up, display not written since
	fifo      []press
	lastSeq   uint16
	acked     uint16
	textRegs  []uint16 // Modbus holding registers from HoldText
	text      []byte
	settings  windowbus.Settings
	beepReg   uint16
	beeps     []windowbus.Beep
	counters  windowbus.Counters
	started   time.Time
	fault     Fault
	requests  int
	writes    int
}

type press struct {
	entry windowbus.Entry
	at    time.Time
}

// New returns a Sim serving rw. Run starts it.
func New(rw io.ReadWriter, o Opts) (*Sim, error) {
	if rw == nil {
		return nil, errors.New("bussim: nil port")
	}
	if o.Protocol == "" {
		o.Protocol = "modbus"
	}
	if o.FIFOSize == 0 {
		o.FIFOSize = 16
	}
	s := &Sim{rw: rw, o: o, proto: o.Protocol, devs: map[windowbus.Addr]*device{}}
	switch o.Protocol {
	case "modbus":
		s.gap = modbusrtu.Silence(o.Baud)
	case "vendor":
		s.gap = vendor.Turnaround(o.Baud)
	default:
		return nil, fmt.Errorf("bussim: protocol %q: want modbus or vendor", o.Protocol)
	}
	if o.Baud < 0 || o.FIFOSize < 1 || o.FIFOSize > 255 {
		return nil, fmt.Errorf("bussim: baud %d / FIFO size %d out of range", o.Baud, o.FIFOSize)
	}
	if o.Baud == 0 {
		s.gap = 0
	}
	s.line = simwire.NewLine(o.Baud)
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	add := func(a windowbus.Addr, kind windowbus.Kind, model uint16, textCap, fifo int) error {
		if !a.Valid() {
			return fmt.Errorf("bussim: address %d out of range", a)
		}
		if s.devs[a] != nil {
			return fmt.Errorf("bussim: address %d used twice", a)
		}
		d := &device{id: windowbus.Identity{Vendor: Vendor, Model: model, Firmware: Firmware, Kind: kind,
			MapVersion: modbusrtu.MapVersion, FIFOSize: fifo, TextCap: textCap}}
		s.boot(d)
		s.devs[a] = d
		return nil
	}
	for _, a := range o.Terminals {
		if err := add(a, windowbus.KindWindow, ModelWindow, WindowTextCap, o.FIFOSize); err != nil {
			return nil, err
		}
	}
	for _, a := range o.Displays {
		if err := add(a, windowbus.KindHall, ModelHall, HallTextCap, 0); err != nil {
			return nil, err
		}
	}
	if len(s.devs) == 0 {
		return nil, errors.New("bussim: no devices")
	}
	return s, nil
}

// boot (re)starts d: new boot number, empty FIFO and display.
func (s *Sim) boot(d *device) {
	b := uint16(s.rng.UintN(0xFFFF)) + 1
	for b == d.id.Boot {
		b = uint16(s.rng.UintN(0xFFFF)) + 1
	}
	d.id.Boot = b
	d.fifo, d.lastSeq, d.acked = nil, 0, 0
	d.restarted = true
	d.textRegs = make([]uint16, d.id.TextCap/2)
	d.text = nil
	d.settings = windowbus.Settings{Brightness: 100}
	d.beepReg = 0
	d.counters = windowbus.Counters{}
	d.started = time.Now()
}

// Press records a key press at terminal a now and returns its sequence
// number and time. It fails when a is not a terminal or its FIFO is full
// (the press is then lost, as on the device, and counted as an overflow).
func (s *Sim) Press(a windowbus.Addr, k windowbus.Key, arg uint16) (uint16, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[a]
	if d == nil || !d.id.Kind.HasKeys() {
		return 0, time.Time{}, fmt.Errorf("bussim: no keypad at address %d", a)
	}
	now := time.Now()
	if len(d.fifo) >= d.id.FIFOSize {
		d.counters.Overflows++
		return 0, now, fmt.Errorf("bussim: terminal %d: key FIFO full", a)
	}
	d.lastSeq = windowbus.NextSeq(d.lastSeq)
	d.fifo = append(d.fifo, press{entry: windowbus.Entry{Key: k, Arg: arg, Seq: d.lastSeq}, at: now})
	return d.lastSeq, now, nil
}

// Text returns the text device a shows.
func (s *Sim) Text(a windowbus.Addr) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devs[a]; d != nil {
		return windowbus.DecodeText(d.text)
	}
	return ""
}

// State returns a snapshot of device a.
func (s *Sim) State(a windowbus.Addr) (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[a]
	if d == nil {
		return State{}, false
	}
	st := State{Identity: d.id, Text: windowbus.DecodeText(d.text), TextBytes: append([]byte(nil), d.text...),
		Settings: d.settings, Beeps: append([]windowbus.Beep(nil), d.beeps...), Pending: len(d.fifo),
		Restarted: d.restarted, Acked: d.acked, LastSeq: d.lastSeq, Counters: d.counters, Requests: d.requests, TextWrites: d.writes}
	st.Counters.Uptime = time.Since(d.started).Truncate(time.Second)
	return st, true
}

// SetFault sets device a's fault.
func (s *Sim) SetFault(a windowbus.Addr, f Fault) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[a]
	if d == nil {
		return fmt.Errorf("bussim: no device at address %d", a)
	}
	d.fault = f
	return nil
}

// Reboot power-cycles device a: it loses its FIFO, text and settings and
// reports a new boot number.
func (s *Sim) Reboot(a windowbus.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[a]
	if d == nil {
		return fmt.Errorf("bussim: no device at address %d", a)
	}
	s.boot(d)
	return nil
}

// Addrs returns the device addresses, sorted.
func (s *Sim) Addrs() []windowbus.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]windowbus.Addr, 0, len(s.devs))
	for a := range s.devs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Junk returns how many received bytes could not be framed.
func (s *Sim) Junk() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.junk
}

// Run serves the port until ctx is done (it returns nil) or the port fails
// (it returns the read error). The reading goroutine ends when the port is
// closed.
func (s *Sim) Run(ctx context.Context) error {
	type chunk struct {
		b   []byte
		err error
	}
	rx := make(chan chunk, 64)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := s.rw.Read(buf)
			c := chunk{b: append([]byte(nil), buf[:n]...), err: err}
			if n == 0 && err == nil {
				continue
			}
			select {
			case rx <- c:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	fr := newFramer(s.proto)
	// Input that cannot be framed is dropped after this much silence.
	silence := s.gap
	if silence < 5*time.Millisecond {
		silence = 5 * time.Millisecond
	}
	var quiet <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rx:
			fr.feed(c.b)
			s.serve(fr)
			if c.err != nil {
				if errors.Is(c.err, io.EOF) {
					return fmt.Errorf("bussim: port closed: %w", c.err)
				}
				return fmt.Errorf("bussim: read: %w", c.err)
			}
			quiet = nil
			if fr.pending() > 0 {
				quiet = time.After(silence)
			}
		case <-quiet:
			quiet = nil
			f, ok := fr.flush()
			if ok {
				s.handle(f)
			}
		}
	}
}

// serve handles every complete frame buffered in fr.
func (s *Sim) serve(fr *framer) {
	for {
		f, ok := fr.next()
		if !ok {
			return
		}
		s.handle(f)
	}
}

// handle plays one received frame on the wire and answers it.
func (s *Sim) handle(f frame) {
	if s.o.Trace != nil {
		s.o.Trace(true, f.raw)
	}
	end := s.line.Occupy(len(f.raw))
	s.mu.Lock()
	var reply []byte
	var d *device
	switch s.proto {
	case "modbus":
		d, reply = s.modbus(f, end)
	default:
		d, reply = s.vendor(f, end)
	}
	if d != nil && reply != nil {
		reply = s.misbehave(d, reply)
	}
	changes := s.changes
	s.changes = nil
	s.mu.Unlock()
	if s.o.OnShow != nil {
		for _, c := range changes {
			s.o.OnShow(c)
		}
	}
	if reply == nil {
		return
	}
	simwire.SleepUntil(end.Add(s.gap))
	s.line.Occupy(len(reply))
	if s.o.Trace != nil {
		s.o.Trace(false, reply)
	}
	s.rw.Write(reply)
}

// misbehave applies d's fault to a reply; nil means no reply. s.mu is held.
func (s *Sim) misbehave(d *device, reply []byte) []byte {
	if d.fault.DropReplies > 0 {
		d.fault.DropReplies--
		return nil
	}
	if d.fault.Garble {
		reply = append([]byte(nil), reply...)
		reply[len(reply)/2] ^= 0x5A
	}
	for i := 0; i < d.fault.Noise; i++ {
		reply = append(reply, byte(s.rng.UintN(256)))
	}
	return reply
}

// device returns the device at a that can hear, or nil. s.mu is held.
func (s *Sim) device(a byte) *device {
	d := s.devs[windowbus.Addr(a)]
	if d == nil || d.fault.Mute {
		return nil
	}
	return d
}

// keys returns the FIFO as seen at time at. s.mu is held.
func (d *device) keys(at time.Time) windowbus.KeyState {
	ks := windowbus.KeyState{Pending: len(d.fifo), Restarted: d.restarted, Synced: true, Acked: d.acked, Boot: d.id.Boot}
	for _, p := range d.fifo {
		e := p.entry
		e.Age = at.Sub(p.at)
		ks.Entries = append(ks.Entries, e)
	}
	return ks
}

// ack applies an acknowledgement; it reports false for a sequence number
// never issued.
func (d *device) ack(seq uint16) bool {
	if windowbus.SeqAfter(seq, d.lastSeq) {
		return false
	}
	if !windowbus.SeqAfter(seq, d.acked) {
		return true // stale or repeated: nothing to do
	}
	d.acked = seq
	i := 0
	for i < len(d.fifo) && !windowbus.SeqAfter(d.fifo[i].entry.Seq, seq) {
		i++
	}
	d.fifo = d.fifo[i:]
	return true
}

// show commits text and reports it. s.mu is held.
func (s *Sim) show(a windowbus.Addr, d *device, text []byte, at time.Time) {
	d.text = append([]byte(nil), text...)
	d.restarted = false
	d.writes++
	if s.o.OnShow != nil {
		s.changes = append(s.changes, Change{Addr: a, Text: windowbus.DecodeText(text), At: at})
	}
}

// beep records a beep request; a zero count stops the buzzer.
func (d *device) beep(b windowbus.Beep) {
	if b.Count > 0 {
		d.beeps = append(d.beeps, b)
	}
}

func (d *device) counterBlock() windowbus.Counters {
	c := d.counters
	c.Uptime = time.Since(d.started)
	return c
}
