package frontdesk

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"hallgw/drivers/windowbus"
	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// pressJob is one key press waiting for its window's worker.
type pressJob struct {
	bus    *Bus // the bus it came from; nil for a GPIO button
	p      windowbus.Press
	window string
}

// dispatch queues a press for its window. Presses of one window are handled
// in order; windows do not wait for each other, so their commands share
// the journal's fsyncs.
func (f *Frontdesk) dispatch(ctx context.Context, j pressJob) {
	ch := f.worker(j.window)
	select {
	case ch <- j:
	case <-ctx.Done():
	}
}

// worker returns the queue of a window's presses, starting its worker.
func (f *Frontdesk) worker(window string) chan pressJob {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if ch, ok := f.workers[window]; ok {
		return ch
	}
	ch := make(chan pressJob, 16)
	f.workers[window] = ch
	f.goRun(func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case j := <-ch:
				f.handle(ctx, j)
			}
		}
	})
	return ch
}

// handle turns a press into a hall command, runs it and shows the outcome:
// the window's bar and the hall displays of the press's own bus are
// written ahead of every queued write (ShowNow).
func (f *Frontdesk) handle(ctx context.Context, j pressJob) {
	cmd, err := f.command(ctx, j)
	res := PressResult{Addr: j.p.Addr, Seq: j.p.Seq, Window: j.window, Key: j.p.Key, Arg: j.p.Arg}
	if j.bus != nil {
		res.Bus = j.bus.cfg.ID
	}
	if errors.Is(err, errIgnored) {
		if j.bus != nil {
			j.bus.ignored.Add(1)
		}
		res.Err = err
		f.pressed(res)
		return
	}
	var evs []gateway.Committed
	if err == nil {
		evs, err = f.gw.Do(ctx, cmd)
	}
	if err != nil {
		f.log.Debug("key refused", "window", j.window, "key", j.p.Key, "arg", j.p.Arg, "err", err)
		if j.bus != nil {
			j.bus.refused.Add(1)
		}
	}
	res.Err = err
	res.Text = outcomeText(cmd, err)
	calls := f.noteCalls(evs)
	if res.Text != "" {
		for _, b := range f.buses {
			b.flash(j.window, res.Text)
		}
		f.pressed(res)
		return
	}
	for _, b := range f.buses {
		b.unflash(j.window) // the press succeeded: an earlier message is stale
	}
	touched := []string{j.window}
	if cmd.ToWindow != "" {
		touched = append(touched, cmd.ToWindow)
	}
	res.Text = f.refresh(ctx, touched, false, calls, j.bus)[j.window]
	f.pressed(res)
}

// command maps a press to a hall command. The hall is read only for the
// keys whose argument names something in it.
func (f *Frontdesk) command(ctx context.Context, j pressJob) (hall.Command, error) {
	env := keyEnv{PauseReasons: f.o.Devices.PauseReasonList()}
	needHall := (j.p.Key == windowbus.KeyCall && j.p.Arg != 0) || j.p.Key == windowbus.KeyTransfer
	if !needHall {
		return keyCommand(j.window, j.p.Key, j.p.Arg, env)
	}
	var cmd hall.Command
	var kerr error
	err := f.gw.View(ctx, func(h *hall.Hall) {
		env.Windows = map[int]string{}
		for _, s := range h.Services() {
			env.Services = append(env.Services, s.ID)
		}
		for _, w := range h.Windows() {
			env.Windows[w.Number] = w.ID
		}
		env.Find = func(n int) (hall.TicketID, bool, bool) { return findTicket(h, j.window, n) }
		cmd, kerr = keyCommand(j.window, j.p.Key, j.p.Arg, env)
	})
	return cmd, errors.Join(err, kerr)
}

// noteCalls puts the calls and recalls among evs on the hall board and
// reports whether it changed.
func (f *Frontdesk) noteCalls(evs []gateway.Committed) bool {
	changed := false
	for _, c := range evs {
		e := c.Event
		if e.Type != hall.EvTicketCalled && e.Type != hall.EvTicketRecalled {
			continue
		}
		n, ok := f.numbers[e.Window]
		if !ok {
			continue
		}
		if f.board.note(call{Seq: c.Seq, Number: e.Number, Window: n}) {
			changed = true
		}
	}
	return changed
}

// seedBoard starts the hall board with the tickets called to the windows
// now, most recent first.
func (f *Frontdesk) seedBoard() {
	var cs []call
	var at []int64
	f.gw.View(f.ctx, func(h *hall.Hall) {
		f.board.setNotice(h.Notice())
		for _, w := range h.Windows() {
			t, ok := h.Ticket(w.Current)
			if !ok || t.State != hall.Called {
				continue
			}
			cs = append(cs, call{Number: t.Number, Window: w.Number})
			at = append(at, t.CalledAt.UnixNano())
		}
	})
	idx := make([]int, len(cs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(at[b], at[a]) })
	f.board.mu.Lock()
	for _, i := range idx {
		f.board.calls = append(f.board.calls, cs[i])
	}
	f.board.mu.Unlock()
}

// board is what the hall displays show: the latest calls, and the notice
// as last read.
type board struct {
	mu      sync.Mutex
	calls   []call // newest first
	seen    map[uint64]bool
	order   []uint64 // seen, oldest first, for eviction
	current hall.NoticeView
}

func (b *board) setNotice(n hall.NoticeView) {
	b.mu.Lock()
	b.current = n
	b.mu.Unlock()
}

func (b *board) notice() hall.NoticeView {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current
}

// Bounds of the board.
const (
	boardCalls = 16
	boardSeen  = 1024
)

// note adds a call unless its event was noted already (the press that
// made it and the feed both report it). A recall moves the ticket to the
// top. It reports whether the board changed.
func (b *board) note(c call) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[uint64]bool{}
	}
	if b.seen[c.Seq] {
		return false
	}
	b.seen[c.Seq] = true
	b.order = append(b.order, c.Seq)
	if len(b.order) > boardSeen {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
	// An earlier call of the same ticket gives way to this one; a later
	// one (already noted out of order) keeps its place.
	for i, o := range b.calls {
		if o.Number == c.Number {
			if o.Seq > c.Seq {
				return false
			}
			b.calls = append(b.calls[:i], b.calls[i+1:]...)
			break
		}
	}
	i := 0
	for i < len(b.calls) && b.calls[i].Seq > c.Seq {
		i++
	}
	b.calls = slices.Insert(b.calls, i, c)
	if len(b.calls) > boardCalls {
		b.calls = b.calls[:boardCalls]
	}
	return true
}

// latest returns the calls, newest first.
func (b *board) latest() []call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}
