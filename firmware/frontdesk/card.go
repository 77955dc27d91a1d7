package frontdesk

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"hallgw/drivers/barcode"
	"hallgw/drivers/idcard"
	"hallgw/drivers/serialio"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

// cardDev is a kiosk's ID-card reader under supervision. The reader is
// asked for a card only while a citizen waits on the swipe screen.
type cardDev struct {
	k     *Kiosk
	dev   serialDev
	req   chan cardReq
	live  atomic.Bool // a session runs and its SAM answered
	reads atomic.Uint64
}

type cardReq struct {
	ctx   context.Context
	reply chan cardReply
}

type cardReply struct {
	card *idcard.Card
	err  error
}

// Reader timing: how often a waiting kiosk looks for a card, and how often
// an idle reader's security module is checked.
const (
	cardPoll  = 250 * time.Millisecond
	cardCheck = 10 * time.Second
)

func newCard(k *Kiosk, p config.Port) *cardDev {
	baud := p.Baud
	if baud == 0 {
		baud = config.DefaultReaderBaud
	}
	return &cardDev{k: k, req: make(chan cardReq),
		dev: serialDev{id: k.id + "/idcard", kind: "idcard", name: p.Port, mode: serialport.Mode{Baud: baud}}}
}

func (cd *cardDev) up() bool { return cd.live.Load() }

// read waits for a card until ctx ends.
func (cd *cardDev) read(ctx context.Context) (*idcard.Card, error) {
	q := cardReq{ctx: ctx, reply: make(chan cardReply, 1)}
	select {
	case cd.req <- q:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := <-q.reply // the session always answers, at the latest when ctx ends
	return r.card, r.err
}

// session drives the reader over one opening of its port.
func (cd *cardDev) session(ctx context.Context, rw io.ReadWriteCloser, up func()) error {
	f := cd.k.f
	serialio.Drain(rw, 50*time.Millisecond, nil)
	r, err := idcard.New(rw, nil)
	if err != nil {
		return err
	}
	if err := r.SAMStatus(ctx); err != nil {
		return err
	}
	cd.live.Store(true)
	defer cd.live.Store(false)
	up()
	t := f.clock.NewTicker(cardCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case q := <-cd.req:
			pctx, cancel := context.WithCancel(q.ctx)
			stop := context.AfterFunc(ctx, cancel)
			c, err := r.Poll(pctx, cardPoll)
			stop()
			cancel()
			q.reply <- cardReply{c, err}
			switch {
			case err == nil:
				f.setHealth(cd.dev, func(d *health.Device) { d.LastSeen = f.d.Now() })
			case q.ctx.Err() != nil || ctx.Err() != nil:
				// No card came, or the citizen went back.
			case errors.Is(err, idcard.ErrInvalidText):
				f.setHealth(cd.dev, func(d *health.Device) { count(d, "invalid_card") })
			default:
				return err
			}
		case <-t.Chan():
			if err := r.SAMStatus(ctx); err != nil {
				return err
			}
			f.setHealth(cd.dev, func(d *health.Device) { d.LastSeen = f.d.Now() })
		}
	}
}

// scanDev is a kiosk's barcode / QR scanner under supervision.
type scanDev struct {
	k               *Kiosk
	dev             serialDev
	scans, checkIns atomic.Uint64
	last            atomic.Value // string: the code of the last outcome
}

func newScanner(k *Kiosk, p config.Port) *scanDev {
	baud := p.Baud
	if baud == 0 {
		baud = 9600
	}
	return &scanDev{k: k, dev: serialDev{id: k.id + "/barcode", kind: "barcode", name: p.Port, mode: serialport.Mode{Baud: baud}}}
}

// session reads scans over one opening of the port. A scanner never
// answers anything, so it is up once its port is open.
func (sd *scanDev) session(ctx context.Context, rw io.ReadWriteCloser, up func()) error {
	f := sd.k.f
	sc, err := barcode.New(rw, nil)
	if err != nil {
		return err
	}
	up()
	var prev barcode.Stats
	account := func() {
		st := sc.Stats()
		f.setHealth(sd.dev, func(d *health.Device) {
			countN(d, "too_long", st.TooLong-min(st.TooLong, prev.TooLong))
			countN(d, "garbled", st.NonPrintable-min(st.NonPrintable, prev.NonPrintable))
			countN(d, "truncated", st.Truncated-min(st.Truncated, prev.Truncated))
		})
		prev = st
	}
	err = sc.Run(ctx, func(s barcode.Scan) {
		sd.scans.Add(1)
		account()
		f.setHealth(sd.dev, func(d *health.Device) { d.LastSeen = f.d.Now() })
		sd.scanned(ctx, s)
	})
	account()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// scanned acts on one scan: an appointment code checks the appointment in
// and prints its ticket; other codes mean nothing at a kiosk.
func (sd *scanDev) scanned(ctx context.Context, s barcode.Scan) {
	f := sd.k.f
	code, err := barcode.ParseCode(s.Data)
	if err != nil || code.Kind != barcode.KindAppointment {
		sd.last.Store("not_an_appointment")
		f.setHealth(sd.dev, func(d *health.Device) { count(d, "unknown_code") })
		return
	}
	_, err = sd.k.issue(ctx, hall.Command{Op: hall.OpCheckIn, Appointment: code.ID, Source: SourceKiosk}, nil)
	var rf *Refusal
	switch {
	case err == nil:
		sd.checkIns.Add(1)
		sd.last.Store("checked_in")
	case errors.As(err, &rf):
		sd.last.Store(rf.Code)
		f.log.Info("kiosk: appointment code refused", "kiosk", sd.k.cfg.ID, "code", rf.Code)
	default:
		sd.last.Store("internal")
	}
}
