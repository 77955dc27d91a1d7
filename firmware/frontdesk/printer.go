package frontdesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/drivers/serialio"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
)

// Messages a kiosk shows while its printer cannot print (docs/kiosk.md:
// shown to the citizen as they are).
const (
	msgNoPaper     = "取号机缺纸，请到咨询台取号"
	msgCoverOpen   = "取号机纸仓未关好，请到咨询台取号"
	msgPrinterDown = "取号机暂停服务，请到咨询台取号"
)

// printerDev is a kiosk's ticket printer under supervision.
type printerDev struct {
	k    *Kiosk
	dev  serialDev
	opts escpos.Opts

	mu     sync.Mutex
	p      *escpos.Printer // nil while the port is down
	lost   chan struct{}   // closed when p has failed for good
	known  bool            // st has been read from p
	st     escpos.Status
	prev   escpos.Counters // counters of p already in health
	failed func(err error) // closes lost once
}

func newPrinter(k *Kiosk, id string, port string, baud, width int) *printerDev {
	if baud == 0 {
		baud = escpos.DefaultOpts.Baud
	}
	w := escpos.Width80
	if width == 58 {
		w = escpos.Width58
	}
	o := escpos.DefaultOpts
	o.Width, o.Baud = w, baud
	// The kiosk reads the status just before it issues a ticket (the paper
	// policy); PrintTicket trusts a read that recent instead of asking a
	// second time, so the ticket's first byte follows the journal's fsync
	// at once. The read after printing stays.
	o.FreshStatus = k.f.o.StatusEvery
	return &printerDev{k: k, opts: o,
		dev: serialDev{id: id + "/printer", kind: "printer", name: port, mode: serialport.Mode{Baud: baud}}}
}

// session drives the printer over one opening of its port: the status is
// read at once and again whenever the printer has been idle for
// Options.StatusEvery.
func (pd *printerDev) session(ctx context.Context, rw io.ReadWriteCloser, up func()) error {
	f := pd.k.f
	// Bytes left from before the outage would be taken for replies.
	serialio.Drain(rw, 50*time.Millisecond, nil)
	p, err := escpos.New(rw, &pd.opts)
	if err != nil {
		return err
	}
	pd.mu.Lock()
	pd.prev = escpos.Counters{}
	pd.mu.Unlock()
	st, err := p.Status(ctx)
	pd.account(p)
	if err != nil {
		return err
	}
	lost := make(chan struct{})
	var once sync.Once
	var lostErr error
	pd.mu.Lock()
	pd.p, pd.lost = p, lost
	pd.failed = func(err error) {
		once.Do(func() {
			lostErr = err
			close(lost)
		})
	}
	pd.mu.Unlock()
	defer func() {
		pd.mu.Lock()
		pd.p, pd.known = nil, false
		pd.mu.Unlock()
	}()
	up()
	pd.note(st)
	t := f.clock.NewTicker(f.o.StatusEvery / 2)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lost:
			return lostErr
		case <-t.Chan():
		}
		if _, at := p.LastStatus(); time.Since(at) < f.o.StatusEvery {
			continue // a ticket has just been printed: its status is fresh
		}
		st, err := p.Status(ctx)
		pd.account(p)
		switch {
		case err == nil:
			misses = 0
			pd.note(st)
		case errors.Is(err, escpos.ErrDisconnected):
			return err
		case ctx.Err() != nil:
			return nil
		default:
			// Silent or garbled: counted; a printer that stays so has its
			// port opened again (USB adapters that hang come back so).
			misses++
			pd.noteErr(err)
			if misses >= 3 {
				return err
			}
		}
	}
}

// current returns the printer of the running session, nil while the port
// is down.
func (pd *printerDev) current() *escpos.Printer {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	return pd.p
}

// fail reports that an operation of p failed; a disconnection ends the
// session so that the port is opened again.
func (pd *printerDev) fail(p *escpos.Printer, err error) {
	pd.account(p)
	pd.mu.Lock()
	same, failed := pd.p == p, pd.failed
	pd.mu.Unlock()
	if same && errors.Is(err, escpos.ErrDisconnected) && failed != nil {
		failed(err)
	}
}

// account moves the driver's counters into health.
func (pd *printerDev) account(p *escpos.Printer) {
	c := p.Counters()
	pd.mu.Lock()
	if pd.p != nil && pd.p != p {
		pd.mu.Unlock()
		return // a printer of an earlier session
	}
	prev := pd.prev
	pd.prev = c
	pd.mu.Unlock()
	pd.k.f.setHealth(pd.dev, func(d *health.Device) {
		countN(d, "timeout", c.Timeouts-min(c.Timeouts, prev.Timeouts))
		countN(d, "garbled", c.Garbled-min(c.Garbled, prev.Garbled))
		countN(d, "disconnect", c.Disconnects-min(c.Disconnects, prev.Disconnects))
		countN(d, "substituted", c.Substituted-min(c.Substituted, prev.Substituted))
	})
}

// note records a status read from the printer.
func (pd *printerDev) note(st escpos.Status) {
	pd.mu.Lock()
	pd.st, pd.known = st, true
	pd.mu.Unlock()
	now := pd.k.f.d.Now()
	pd.k.f.setHealth(pd.dev, func(d *health.Device) {
		d.LastSeen = now
		d.State, d.Reason = printerHealth(st)
		d.Detail = map[string]any{"paper": paperState(st), "cover_open": st.CoverOpen, "online": st.Online}
	})
}

// noteErr records a status query that failed without losing the port.
func (pd *printerDev) noteErr(err error) {
	pd.k.f.setHealth(pd.dev, func(d *health.Device) {
		d.State, d.Reason = health.Down, err.Error()
	})
}

// state returns whether the printer can print now and, when not, the
// message for the citizen.
func (pd *printerDev) state() (bool, string) {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	if pd.p == nil || !pd.known {
		return false, msgPrinterDown
	}
	if pd.st.CanPrint() {
		return true, ""
	}
	return false, printerMessage(pd.st)
}

// paperState names the paper roll's state for health and status.
func paperState(st escpos.Status) string {
	switch {
	case st.PaperEnd:
		return "end"
	case st.PaperNearEnd:
		return "near_end"
	}
	return "ok"
}

// printerHealth grades a printer status: down when it cannot print,
// degraded on a near-end roll.
func printerHealth(st escpos.Status) (health.State, string) {
	switch {
	case !st.CanPrint():
		return health.Down, (&escpos.StatusError{Status: st}).Error()
	case st.PaperNearEnd:
		return health.Degraded, "paper near end"
	}
	return health.Up, ""
}

// printerMessage is the citizen's message for a printer that cannot print.
func printerMessage(st escpos.Status) string {
	switch {
	case st.PaperEnd:
		return msgNoPaper
	case st.CoverOpen:
		return msgCoverOpen
	}
	return msgPrinterDown
}

// printErr describes a failed print for the log and health, without the
// ticket's content.
func printErr(number string, err error) error {
	return fmt.Errorf("frontdesk: ticket %s not printed: %w", number, err)
}
