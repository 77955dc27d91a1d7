package frontdesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/gpiokey"
	"hallgw/drivers/voice"
	"hallgw/drivers/windowbus"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/gateway"
	"hallgw/firmware/identity"
	"hallgw/firmware/privacy"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

// ComponentOrder places the front devices after the privacy keeper and the
// window card readers, whose hooks they use, and before the web pages.
const ComponentOrder = 40

func init() {
	daemon.Register("frontdesk", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		f, err := New(d, Options{Devices: d.Cfg.Devices})
		if f == nil || err != nil {
			return nil, err // a nil *Frontdesk must not become a non-nil Component
		}
		return f, nil
	})
}

// Keeper is what the kiosks need of the privacy keeper
// (privacy.Keeper): the holder hash that matches appointments, and sealing
// of the card holder's personal data for the journal.
type Keeper interface {
	HolderHash(idNumber string) string
	Seal(at time.Time, v any) ([]byte, error)
}

// Options configure the front devices. Only Devices is required; the
// others replace what the daemon normally uses, for tests and the demo.
type Options struct {
	// Devices is the devices section of the configuration.
	Devices config.Devices
	// Open opens a serial port by name; nil means serialport.Open.
	Open func(name string, mode serialport.Mode) (io.ReadWriteCloser, error)
	// OpenPins returns the GPIO pins with the given names; nil means
	// gpiokey.Open.
	OpenPins func(names []string) ([]gpio.PinIn, error)
	// Player plays the announcements; nil means what devices.voice says.
	Player voice.Player
	// Keeper seals personal data and hashes ID numbers; nil means the
	// daemon's privacy keeper, if it has one.
	Keeper Keeper
	// Clock times back-offs, bar messages and the card wait; nil means
	// the real clock. The hall's clock stays the daemon's.
	Clock clockwork.Clock
	// Backoff and MaxBackoff bound the wait before a port is reopened;
	// zero means MinBackoff and MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// StatusEvery is how often an idle printer's status is read; zero
	// means a second.
	StatusEvery time.Duration
	// FlashFor is how long a bar shows a refusal or a thank-you; zero
	// means 3 s.
	FlashFor time.Duration
	// CardWait bounds the wait for an ID card; zero means 20 s.
	CardWait time.Duration
}

// Frontdesk is the running front devices of one daemon.
type Frontdesk struct {
	d      *daemon.Daemon
	o      Options
	gw     *gateway.Gateway
	log    *slog.Logger
	clock  clockwork.Clock
	keeper Keeper

	kiosks  map[string]*Kiosk
	korder  []*Kiosk
	buses   []*Bus
	voice   *voiceOut
	buttons *buttons
	board   board
	numbers map[string]int // window id → number
	loc     *time.Location // the hall's time zone

	rmu                     sync.Mutex
	dirty                   map[string]bool // windows whose bars the refresher writes
	dirtyAll, dirtyDisplays bool
	kick                    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	wmu     sync.Mutex
	workers map[string]chan pressJob

	omu  sync.Mutex
	obs  map[int]func(PressResult)
	next int
}

var running sync.Map // *daemon.Daemon → *Frontdesk

// For returns the front devices of a running daemon, nil when none are
// configured.
func For(d *daemon.Daemon) *Frontdesk {
	v, _ := running.Load(d)
	f, _ := v.(*Frontdesk)
	return f
}

// New makes the front devices of d from o.Devices and mounts the kiosk
// service on d.Mux. It returns nil, nil when no front device is configured.
// Nothing is opened before Start.
func New(d *daemon.Daemon, o Options) (*Frontdesk, error) {
	dv := o.Devices
	if len(dv.Kiosks) == 0 && len(dv.Buses) == 0 && len(dv.CallButtons) == 0 && !dv.Voice.Enabled {
		return nil, nil
	}
	if o.Open == nil {
		o.Open = openSerial
	}
	if o.OpenPins == nil {
		o.OpenPins = gpiokey.Open
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Backoff <= 0 {
		o.Backoff = MinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = MaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	if o.StatusEvery <= 0 {
		o.StatusEvery = time.Second
	}
	if o.FlashFor <= 0 {
		o.FlashFor = 3 * time.Second
	}
	if o.CardWait <= 0 {
		o.CardWait = 20 * time.Second
	}
	f := &Frontdesk{d: d, o: o, gw: d.Gateway, log: d.Logger.With("part", "frontdesk"), clock: o.Clock,
		kiosks: map[string]*Kiosk{}, workers: map[string]chan pressJob{}, obs: map[int]func(PressResult){},
		dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
	loc, err := d.Cfg.Location()
	if err != nil {
		return nil, err
	}
	f.loc = loc
	f.keeper = o.Keeper
	if f.keeper == nil {
		if k := privacy.For(d); k != nil {
			f.keeper = k
		}
	}
	for _, kc := range dv.Kiosks {
		k, err := newKiosk(f, kc)
		if err != nil {
			return nil, err
		}
		f.kiosks[kc.ID] = k
		f.korder = append(f.korder, k)
	}
	numbers := map[string]int{}
	for _, w := range d.Cfg.Windows {
		numbers[w.ID] = w.Number
	}
	f.numbers = numbers
	for _, bc := range dv.Buses {
		b, err := newBus(f, bc, numbers)
		if err != nil {
			return nil, err
		}
		f.buses = append(f.buses, b)
	}
	if dv.Voice.Enabled {
		v, err := newVoice(f, dv.Voice, o.Player)
		if err != nil {
			return nil, err
		}
		f.voice = v
	}
	if f.buttons, err = newButtons(f, dv, numbers); err != nil {
		return nil, err
	}
	if len(f.korder) > 0 {
		f.mount()
	}
	d.AddStatus("frontdesk", func() any { return f.Status() })
	return f, nil
}

// String describes the front devices.
func (f *Frontdesk) String() string {
	return fmt.Sprintf("frontdesk(%d kiosks, %d buses)", len(f.korder), len(f.buses))
}

// Start opens every device and follows the hall.
func (f *Frontdesk) Start(ctx context.Context) error {
	f.ctx, f.cancel = context.WithCancel(ctx)
	running.Store(f.d, f)
	f.seedBoard()
	for _, w := range f.d.Cfg.Windows {
		f.worker(w.ID)
	}
	// Follow from the first event committed after Start, so that an event
	// committed before the goroutine runs is not missed.
	from := f.gw.Journal().Committed() + 1
	f.goRun(func(ctx context.Context) { f.follow(ctx, from) })
	f.goRun(f.refresher)
	for _, k := range f.korder {
		k.start()
	}
	for _, b := range f.buses {
		f.goRun(b.run)
	}
	if desk := identity.For(f.d); desk != nil && len(f.buses) > 0 {
		// Staff signing in or out with their ID card see the outcome on
		// their window's bar ("签到成功", "未登记的证件" …).
		desk.SetNotify(func(n identity.Notice) {
			for _, b := range f.buses {
				b.flash(n.Window, clean(n.Text))
			}
		})
	}
	if f.voice != nil {
		f.goRun(f.voice.run)
	}
	if f.buttons != nil {
		f.goRun(f.buttons.run)
	}
	return nil
}

// goRun runs fn in a goroutine the component waits for at Stop.
func (f *Frontdesk) goRun(fn func(ctx context.Context)) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn(f.ctx)
	}()
}

// Stop closes every device, within ctx's deadline.
func (f *Frontdesk) Stop(ctx context.Context) error {
	defer running.Delete(f.d)
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("frontdesk: stop: %w", ctx.Err())
	}
	if f.voice != nil {
		f.voice.ann.Halt()
	}
	return err
}

// Kiosk returns the kiosk with the given id.
func (f *Frontdesk) Kiosk(id string) (*Kiosk, bool) {
	k, ok := f.kiosks[id]
	return k, ok
}

// follow hands every committed event from seq from on to the displays and
// the voice. After a feed error it resumes where it stopped.
func (f *Frontdesk) follow(ctx context.Context, from uint64) {
	next := from
	for ctx.Err() == nil {
		err := f.gw.Feed().Follow(ctx, next, func(c gateway.Committed) error {
			next = c.Seq + 1
			f.event(ctx, c)
			return nil
		})
		if ctx.Err() != nil || errors.Is(err, gateway.ErrClosed) {
			return
		}
		f.log.Warn("feed", "err", err)
		select {
		case <-ctx.Done():
		case <-f.clock.After(time.Second):
		}
	}
}

// event updates the devices after one committed event. It does not read
// the hall: the bars and displays concerned are marked for the refresher,
// which reads the hall once for many events.
func (f *Frontdesk) event(ctx context.Context, c gateway.Committed) {
	e := c.Event
	var windows []string
	all, displays := false, false
	switch e.Type {
	case hall.EvTicketCalled, hall.EvTicketRecalled:
		displays = f.noteCalls([]gateway.Committed{c})
		if f.voice != nil {
			f.voice.announce(ctx, e.Number, e.Window)
		}
		windows = append(windows, e.Window)
	case hall.EvNotice:
		f.board.setNotice(hall.NoticeView{Level: hall.NoticeLevel(e.Count), Text: e.Reason, Source: e.Source, Since: e.At})
		all, displays = true, true
	case hall.EvConfigApplied, hall.EvDayReset:
		all, displays = true, true
	case hall.EvRatingRequested, hall.EvRatingGiven, hall.EvRatingNotRated, hall.EvCaseSet,
		hall.EvTicketIssued, hall.EvTurnNear, hall.EvAppointmentsLoaded, hall.EvPriorityChanged:
		// Nothing on the bars changes.
	default:
		if e.Window != "" {
			windows = append(windows, e.Window)
		}
		if e.ToWindow != "" {
			windows = append(windows, e.ToWindow)
		}
	}
	if len(windows) > 0 || all || displays {
		f.markDirty(windows, all, displays)
	}
}

// refreshEvery bounds how often the refresher reads the hall: a read waits
// for the journal's commit and holds up new commands meanwhile, so under
// a stream of events it reads once for many.
const refreshEvery = 50 * time.Millisecond

// markDirty asks the refresher to write the bars of windows (every bar
// when all) and, with displays, the hall displays.
func (f *Frontdesk) markDirty(windows []string, all, displays bool) {
	f.rmu.Lock()
	for _, w := range windows {
		f.dirty[w] = true
	}
	f.dirtyAll = f.dirtyAll || all
	f.dirtyDisplays = f.dirtyDisplays || displays
	f.rmu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// refresher writes what markDirty asked for, with normal priority.
func (f *Frontdesk) refresher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		}
		f.rmu.Lock()
		windows := make([]string, 0, len(f.dirty))
		for w := range f.dirty {
			windows = append(windows, w)
		}
		clear(f.dirty)
		all, displays := f.dirtyAll, f.dirtyDisplays
		f.dirtyAll, f.dirtyDisplays = false, false
		f.rmu.Unlock()
		f.refresh(ctx, windows, all, displays, nil)
		select {
		case <-ctx.Done():
			return
		case <-f.clock.After(refreshEvery):
		}
	}
}

// refresh writes the bars of windows (every bar when all) and the hall
// displays from one reading of the hall. The bars and displays of urgent
// (a press's own bus) go ahead of queued writes; the others wait their
// turn. It returns the bar texts by window.
func (f *Frontdesk) refresh(ctx context.Context, windows []string, all, displays bool, urgent *Bus) map[string]string {
	if len(f.buses) == 0 || (len(windows) == 0 && !all && !displays) {
		return nil
	}
	outs := make([][]barOut, len(f.buses))
	var n hall.NoticeView
	err := f.gw.View(ctx, func(h *hall.Hall) {
		n = h.Notice()
		for i, b := range f.buses {
			outs[i] = b.bars(h, windows, all, n)
		}
	})
	if err != nil {
		return nil
	}
	f.board.setNotice(n)
	texts := map[string]string{}
	for i, b := range f.buses {
		// A press writes its own window's bar first on every bus that has
		// it; the hall displays of the press's bus come next.
		b.writeBars(outs[i], urgent != nil)
		for _, w := range windows {
			if t, ok := b.text(outs[i], w); ok {
				texts[w] = t
			}
		}
		if displays {
			b.writeDisplays(n, b == urgent)
		}
	}
	return texts
}

// Status is the "frontdesk" section of the gateway status.
type Status struct {
	Kiosks []KioskStatus `json:"kiosks,omitempty"`
	Buses  []BusStatus   `json:"buses,omitempty"`
	Voice  *VoiceStatus  `json:"voice,omitempty"`
}

// Status returns the figures of every device.
func (f *Frontdesk) Status() Status {
	var s Status
	for _, k := range f.korder {
		s.Kiosks = append(s.Kiosks, k.Status())
	}
	for _, b := range f.buses {
		s.Buses = append(s.Buses, b.Status())
	}
	if f.voice != nil {
		v := f.voice.status()
		s.Voice = &v
	}
	return s
}

// PressResult is the outcome of one key press, for observers (the demo's
// simulated staff read it as staff read their bar).
type PressResult struct {
	Bus    string // bus id, "" for a GPIO button
	Addr   windowbus.Addr
	Seq    uint16
	Window string
	Key    windowbus.Key
	Arg    uint16
	Err    error  // the hall's refusal, or why the press was not taken
	Text   string // what the window's bar was told to show
}

// OnPress calls fn with the outcome of every press, from the goroutine
// that handled it; fn must not block. cancel removes it.
func (f *Frontdesk) OnPress(fn func(PressResult)) (cancel func()) {
	f.omu.Lock()
	id := f.next
	f.next++
	f.obs[id] = fn
	f.omu.Unlock()
	return func() {
		f.omu.Lock()
		delete(f.obs, id)
		f.omu.Unlock()
	}
}

func (f *Frontdesk) pressed(r PressResult) {
	f.omu.Lock()
	fns := make([]func(PressResult), 0, len(f.obs))
	for _, fn := range f.obs {
		fns = append(fns, fn)
	}
	f.omu.Unlock()
	for _, fn := range fns {
		fn(r)
	}
}
