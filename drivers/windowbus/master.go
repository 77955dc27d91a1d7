package windowbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3"
)

// Master is the bus master and scheduler. Create it with New, start it with
// Run, take presses from Presses and queue display writes with Show and
// ShowNow. All methods are safe for concurrent use.
type Master struct {
	link  Link
	proto Protocol
	o     Opts
	clock clockwork.Clock

	queue chan Press // presses waiting for the consumer (bounded)
	out   chan Press // what Presses returns
	wake  chan struct{}

	runMu   sync.Mutex
	running bool
	cancel  context.CancelFunc

	mu     sync.Mutex
	devs   []*device // poll order: terminals, then displays
	byAddr map[Addr]*device
	urgent []*device // devices with a ShowNow text, oldest first
	normal []opRef   // queued writes, oldest first
	cursor int       // next device to consider for a poll
	last   int       // index of the device polled last, -1 before the first
	budget int       // queued writes allowed before the next poll
	stray  uint64    // link stray bytes already attributed
	stats  Stats
	cycle0 time.Time // when the current poll cycle started
}

type devState int

const (
	stateUnknown devState = iota // not heard from yet
	stateUp
	stateDown
)

type opKind int

const (
	opText opKind = iota
	opBeep
	opConfig
)

type opRef struct {
	d    *device
	kind opKind
}

// device is the Master's view of one address.
type device struct {
	addr   Addr
	window int
	keys   bool // polled for keys

	state          devState
	identified     bool // identity read since the last outage
	everIdentified bool
	ident          Identity
	misses         int
	backoff        time.Duration
	nextTry        time.Time // down devices: next probe; displays: next check
	lastSeen       time.Time
	lastPoll       time.Time

	// Press bookkeeping, valid when synced.
	synced     bool
	boot       uint16
	queued     uint16 // last seq handed to the delivery queue
	taken      uint16 // last seq the consumer took
	acked      uint16 // last seq acknowledged on the wire
	ackPending bool

	// Pending writes. text/beep/cfg are valid while their queued flag is
	// set; ver changes with every new request so a write that completes
	// after a newer request does not clear it.
	text, lastText []byte
	textQueued     bool
	textUrgent     bool
	textVer        uint64
	beep           Beep
	beepQueued     bool
	cfg, lastCfg   Settings
	cfgQueued      bool
	haveCfg        bool
	cfgVer         uint64

	h Health
}

// Health is the state and counters of one device as the Master sees them.
type Health struct {
	Addr     Addr
	Window   int
	Identity Identity // zero until the device has been identified
	Up       bool
	LastSeen time.Time
	Misses   int       // failed transactions in a row
	NextTry  time.Time // when a down device is probed next

	Polls          uint64 // key polls and health checks that succeeded
	Timeouts       uint64
	ChecksumErrors uint64
	Garbled        uint64 // malformed replies
	GarbledBytes   uint64 // stray bytes found while talking to this device
	Exceptions     uint64 // requests the device refused
	Reboots        uint64 // boot number changes seen
	Presses        uint64 // presses queued for the consumer
	Duplicates     uint64 // presses read again and dropped
	BacklogFull    uint64 // polls that left presses in the FIFO for later
	Writes         uint64 // text, beep and settings writes that succeeded
	Truncated      uint64 // texts cut to the device's capacity
	MaxPollGap     time.Duration
	LastError      string
}

// Stats are bus-wide figures.
type Stats struct {
	Transactions uint64
	Cycles       uint64        // completed poll cycles
	LastCycle    time.Duration // duration of the last complete cycle
	MaxCycle     time.Duration
	CycleTime    time.Duration // all complete cycles together
	// CycleFloor is the airtime of one cycle of empty polls over the
	// registered terminals: what LastCycle would be on a perfect line.
	CycleFloor time.Duration
	StrayBytes uint64
}

var _ conn.Resource = (*Master)(nil)

// New returns a Master that speaks proto over rw. It opens the protocol's
// link at once; the bus stays idle until Run. o may be nil for DefaultOpts,
// but some terminals or displays must be given.
func New(rw io.ReadWriter, proto Protocol, o *Opts) (*Master, error) {
	if rw == nil || proto == nil {
		return nil, errors.New("windowbus: New needs a port and a protocol")
	}
	if o == nil {
		o = &DefaultOpts
	}
	opts, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Master{
		proto:  proto,
		o:      opts,
		clock:  opts.Clock,
		queue:  make(chan Press, opts.Backlog),
		out:    make(chan Press),
		wake:   make(chan struct{}, 1),
		byAddr: map[Addr]*device{},
	}
	for _, t := range opts.Terminals {
		m.add(&device{addr: t.Addr, window: t.Window, keys: true})
		m.stats.CycleFloor += proto.Airtime(OpPoll, 0, opts.Baud)
	}
	for _, a := range opts.Displays {
		m.add(&device{addr: a})
	}
	link, err := proto.Open(rw, LinkOpts{Baud: opts.Baud, ReplyTimeout: opts.ReplyTimeout})
	if err != nil {
		return nil, fmt.Errorf("windowbus: open %s link: %w", proto.Name(), err)
	}
	m.link = link
	return m, nil
}

func (m *Master) add(d *device) {
	d.h.Addr, d.h.Window = d.addr, d.window
	m.devs = append(m.devs, d)
	m.byAddr[d.addr] = d
}

// String describes the bus.
func (m *Master) String() string {
	return fmt.Sprintf("windowbus(%s, %d baud, %d devices)", m.proto.Name(), m.o.Baud, len(m.devs))
}

// Halt stops Run and the link's goroutines. The port stays open.
func (m *Master) Halt() error {
	m.runMu.Lock()
	if m.cancel != nil {
		m.cancel()
	}
	m.runMu.Unlock()
	return m.link.Halt()
}

// Presses returns the channel of key presses. Each press is delivered
// exactly once per Master; it is acknowledged to the terminal only after it
// has been received from this channel. The channel is closed when Run
// returns.
func (m *Master) Presses() <-chan Press { return m.out }

// Show queues text for the bar or display at a. A newer text for the same
// address replaces one not yet written. Queued writes share the bus with
// polls (Opts.WritesPerPoll).
func (m *Master) Show(a Addr, text string) error { return m.show(a, text, false) }

// ShowNow is Show for a write caused by a press (the caller's own bar, the
// hall display): it goes before queued writes and the next poll.
func (m *Master) ShowNow(a Addr, text string) error { return m.show(a, text, true) }

func (m *Master) show(a Addr, text string, urgent bool) error {
	b, err := EncodeText(text)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.byAddr[a]
	if !ok {
		return fmt.Errorf("windowbus: show: address %d not registered", a)
	}
	d.text = b
	d.textVer++
	switch {
	case urgent && !d.textUrgent:
		if d.textQueued {
			m.unqueue(d, opText)
		}
		m.urgent = append(m.urgent, d)
		d.textQueued, d.textUrgent = true, true
	case !d.textQueued:
		m.normal = append(m.normal, opRef{d, opText})
		d.textQueued = true
	}
	m.poke()
	return nil
}

// Beep queues a buzzer request for the device at a.
func (m *Master) Beep(a Addr, b Beep) error {
	if b.Count < 1 || b.Count > 15 || b.Length < 10*time.Millisecond || b.Length > 2550*time.Millisecond {
		return fmt.Errorf("windowbus: beep %d × %v out of range (1–15 × 10 ms–2.55 s)", b.Count, b.Length)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.byAddr[a]
	if !ok {
		return fmt.Errorf("windowbus: beep: address %d not registered", a)
	}
	d.beep = b
	if !d.beepQueued {
		d.beepQueued = true
		m.normal = append(m.normal, opRef{d, opBeep})
	}
	m.poke()
	return nil
}

// Configure queues display settings for the device at a. They are written
// again after the device reboots.
func (m *Master) Configure(a Addr, s Settings) error {
	if s.Mode > ModeClosed || s.Brightness > 100 || s.Blink < 0 || s.Blink > 65535*time.Millisecond {
		return fmt.Errorf("windowbus: settings %+v out of range", s)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.byAddr[a]
	if !ok {
		return fmt.Errorf("windowbus: configure: address %d not registered", a)
	}
	d.cfg = s
	d.cfgVer++
	if !d.cfgQueued {
		d.cfgQueued = true
		m.normal = append(m.normal, opRef{d, opConfig})
	}
	m.poke()
	return nil
}

// Health returns a snapshot of every device's health, in poll order.
func (m *Master) Health() []Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Health, len(m.devs))
	for i, d := range m.devs {
		h := d.h
		h.Identity = d.ident
		h.Up = d.state == stateUp
		h.LastSeen = d.lastSeen
		h.Misses = d.misses
		if d.state == stateDown {
			h.NextTry = d.nextTry
		}
		out[i] = h
	}
	return out
}

// Stats returns bus-wide figures.
func (m *Master) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// unqueue removes d's queued op of kind k from the normal queue.
func (m *Master) unqueue(d *device, k opKind) {
	for i, r := range m.normal {
		if r.d == d && r.kind == k {
			m.normal = append(m.normal[:i], m.normal[i+1:]...)
			return
		}
	}
}

// poke wakes Run if it is idle.
func (m *Master) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run drives the bus until ctx is done (it returns ctx.Err()), Halt is
// called, or the port fails (it returns an error matching
// ErrDisconnected). A Master runs once.
func (m *Master) Run(ctx context.Context) error {
	m.runMu.Lock()
	if m.running {
		m.runMu.Unlock()
		return errors.New("windowbus: Run called twice")
	}
	m.running = true
	ctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.runMu.Unlock()
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.deliver(ctx)
	}()
	defer func() {
		cancel()
		wg.Wait()
		close(m.out)
	}()

	m.mu.Lock()
	m.cycle0 = m.clock.Now()
	m.budget = m.o.WritesPerPoll
	m.last = -1
	m.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		did, wait, err := m.step()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if did {
			continue
		}
		t := m.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-m.wake:
		case <-t.Chan():
		}
		t.Stop()
	}
}

// deliver hands queued presses to the consumer and records them as taken.
func (m *Master) deliver(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-m.queue:
			select {
			case m.out <- p:
				m.took(p)
			case <-ctx.Done():
				return
			}
		}
	}
}

// took records that the consumer received p, so its acknowledgement can go
// out.
func (m *Master) took(p Press) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.byAddr[p.Addr]
	if d == nil || !d.synced || d.boot != p.Boot || !SeqAfter(p.Seq, d.taken) {
		return
	}
	d.taken = p.Seq
	d.ackPending = true
	m.poke()
}

// step runs one bus transaction, chosen in this order: a press-caused text
// write, an acknowledgement, a queued write if the budget allows, a poll, a
// queued write. It reports whether it did anything, or else how long to wait
// before something is due.
func (m *Master) step() (bool, time.Duration, error) {
	m.mu.Lock()
	now := m.clock.Now()
	if d := m.pickUrgent(); d != nil {
		return true, 0, m.writeText(d, true)
	}
	if d := m.pickAck(); d != nil {
		return true, 0, m.ack(d)
	}
	if m.budget > 0 {
		if r, ok := m.pickNormal(); ok {
			m.budget--
			return true, 0, m.write(r)
		}
	}
	if d, wait := m.pickPoll(now); d != nil {
		m.budget = m.o.WritesPerPoll
		return true, 0, m.poll(d)
	} else if r, ok := m.pickNormal(); ok {
		return true, 0, m.write(r)
	} else {
		m.mu.Unlock()
		return false, wait, nil
	}
}

// usable reports whether writes to d may go out now.
func (d *device) usable() bool { return d.state != stateDown }

func (m *Master) pickUrgent() *device {
	for i, d := range m.urgent {
		if d.usable() {
			m.urgent = append(m.urgent[:i], m.urgent[i+1:]...)
			d.textQueued, d.textUrgent = false, false
			return d
		}
	}
	return nil
}

func (m *Master) pickAck() *device {
	for _, d := range m.devs {
		if d.ackPending && d.usable() {
			return d
		}
	}
	return nil
}

func (m *Master) pickNormal() (opRef, bool) {
	for i, r := range m.normal {
		if r.d.usable() {
			m.normal = append(m.normal[:i], m.normal[i+1:]...)
			switch r.kind {
			case opText:
				r.d.textQueued = false
			case opBeep:
				r.d.beepQueued = false
			case opConfig:
				r.d.cfgQueued = false
			}
			return r, true
		}
	}
	return opRef{}, false
}

// pickPoll returns the next device due for a poll or health check, in
// round-robin order, or how long until one is due.
func (m *Master) pickPoll(now time.Time) (*device, time.Duration) {
	n := len(m.devs)
	wait := m.o.MaxBackoff
	for i := 0; i < n; i++ {
		j := (m.cursor + i) % n
		d := m.devs[j]
		due := now
		if d.state == stateDown || !d.pollsKeys() {
			due = d.nextTry
		}
		if !due.After(now) {
			if j <= m.last {
				m.endCycle(now)
			}
			m.last = j
			m.cursor = (j + 1) % n
			return d, 0
		}
		if w := due.Sub(now); w < wait {
			wait = w
		}
	}
	return nil, wait
}

// pollsKeys reports whether d is polled for keys every cycle (rather than
// health-checked now and then).
func (d *device) pollsKeys() bool { return d.keys && (!d.identified || d.ident.Kind.HasKeys()) }

// endCycle records a completed pass over the device list.
func (m *Master) endCycle(now time.Time) {
	d := now.Sub(m.cycle0)
	m.cycle0 = now
	m.stats.Cycles++
	m.stats.CycleTime += d
	m.stats.LastCycle = d
	if d > m.stats.MaxCycle {
		m.stats.MaxCycle = d
	}
}

// The transaction methods below are called with m.mu held; they release it
// around the bus I/O and return with it released.

// poll polls d's key FIFO, or identifies it, or checks a display.
func (m *Master) poll(d *device) error {
	now := m.clock.Now()
	if d.keys && d.state == stateUp && !d.lastPoll.IsZero() {
		if gap := now.Sub(d.lastPoll); gap > d.h.MaxPollGap {
			d.h.MaxPollGap = gap
		}
	}
	d.lastPoll = now
	if !d.identified || !d.pollsKeys() {
		// First contact, a device back from an outage, or the periodic
		// check of a display: the identity carries the boot number.
		m.mu.Unlock()
		id, err := m.link.Identify(d.addr)
		m.mu.Lock()
		if err != nil {
			return m.failed(d, err)
		}
		m.identified(d, id)
		if !d.pollsKeys() {
			d.nextTry = m.clock.Now().Add(m.o.CheckEvery)
			d.h.Polls++
			m.mu.Unlock()
			return nil
		}
	}
	m.mu.Unlock()
	ks, err := m.link.PollKeys(d.addr)
	m.mu.Lock()
	if err != nil {
		return m.failed(d, err)
	}
	m.alive(d)
	d.h.Polls++
	m.keys(d, ks)
	m.mu.Unlock()
	return nil
}

// identified records a fresh identity and notices reboots.
func (m *Master) identified(d *device, id Identity) {
	m.alive(d)
	if (d.everIdentified && id.Boot != d.ident.Boot) || (d.synced && id.Boot != d.boot) {
		d.h.Reboots++
		m.restore(d)
	}
	d.ident = id
	d.identified, d.everIdentified = true, true
}

// restore handles a device that has rebooted: its press numbering starts
// afresh, and its text and settings are written again (an empty text when
// it never had one, which also clears its restarted flag).
func (m *Master) restore(d *device) {
	d.synced = false
	d.ackPending = false
	if d.text == nil && !d.textQueued {
		d.text = d.lastText
		if d.text == nil {
			d.text = []byte{}
		}
		d.textVer++
		d.textQueued = true
		m.normal = append(m.normal, opRef{d, opText})
	}
	if d.haveCfg && !d.cfgQueued {
		d.cfg = d.lastCfg
		d.cfgVer++
		d.cfgQueued = true
		m.normal = append(m.normal, opRef{d, opConfig})
	}
}

// keys processes a key FIFO poll.
func (m *Master) keys(d *device, ks KeyState) {
	if ks.Restarted {
		// Powered up since the last write to its display. Not counted as a
		// reboot at first contact, when the Master itself just started.
		if d.h.Polls > 1 {
			d.h.Reboots++
		}
		m.restore(d)
	}
	if ks.Synced {
		if d.synced && ks.Boot != d.boot {
			d.h.Reboots++
			m.restore(d)
		}
		if !d.synced {
			d.boot = ks.Boot
			d.queued, d.taken, d.acked = ks.Acked, ks.Acked, ks.Acked
			d.synced = true
			d.ident.Boot = ks.Boot
		}
		// The terminal still holds presses the consumer took: the
		// acknowledgement was lost or is not out yet.
		if SeqAfter(d.taken, ks.Acked) {
			d.ackPending = true
		}
	}
	if !d.synced {
		if len(ks.Entries) > 0 {
			d.h.Garbled++
			d.h.LastError = "windowbus: key entries without FIFO state"
		}
		return
	}
	at := m.clock.Now()
	for _, e := range ks.Entries {
		if !SeqAfter(e.Seq, d.queued) {
			d.h.Duplicates++
			continue
		}
		p := Press{Addr: d.addr, Window: d.window, Key: e.Key, Arg: e.Arg, Seq: e.Seq, Boot: d.boot, At: at.Add(-e.Age)}
		select {
		case m.queue <- p:
			d.queued = e.Seq
			d.h.Presses++
		default:
			d.h.BacklogFull++
			return
		}
	}
}

// ack acknowledges what the consumer has taken from d.
func (m *Master) ack(d *device) error {
	seq := d.taken
	m.mu.Unlock()
	err := m.link.Ack(d.addr, seq)
	m.mu.Lock()
	if isException(err) {
		// The terminal refuses the number. Not retried at once: the next
		// poll shows whether it rebooted (resync) or still holds the
		// presses (acknowledged again then).
		d.ackPending = false
	}
	if err != nil {
		return m.failed(d, err)
	}
	m.alive(d)
	d.acked = seq
	if d.taken == seq {
		d.ackPending = false
	}
	m.mu.Unlock()
	return nil
}

func (m *Master) write(r opRef) error {
	switch r.kind {
	case opBeep:
		return m.writeBeep(r.d)
	case opConfig:
		return m.writeConfig(r.d)
	}
	return m.writeText(r.d, false)
}

// writeText writes d's pending text; urgent says which queue it came from,
// for a retry.
func (m *Master) writeText(d *device, urgent bool) error {
	text, ver := d.text, d.textVer
	limit := MaxText
	if d.identified && d.ident.TextCap > 0 && d.ident.TextCap < limit {
		limit = d.ident.TextCap
	}
	if fit := FitText(text, limit); len(fit) < len(text) {
		d.h.Truncated++
		text = fit
	}
	m.mu.Unlock()
	err := m.link.Show(d.addr, text)
	m.mu.Lock()
	if err == nil || isException(err) {
		if err == nil {
			d.h.Writes++
			d.lastText = text
		}
		if d.textVer == ver {
			d.text = nil
		}
		return m.done(d, err)
	}
	// Failed on the wire: queue it again unless a newer text already is.
	if !d.textQueued {
		d.textQueued, d.textUrgent = true, urgent
		if urgent {
			m.urgent = append(m.urgent, d)
		} else {
			m.normal = append(m.normal, opRef{d, opText})
		}
	}
	return m.failed(d, err)
}

func (m *Master) writeBeep(d *device) error {
	b := d.beep
	m.mu.Unlock()
	err := m.link.Beep(d.addr, b)
	m.mu.Lock()
	if err == nil {
		d.h.Writes++
	}
	// A beep that failed on the wire would be stale by the next try: it is
	// dropped.
	return m.done(d, err)
}

func (m *Master) writeConfig(d *device) error {
	s, ver := d.cfg, d.cfgVer
	m.mu.Unlock()
	err := m.link.Configure(d.addr, s)
	m.mu.Lock()
	if err == nil || isException(err) {
		if err == nil {
			d.h.Writes++
			d.lastCfg, d.haveCfg = s, true
		}
		return m.done(d, err)
	}
	if !d.cfgQueued && d.cfgVer == ver {
		d.cfgQueued = true
		m.normal = append(m.normal, opRef{d, opConfig})
	}
	return m.failed(d, err)
}

// done finishes a transaction that may have failed.
func (m *Master) done(d *device, err error) error {
	if err != nil {
		return m.failed(d, err)
	}
	m.alive(d)
	m.mu.Unlock()
	return nil
}

func isException(err error) bool {
	var e *ExceptionError
	return errors.As(err, &e)
}

// alive records a successful exchange with d.
func (m *Master) alive(d *device) {
	now := m.clock.Now()
	m.account(d)
	d.lastSeen = now
	d.misses = 0
	if d.state == stateDown {
		// Back after an outage: read the identity again before anything
		// else, it may be another unit or have rebooted.
		d.identified = false
	}
	d.state = stateUp
	d.backoff = 0
}

// failed records a failed transaction with d and returns the error Run
// must stop with, if any. It releases m.mu.
func (m *Master) failed(d *device, err error) error {
	defer m.mu.Unlock()
	m.account(d)
	if errors.Is(err, ErrDisconnected) {
		d.h.LastError = err.Error()
		return fmt.Errorf("windowbus: %s: %w", m.proto.Name(), err)
	}
	d.h.LastError = err.Error()
	var exc *ExceptionError
	switch {
	case errors.As(err, &exc):
		d.h.Exceptions++
		d.lastSeen = m.clock.Now()
		d.misses = 0
		if d.state != stateUp {
			d.state = stateUp
		}
		return nil
	case errors.Is(err, ErrTimeout):
		d.h.Timeouts++
	case errors.Is(err, ErrChecksum):
		d.h.ChecksumErrors++
	default:
		d.h.Garbled++
	}
	d.misses++
	now := m.clock.Now()
	switch {
	case d.state == stateDown:
		d.backoff *= 2
		if d.backoff > m.o.MaxBackoff {
			d.backoff = m.o.MaxBackoff
		}
		d.nextTry = now.Add(d.backoff)
	case d.misses >= m.o.MaxMisses:
		d.state = stateDown
		d.identified = false
		d.backoff = m.o.Backoff
		d.nextTry = now.Add(d.backoff)
	}
	return nil
}

// account counts one transaction and attributes new stray bytes to d.
func (m *Master) account(d *device) {
	m.stats.Transactions++
	s := m.link.StrayBytes()
	if s > m.stray {
		d.h.GarbledBytes += s - m.stray
		m.stray = s
	}
	m.stats.StrayBytes = m.stray
}
