package windowbus_test

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hallgw/drivers/windowbus"
)

// fakeProto hands out one fakeLink: in-memory devices that answer at once,
// with an operation log and injectable errors, so the scheduler can be
// tested without a wire or real time.
type fakeProto struct{ l *fakeLink }

func (p fakeProto) Name() string { return "fake" }
func (p fakeProto) Open(io.ReadWriter, windowbus.LinkOpts) (windowbus.Link, error) {
	return p.l, nil
}
func (p fakeProto) Airtime(op windowbus.Op, n, baud int) time.Duration { return time.Millisecond }

type fakeDev struct {
	id        windowbus.Identity
	restarted bool
	fifo      []windowbus.Entry
	lastSeq   uint16
	acked     uint16
	text      string
	cfg       windowbus.Settings
	beeps     int
	fail      error // every transaction fails with it
	failN     int   // …only the next failN transactions, when > 0
}

type fakeLink struct {
	mu        sync.Mutex
	devs      map[windowbus.Addr]*fakeDev
	log       []string
	loseAck   bool // acks take effect but report a timeout
	refuseAck bool // the next ack is refused and not applied
	stray     uint64
	step      chan string // when set, every transaction is announced here
}

func newFakeLink() *fakeLink { return &fakeLink{devs: map[windowbus.Addr]*fakeDev{}} }

func (l *fakeLink) addTerminal(a windowbus.Addr, boot uint16) *fakeDev {
	d := &fakeDev{id: windowbus.Identity{Kind: windowbus.KindWindow, FIFOSize: 16, TextCap: 64, Boot: boot}}
	l.mu.Lock()
	l.devs[a] = d
	l.mu.Unlock()
	return d
}

func (l *fakeLink) addHall(a windowbus.Addr, boot uint16) *fakeDev {
	d := &fakeDev{id: windowbus.Identity{Kind: windowbus.KindHall, TextCap: 240, Boot: boot}}
	l.mu.Lock()
	l.devs[a] = d
	l.mu.Unlock()
	return d
}

func (l *fakeLink) press(a windowbus.Addr, k windowbus.Key, arg uint16) uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.devs[a]
	d.lastSeq = windowbus.NextSeq(d.lastSeq)
	d.fifo = append(d.fifo, windowbus.Entry{Key: k, Arg: arg, Seq: d.lastSeq})
	return d.lastSeq
}

func (l *fakeLink) reboot(a windowbus.Addr, boot uint16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.devs[a]
	d.id.Boot = boot
	d.fifo, d.lastSeq, d.acked, d.text = nil, 0, 0, ""
	d.restarted = true
}

func (l *fakeLink) setFail(a windowbus.Addr, err error, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.devs[a].fail, l.devs[a].failN = err, n
}

func (l *fakeLink) textOf(a windowbus.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.devs[a].text
}

func (l *fakeLink) pending(a windowbus.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.devs[a].fifo)
}

// ops returns the operation log so far.
func (l *fakeLink) ops() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.log...)
}

// count returns how many logged operations start with prefix.
func (l *fakeLink) count(prefix string) int {
	n := 0
	for _, op := range l.ops() {
		if strings.HasPrefix(op, prefix) {
			n++
		}
	}
	return n
}

// begin logs op and returns the device, or the injected error.
func (l *fakeLink) begin(a windowbus.Addr, op string) (*fakeDev, error) {
	l.mu.Lock()
	l.log = append(l.log, op)
	step := l.step
	d := l.devs[a]
	var err error
	switch {
	case d == nil:
		err = fmt.Errorf("fake: %w", windowbus.ErrTimeout)
	case d.fail != nil:
		err = d.fail
		if d.failN > 0 {
			d.failN--
			if d.failN == 0 {
				d.fail = nil
			}
		}
	}
	l.mu.Unlock()
	if step != nil {
		step <- op
	}
	return d, err
}

func (l *fakeLink) Identify(a windowbus.Addr) (windowbus.Identity, error) {
	d, err := l.begin(a, fmt.Sprintf("identify %d", a))
	if err != nil {
		return windowbus.Identity{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return d.id, nil
}

func (l *fakeLink) PollKeys(a windowbus.Addr) (windowbus.KeyState, error) {
	d, err := l.begin(a, fmt.Sprintf("poll %d", a))
	if err != nil {
		return windowbus.KeyState{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ks := windowbus.KeyState{Pending: len(d.fifo), Restarted: d.restarted}
	if len(d.fifo) > 0 {
		ks.Synced, ks.Acked, ks.Boot = true, d.acked, d.id.Boot
		ks.Entries = append([]windowbus.Entry(nil), d.fifo...)
		if len(ks.Entries) > 8 {
			ks.Entries = ks.Entries[:8]
		}
	}
	return ks, nil
}

func (l *fakeLink) Ack(a windowbus.Addr, seq uint16) error {
	d, err := l.begin(a, fmt.Sprintf("ack %d %d", a, seq))
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if windowbus.SeqAfter(seq, d.lastSeq) || l.refuseAck {
		l.refuseAck = false
		return &windowbus.ExceptionError{Code: 3}
	}
	if windowbus.SeqAfter(seq, d.acked) {
		d.acked = seq
	}
	for len(d.fifo) > 0 && !windowbus.SeqAfter(d.fifo[0].Seq, seq) {
		d.fifo = d.fifo[1:]
	}
	if l.loseAck {
		l.loseAck = false
		return fmt.Errorf("fake: ack reply lost: %w", windowbus.ErrTimeout)
	}
	return nil
}

func (l *fakeLink) Show(a windowbus.Addr, text []byte) error {
	s := windowbus.DecodeText(text)
	d, err := l.begin(a, fmt.Sprintf("show %d %s", a, s))
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(text) > d.id.TextCap {
		return &windowbus.ExceptionError{Code: 3}
	}
	d.text = s
	d.restarted = false
	return nil
}

func (l *fakeLink) Beep(a windowbus.Addr, b windowbus.Beep) error {
	d, err := l.begin(a, fmt.Sprintf("beep %d %d", a, b.Count))
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d.beeps++
	return nil
}

func (l *fakeLink) Configure(a windowbus.Addr, s windowbus.Settings) error {
	d, err := l.begin(a, fmt.Sprintf("configure %d %d", a, s.Mode))
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d.cfg = s
	return nil
}

func (l *fakeLink) Counters(a windowbus.Addr) (windowbus.Counters, error) {
	_, err := l.begin(a, fmt.Sprintf("counters %d", a))
	return windowbus.Counters{}, err
}

func (l *fakeLink) StrayBytes() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stray
}

func (l *fakeLink) Halt() error { return nil }
