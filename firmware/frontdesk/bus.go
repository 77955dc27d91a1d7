package frontdesk

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

// Bus is one RS-485 window bus: its keypads, LED bars and hall displays.
type Bus struct {
	f        *Frontdesk
	cfg      config.Bus
	dev      serialDev
	proto    windowbus.Protocol
	terms    []windowbus.Terminal
	displays []config.Display
	window   map[windowbus.Addr]string // terminal → window id
	addr     map[string]windowbus.Addr // window id → terminal

	mu      sync.Mutex
	m       *windowbus.Master // the current session's master; nil between sessions
	want    map[windowbus.Addr]string
	set     map[windowbus.Addr]windowbus.Settings
	flashes map[windowbus.Addr]flashMsg
	prev    map[windowbus.Addr]windowbus.Health // for counter deltas
	cycle   windowbus.Stats

	presses, refused, ignored, sessions atomic.Uint64
}

// flashMsg is a message a bar shows until a time.
type flashMsg struct {
	text  string
	until time.Time
	timer clockwork.Timer
}

func newBus(f *Frontdesk, bc config.Bus, numbers map[string]int) (*Bus, error) {
	b := &Bus{f: f, cfg: bc, window: map[windowbus.Addr]string{}, addr: map[string]windowbus.Addr{},
		want: map[windowbus.Addr]string{}, set: map[windowbus.Addr]windowbus.Settings{},
		flashes: map[windowbus.Addr]flashMsg{}, prev: map[windowbus.Addr]windowbus.Health{}}
	switch bc.Protocol {
	case "", "modbus":
		b.proto = modbusrtu.Protocol{}
	case "vendor":
		b.proto = vendor.Protocol{}
	default:
		return nil, fmt.Errorf("frontdesk: bus %s: unknown protocol %q", bc.ID, bc.Protocol)
	}
	baud := bc.Baud
	if baud == 0 {
		baud = windowbus.DefaultOpts.Baud
	}
	// The link reads the port in the background and hands replies over as
	// they arrive, so the read timeout only bounds how long a silent bus
	// keeps its reader waiting: long enough not to wake it for nothing
	// between replies.
	b.dev = serialDev{id: "bus-" + bc.ID, kind: health.KindBus, name: bc.Port, mode: serialport.Mode{Baud: baud, ReadTimeout: 200 * time.Millisecond}}
	for _, t := range bc.Terminals {
		a := windowbus.Addr(t.Address)
		b.terms = append(b.terms, windowbus.Terminal{Addr: a, Window: numbers[t.Window]})
		b.window[a], b.addr[t.Window] = t.Window, a
	}
	b.displays = bc.Displays
	return b, nil
}

// termID and displayID are the health ids of the bus's devices.
func (b *Bus) termID(a windowbus.Addr) string    { return fmt.Sprintf("%s/t%02d", b.dev.id, a) }
func (b *Bus) displayID(a windowbus.Addr) string { return fmt.Sprintf("%s/display-%d", b.dev.id, a) }

// run supervises the bus port until ctx ends.
func (b *Bus) run(ctx context.Context) {
	b.f.supervise(ctx, b.dev, b.session)
	b.downAll("stopped")
}

// session drives the bus over one opening of its port.
func (b *Bus) session(ctx context.Context, rw io.ReadWriteCloser, up func()) error {
	disp := make([]windowbus.Addr, len(b.displays))
	for i, d := range b.displays {
		disp[i] = windowbus.Addr(d.Address)
	}
	m, err := windowbus.New(rw, b.proto, &windowbus.Opts{Baud: b.dev.mode.Baud, Terminals: b.terms, Displays: disp})
	if err != nil {
		return err
	}
	b.sessions.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	b.mu.Lock()
	b.m = m
	clear(b.want) // a new master: every display is written again
	clear(b.set)
	clear(b.prev)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.m = nil
		b.mu.Unlock()
	}()
	up()
	b.f.markDirty(nil, true, true) // every display, from the hall's state

	tick := b.f.clock.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	presses := m.Presses()
	for {
		select {
		case p, ok := <-presses:
			if !ok {
				presses = nil
				continue
			}
			b.presses.Add(1)
			w, known := b.window[p.Addr]
			if !known {
				continue
			}
			b.f.dispatch(ctx, pressJob{bus: b, p: p, window: w})
		case <-tick.Chan():
			b.publish(m)
		case err := <-runErr:
			b.publish(m)
			m.Halt()
			if err == nil {
				err = fmt.Errorf("frontdesk: bus %s stopped", b.cfg.ID)
			}
			b.downAll("bus port: " + err.Error())
			return err
		}
	}
}

// master returns the current session's master, nil when the port is down.
func (b *Bus) master() *windowbus.Master {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m
}

// show writes text to a's display unless it already shows it (or has it
// queued). urgent writes go ahead of the queued ones.
func (b *Bus) show(a windowbus.Addr, text string, urgent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.want[a]; ok && old == text && !urgent {
		return
	}
	b.want[a] = text
	if b.m == nil {
		return
	}
	var err error
	if urgent {
		err = b.m.ShowNow(a, text)
	} else {
		err = b.m.Show(a, text)
	}
	if err != nil {
		b.f.log.Warn("bus write refused", "bus", b.cfg.ID, "addr", a, "err", err)
	}
}

// configure writes a bar's settings when they changed.
func (b *Bus) configure(a windowbus.Addr, s windowbus.Settings) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.set[a]; ok && old == s {
		return
	}
	b.set[a] = s
	if b.m != nil {
		b.m.Configure(a, s)
	}
}

// barOut is a bar's text and settings, computed from the hall.
type barOut struct {
	a    windowbus.Addr
	text string
	set  windowbus.Settings
}

// bars computes, inside a gateway View, the bars of the given windows
// that are on this bus; all means every bar.
func (b *Bus) bars(h *hall.Hall, windows []string, all bool, n hall.NoticeView) []barOut {
	if all {
		windows = windows[:0:0]
		for _, t := range b.terms {
			windows = append(windows, b.window[t.Addr])
		}
	}
	var outs []barOut
	for _, id := range windows {
		a, ok := b.addr[id]
		if !ok {
			continue
		}
		w, ok := h.Window(id)
		if !ok {
			continue
		}
		var cur *hall.TicketView
		if t, ok := h.Ticket(w.Current); ok {
			cur = &t
		}
		text := windowText(w, cur, n)
		if n.Level != hall.NoticeEmergency {
			if m, ok := b.flashing(a); ok {
				text = m
			}
		}
		outs = append(outs, barOut{a, text, windowSettings(w.State, n)})
	}
	return outs
}

// writeBars writes bars; urgent writes go ahead of every queued write.
func (b *Bus) writeBars(outs []barOut, urgent bool) {
	for _, o := range outs {
		b.show(o.a, o.text, urgent)
		b.configure(o.a, o.set)
	}
}

// text returns what outs say of window's bar.
func (b *Bus) text(outs []barOut, window string) (string, bool) {
	a, ok := b.addr[window]
	if !ok {
		return "", false
	}
	for _, o := range outs {
		if o.a == a {
			return o.text, true
		}
	}
	return "", false
}

// writeDisplays writes the hall displays from the board.
func (b *Bus) writeDisplays(n hall.NoticeView, urgent bool) {
	if len(b.displays) == 0 {
		return
	}
	calls := b.f.board.latest()
	caps := b.capacities()
	for _, d := range b.displays {
		a := windowbus.Addr(d.Address)
		b.show(a, hallText(calls, n, b.f.d.Cfg.Gateway.HallName, d.Lines, caps[a]), urgent)
		b.configure(a, windowSettings(hall.Open, n))
	}
}

// capacities returns the text capacity the displays reported.
func (b *Bus) capacities() map[windowbus.Addr]int {
	out := map[windowbus.Addr]int{}
	if m := b.master(); m != nil {
		for _, h := range m.Health() {
			out[h.Addr] = h.Identity.TextCap
		}
	}
	return out
}

// flash shows text on window's bar for Options.FlashFor, ahead of queued
// writes, then the window's state again. It reports whether the window has
// a bar on this bus.
func (b *Bus) flash(window, text string) bool {
	a, ok := b.addr[window]
	if !ok {
		return false
	}
	if b.f.board.notice().Level == hall.NoticeEmergency {
		return true // the emergency stays on every bar
	}
	b.mu.Lock()
	if old, ok := b.flashes[a]; ok && old.timer != nil {
		old.timer.Stop()
	}
	fm := flashMsg{text: text, until: b.f.clock.Now().Add(b.f.o.FlashFor)}
	fm.timer = b.f.clock.AfterFunc(b.f.o.FlashFor, func() {
		b.mu.Lock()
		cur, ok := b.flashes[a]
		expired := ok && !b.f.clock.Now().Before(cur.until)
		if expired {
			delete(b.flashes, a)
		}
		b.mu.Unlock()
		if expired {
			b.f.markDirty([]string{window}, false, false)
		}
	})
	b.flashes[a] = fm
	b.mu.Unlock()
	b.show(a, text, true)
	return true
}

// unflash ends the message on window's bar, if any.
func (b *Bus) unflash(window string) {
	a, ok := b.addr[window]
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if fm, ok := b.flashes[a]; ok {
		if fm.timer != nil {
			fm.timer.Stop()
		}
		delete(b.flashes, a)
	}
}

// flashing returns the message a's bar shows now, if any.
func (b *Bus) flashing(a windowbus.Addr) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fm, ok := b.flashes[a]
	if !ok || !b.f.clock.Now().Before(fm.until) {
		return "", false
	}
	return fm.text, true
}

// publish copies the master's view of every device into the health
// registry.
func (b *Bus) publish(m *windowbus.Master) {
	st := m.Stats()
	b.mu.Lock()
	prevStats := b.cycle
	b.cycle = st
	b.mu.Unlock()
	now := b.f.d.Now()
	b.f.setHealth(b.dev, func(d *health.Device) {
		d.LastSeen = now
		countN(d, "stray_bytes", st.StrayBytes-min(st.StrayBytes, prevStats.StrayBytes))
		d.Detail = map[string]any{"protocol": b.proto.Name(), "baud": b.dev.mode.Baud, "terminals": len(b.terms), "displays": len(b.displays)}
	})
	for _, h := range m.Health() {
		b.mu.Lock()
		prev := b.prev[h.Addr]
		b.prev[h.Addr] = h
		b.mu.Unlock()
		id, kind := b.termID(h.Addr), health.KindTerminal
		detail := map[string]any{"address": int(h.Addr)}
		if w, ok := b.window[h.Addr]; ok {
			detail["window"] = w
		} else {
			id, kind = b.displayID(h.Addr), "display"
		}
		b.f.d.Health.Update(id, kind, func(d *health.Device) {
			d.Port = b.dev.name
			d.Detail = detail
			switch {
			case h.Up:
				d.State, d.Reason = health.Up, ""
			case h.LastSeen.IsZero() && h.Misses == 0:
				// Not asked yet.
			default:
				d.State, d.Reason = health.Down, "no reply"
				if h.LastError != "" {
					d.Reason = h.LastError
				}
			}
			if h.LastSeen.After(prev.LastSeen) {
				d.LastSeen = now
			}
			countN(d, "timeout", h.Timeouts-min(h.Timeouts, prev.Timeouts))
			countN(d, "crc", h.ChecksumErrors-min(h.ChecksumErrors, prev.ChecksumErrors))
			countN(d, "garbled", h.Garbled-min(h.Garbled, prev.Garbled))
			countN(d, "garbled_bytes", h.GarbledBytes-min(h.GarbledBytes, prev.GarbledBytes))
			countN(d, "exception", h.Exceptions-min(h.Exceptions, prev.Exceptions))
			countN(d, "reboot", h.Reboots-min(h.Reboots, prev.Reboots))
			countN(d, "truncated", h.Truncated-min(h.Truncated, prev.Truncated))
		})
	}
}

// downAll marks the bus's devices down: nothing can reach them.
func (b *Bus) downAll(reason string) {
	for _, t := range b.terms {
		b.f.d.Health.Update(b.termID(t.Addr), health.KindTerminal, func(d *health.Device) {
			if d.State != health.Unknown {
				d.State, d.Reason = health.Down, reason
			}
		})
	}
	for _, dp := range b.displays {
		b.f.d.Health.Update(b.displayID(windowbus.Addr(dp.Address)), "display", func(d *health.Device) {
			if d.State != health.Unknown {
				d.State, d.Reason = health.Down, reason
			}
		})
	}
}

// BusStatus is a bus's part of the status.
type BusStatus struct {
	ID        string        `json:"id"`
	Protocol  string        `json:"protocol"`
	Baud      int           `json:"baud"`
	Up        bool          `json:"up"`
	Terminals int           `json:"terminals"`
	Displays  int           `json:"displays"`
	Presses   uint64        `json:"presses"`
	Refused   uint64        `json:"refused"`
	Ignored   uint64        `json:"ignored"`
	Sessions  uint64        `json:"sessions"` // port openings
	Cycle     time.Duration `json:"-"`
	CycleMS   float64       `json:"cycle_ms"`       // last complete poll cycle
	FloorMS   float64       `json:"cycle_floor_ms"` // its airtime on a perfect line
	Faults    uint64        `json:"faults"`         // timeouts, bad replies and exceptions
}

// Status returns the bus's figures.
func (b *Bus) Status() BusStatus {
	b.mu.Lock()
	st, up := b.cycle, b.m != nil
	var faults uint64
	for _, h := range b.prev {
		faults += h.Timeouts + h.ChecksumErrors + h.Garbled + h.Exceptions
	}
	b.mu.Unlock()
	return BusStatus{ID: b.cfg.ID, Protocol: b.proto.Name(), Baud: b.dev.mode.Baud, Up: up,
		Terminals: len(b.terms), Displays: len(b.displays), Presses: b.presses.Load(), Refused: b.refused.Load(),
		Ignored: b.ignored.Load(), Sessions: b.sessions.Load(), Cycle: st.LastCycle,
		CycleMS: ms(st.LastCycle), FloorMS: ms(st.CycleFloor), Faults: faults}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
