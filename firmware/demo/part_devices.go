package demo

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hallgw/drivers/barcode"
	"hallgw/drivers/barcode/barcodesim"
	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/idcard"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/frontdesk"
	"hallgw/firmware/privacy"
	"hallgw/hall"
)

func init() {
	RegisterPart("devices", 50, func() Part { return &devicesPart{} })
}

// Addresses and settings of the emulated devices. Window terminals sit at
// their window's number; the hall display at 201, as docs/window-bus.md
// recommends. Printers are USB-serial (115200 baud) so that two of them
// keep up with a whole simulated hall; the bus runs at 9600 baud at real
// speed and at 115200 when the simulation runs faster, so that a keypad
// press (one poll cycle) stays short in simulated time.
const (
	demoKiosks      = 2
	demoDisplay     = windowbus.Addr(201)
	demoPrinterBaud = 115200
	demoScanBaud    = 9600
	paperNearAfter  = 40              // tickets on kiosk 2 before its roll runs low …
	paperEndAfter   = 55              // … and out
	paperRefill     = 3 * time.Second // real time until staff change the roll
)

// devicesPart runs every front device of the hall on emulators behind
// pseudo-terminals — a printer per kiosk, the window bus with a terminal
// per window and a hall display, an ID-card reader and a QR scanner at
// kiosk 1 — and points the configuration at them, so that the daemon drives
// them through the real drivers and serial ports. Simulated citizens take
// their tickets at the kiosks (some swipe an ID card first), staff press
// keys on the terminals.
type devicesPart struct {
	env      *Env
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	printers [demoKiosks]*escpossim.Printer
	printed  [demoKiosks]atomic.Int64
	refill   atomic.Bool
	bus      *bussim.Sim
	busPTY   *simwire.PTY
	busBaud  int
	card     *idcardsim.Sim
	scan     *barcodesim.Sim
	kioskMu  [demoKiosks]sync.Mutex // a citizen at the kiosk

	d  atomic.Pointer[daemon.Daemon]
	fd atomic.Pointer[frontdesk.Frontdesk]

	mu      sync.Mutex
	waiters map[pressKey]chan frontdesk.PressResult
	early   map[pressKey]frontdesk.PressResult
	refusal map[string]int // refused presses by what the bar said
	last    []string       // the screen lines while the daemon ran

	kioskTickets, phoneTickets, cards, cardFails, qrScans, cardCheckIns atomic.Int64
	presses, pressRefused                                               atomic.Int64
}

type pressKey struct {
	addr windowbus.Addr
	seq  uint16
}

func (p *devicesPart) Setup(ctx context.Context, env *Env) error {
	p.env = env
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.waiters, p.early = map[pressKey]chan frontdesk.PressResult{}, map[pressKey]frontdesk.PressResult{}
	p.refusal = map[string]int{}
	cfg := env.Cfg
	if len(cfg.Devices.Kiosks) > 0 || len(cfg.Devices.Buses) > 0 {
		return nil // real devices are configured: leave them
	}
	var err error
	if p.card, err = idcardsim.Start(nil); err != nil {
		return err
	}
	if p.scan, err = barcodesim.Start(&barcodesim.Opts{Baud: demoScanBaud, Suffix: "\r"}); err != nil {
		return err
	}
	for i := range p.printers {
		i := i
		pr, err := escpossim.NewPTY(escpossim.Opts{Baud: demoPrinterBaud, Width: 80,
			OnTicket: func(escpossim.RenderedTicket) { p.onTicket(i) }})
		if err != nil {
			return err
		}
		p.printers[i] = pr
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			pr.Run(p.ctx)
		}()
		k := config.Kiosk{ID: fmt.Sprint(i + 1), PaperWidth: 80, Printer: &config.Port{Port: pr.Path(), Baud: demoPrinterBaud}}
		if i == 0 {
			k.IDCard = &config.Port{Port: p.card.Path(), Baud: config.DefaultReaderBaud}
			k.Barcode = &config.Port{Port: p.scan.Path(), Baud: demoScanBaud}
		}
		cfg.Devices.Kiosks = append(cfg.Devices.Kiosks, k)
	}

	p.busBaud = 115200
	if env.Clock.Speed <= 10 {
		p.busBaud = 9600
	}
	var terms []windowbus.Addr
	bc := config.Bus{ID: "1", Baud: p.busBaud, Protocol: "modbus",
		Displays: []config.Display{{Address: int(demoDisplay), Name: "大厅综合屏", Lines: 6}}}
	for _, w := range cfg.Windows {
		terms = append(terms, windowbus.Addr(w.Number))
		bc.Terminals = append(bc.Terminals, config.Terminal{Address: w.Number, Window: w.ID})
	}
	if p.busPTY, err = simwire.OpenPTY(); err != nil {
		return err
	}
	if p.bus, err = bussim.New(p.busPTY.Master, bussim.Opts{Baud: p.busBaud, Terminals: terms, Displays: []windowbus.Addr{demoDisplay}}); err != nil {
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.bus.Run(p.ctx)
	}()
	bc.Port = p.busPTY.Path
	cfg.Devices.Buses = []config.Bus{bc}
	// A press waits for its terminal's poll: a fraction of a second of
	// real time, which at high speed is minutes of simulated time. The
	// citizen's rating, given on the terminal's keys after the service,
	// gets as many simulated minutes as the bus needs in real time.
	cur := cfg.Ratings.Timeout.D()
	if cur == 0 {
		cur = config.DefaultRatingTimeout
	}
	if need := time.Duration(env.Clock.Speed) * time.Second; need > cur && need <= 24*time.Hour {
		cfg.Ratings.Timeout = config.Duration(need)
		fmt.Fprintf(env.Out, "ratings.timeout %s: at ×%g a poll of the window bus lasts minutes of simulated time\n", need, env.Clock.Speed)
	}
	cfg.Devices.PauseReasons = slices.Clone(config.DefaultPauseReasons)
	cfg.Devices.Voice = config.Voice{Enabled: true, Output: config.VoiceNone, Repeat: 1}
	if cfg.Privacy.Secret == "" && cfg.Privacy.SecretFile == "" {
		// A throwaway hall secret: the ID cards here are made up.
		b := make([]byte, 24)
		crand.Read(b)
		cfg.Privacy.Secret = config.Secret(hex.EncodeToString(b))
	}
	fmt.Fprintf(env.Out, "devices: printers %s, %s; bus %s (%d terminals, display %d); ID card %s; QR scanner %s\n",
		p.printers[0].Path(), p.printers[1].Path(), bc.Port, len(terms), demoDisplay, p.card.Path(), p.scan.Path())
	return nil
}

// onTicket runs the paper of kiosk 2 low, then out, now and then; staff
// change the roll a little later.
func (p *devicesPart) onTicket(i int) {
	n := p.printed[i].Add(1)
	if i != 1 {
		return
	}
	switch n % paperEndAfter {
	case paperNearAfter:
		p.printers[i].SetPaper(escpossim.PaperNearEnd)
	case 0:
		p.printers[i].SetPaper(escpossim.PaperEnd)
		if p.refill.CompareAndSwap(false, true) {
			time.AfterFunc(paperRefill, func() {
				p.printers[i].SetPaper(escpossim.PaperOK)
				p.refill.Store(false)
			})
		}
	}
}

func (p *devicesPart) People(d *daemon.Daemon, pp People) People {
	fd := frontdesk.For(d)
	if fd == nil || p.bus == nil {
		return pp
	}
	p.d.Store(d)
	p.fd.Store(fd)
	fd.OnPress(p.pressed)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.keepLines(p.ctx, d)
	}()
	dp := &devicePeople{p: p, next: pp, base: "http://" + d.Addr, client: &http.Client{Timeout: 40 * time.Second}}
	if k := privacy.For(d); k != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			dp.appointments(p.ctx, k)
		}()
	}
	return dp
}

// pressed hands a press outcome to the simulated member of staff waiting
// for it.
func (p *devicesPart) pressed(r frontdesk.PressResult) {
	k := pressKey{r.Addr, r.Seq}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.waiters[k]; ok {
		delete(p.waiters, k)
		ch <- r
		return
	}
	if len(p.early) > 1000 {
		clear(p.early)
	}
	p.early[k] = r
}

// Lines returns the devices' lines; once the daemon has stopped (the last
// screen), the lines of its last second.
func (p *devicesPart) Lines() []string {
	if d := p.d.Load(); d == nil || d.Ctx.Err() != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.last
	}
	return p.lines()
}

// keepLines refreshes the last lines every half second while the daemon
// runs.
func (p *devicesPart) keepLines(ctx context.Context, d *daemon.Daemon) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.Ctx.Done():
			return
		case <-t.C:
			p.lines()
		}
	}
}

func (p *devicesPart) lines() []string {
	fd := p.fd.Load()
	if fd == nil {
		return nil
	}
	st := fd.Status()
	p.mu.Lock()
	defer p.mu.Unlock()
	var ks []string
	for _, k := range st.Kiosks {
		s := fmt.Sprintf("kiosk-%s %d printed, paper %s", k.ID, k.Printed, k.Paper)
		if !k.CanPrint {
			s += " (cannot print)"
		}
		if n := k.Refusals["printer_unavailable"]; n > 0 {
			s += fmt.Sprintf(", %d refused for the printer", n)
		}
		if k.PrintFailed > 0 {
			s += fmt.Sprintf(", %d to reprint", k.PrintFailed)
		}
		ks = append(ks, s)
	}
	lines := []string{fmt.Sprintf("printers: %s; %d tickets at kiosks, %d on phones", strings.Join(ks, " | "),
		p.kioskTickets.Load(), p.phoneTickets.Load())}
	for _, b := range st.Buses {
		lines = append(lines, fmt.Sprintf("bus-%s (%s %d baud): %d terminals + display %d, %d presses (%d refused), poll cycle %.0f ms (floor %.0f ms), %d faults",
			b.ID, b.Protocol, b.Baud, b.Terminals, demoDisplay, b.Presses, b.Refused, b.CycleMS, b.FloorMS, b.Faults))
	}
	v := ""
	if st.Voice != nil {
		v = fmt.Sprintf("voice: %d calls announced (%s output), %d merged, %d failed; ", st.Voice.Played, st.Voice.Output, st.Voice.Merged, st.Voice.Failed)
	}
	qr := int64(0)
	if len(st.Kiosks) > 0 {
		qr = int64(st.Kiosks[0].CheckIns)
	}
	lines = append(lines, fmt.Sprintf("%sID cards: %d read; appointments checked in: %d of %d QR codes scanned, %d by ID card",
		v, p.cards.Load(), qr, p.qrScans.Load(), p.cardCheckIns.Load()))
	if len(p.refusal) > 0 {
		type kv struct {
			text string
			n    int
		}
		var rs []kv
		for t, n := range p.refusal {
			rs = append(rs, kv{t, n})
		}
		slices.SortFunc(rs, func(a, b kv) int { return b.n - a.n })
		var parts []string
		for _, r := range rs[:min(len(rs), 4)] {
			parts = append(parts, fmt.Sprintf("%s ×%d", r.text, r.n))
		}
		lines = append(lines, "refused presses, as the bars said: "+strings.Join(parts, ", "))
	}
	p.last = lines
	return lines
}

func (p *devicesPart) Close() error {
	if p.cancel != nil {
		p.cancel()
	}
	var errs []error
	for _, pr := range p.printers {
		if pr != nil {
			errs = append(errs, pr.Close())
		}
	}
	if p.busPTY != nil {
		errs = append(errs, p.busPTY.Close())
	}
	if p.card != nil {
		errs = append(errs, p.card.Close())
	}
	if p.scan != nil {
		errs = append(errs, p.scan.Close())
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

// devicePeople acts through the emulated devices: citizens at the kiosks'
// HTTP service (the kiosk page's calls), staff on the window terminals'
// keypads. Signing in and out and starting a service have no key on the
// terminals; those go to the gateway as before.
type devicePeople struct {
	p      *devicesPart
	next   People
	base   string
	client *http.Client
	rr     atomic.Uint32
}

// TakeTicket sends the citizen to a free kiosk; an elderly citizen at
// kiosk 1 lays an ID card on its reader first. The kiosk answers in its
// own time; when both kiosks are busy the citizen takes a ticket on a
// phone instead.
func (dp *devicePeople) TakeTicket(ctx context.Context, service string, green bool) error {
	p := dp.p
	first := int(dp.rr.Add(1)) % demoKiosks
	if green {
		first = 0 // the card reader is at kiosk 1
	}
	for j := range demoKiosks {
		k := (first + j) % demoKiosks
		if !p.kioskMu[k].TryLock() {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.kioskMu[k].Unlock()
			dp.atKiosk(ctx, k, service, green)
		}()
		return nil
	}
	p.phoneTickets.Add(1)
	return dp.next.TakeTicket(ctx, service, green)
}

// atKiosk is one citizen at kiosk k (0-based).
func (dp *devicePeople) atKiosk(ctx context.Context, k int, service string, green bool) {
	p := dp.p
	if green && k == 0 && rand.IntN(2) == 0 {
		if _, err := dp.swipe(ctx, elderCard()); err != nil {
			p.cardFails.Add(1)
		}
	}
	var t frontdesk.IssuedTicket
	code, err := dp.post(ctx, k, "tickets", map[string]string{"service": service}, &t)
	if err == nil && code == http.StatusConflict && k == 1 {
		// Kiosk 2 has no paper: the citizen walks over to kiosk 1.
		if p.kioskMu[0].TryLock() {
			code, err = dp.post(ctx, 0, "tickets", map[string]string{"service": service}, &t)
			p.kioskMu[0].Unlock()
		}
	}
	if err == nil && code == http.StatusCreated {
		p.kioskTickets.Add(1)
	}
}

// swipe lays a card on kiosk 1's reader while its page waits for one.
func (dp *devicePeople) swipe(ctx context.Context, c *idcard.Card) (frontdesk.CardDoc, error) {
	p := dp.p
	type res struct {
		doc  frontdesk.CardDoc
		code int
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		r.code, r.err = dp.post(ctx, 0, "card", nil, &r.doc)
		ch <- r
	}()
	time.Sleep(20 * time.Millisecond) // the citizen reads "请将身份证放在读卡区"
	if err := p.card.Place(c); err != nil {
		return frontdesk.CardDoc{}, err
	}
	r := <-ch
	p.card.Remove()
	if r.err == nil && r.code != http.StatusOK {
		r.err = fmt.Errorf("demo: card: %d", r.code)
	}
	if r.err == nil {
		p.cards.Add(1)
	}
	return r.doc, r.err
}

// post sends a kiosk page's request to kiosk k and decodes the answer.
func (dp *devicePeople) post(ctx context.Context, k int, api string, body, out any) (int, error) {
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/kiosk/%d/api/%s", dp.base, k+1, api), r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := dp.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 && out != nil {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, err
}

// Press presses the key on the window's terminal and waits for the
// outcome, as staff watch their bar; keys the terminal lacks go to the
// gateway.
func (dp *devicePeople) Press(ctx context.Context, pr Press) (Outcome, error) {
	d := dp.p.d.Load()
	var key windowbus.Key
	var arg uint16
	var err error
	switch pr.Key {
	case KeyCallNext:
		key = windowbus.KeyCall
	case KeyRecall:
		key = windowbus.KeyRecall
	case KeySkip:
		key = windowbus.KeySkip
	case KeyHold:
		key = windowbus.KeyHold
	case KeyFinish:
		key = windowbus.KeyFinish
	case KeyUnpause:
		key = windowbus.KeyResume
	case KeyPause:
		key = windowbus.KeyPause
		if i := slices.Index(d.Cfg.Devices.PauseReasonList(), pr.Reason); i >= 0 {
			arg = uint16(i + 1)
		}
	case KeyTransfer:
		key = windowbus.KeyTransfer
		err = d.Gateway.View(ctx, func(h *hall.Hall) {
			i := slices.IndexFunc(h.Services(), func(s hall.ServiceView) bool { return s.ID == pr.To })
			arg = windowbus.ArgService | uint16(i+1)
		})
	case KeyResume:
		key = windowbus.KeyCall // the held ticket's number, then call
		err = d.Gateway.View(ctx, func(h *hall.Hall) {
			if t, ok := h.Ticket(pr.Ticket); ok {
				if n, ok := digits(t.Number); ok {
					arg = uint16(n)
				}
			}
		})
	default:
		return dp.next.Press(ctx, pr)
	}
	if err != nil {
		return Outcome{}, err
	}
	if err := dp.press(ctx, pr.Window, key, arg); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err = d.Gateway.View(ctx, func(h *hall.Hall) {
		if w, ok := h.Window(pr.Window); ok {
			out = Outcome{Ticket: w.Current, Number: w.CurrentNumber}
			if t, ok := h.Ticket(w.Current); ok {
				out.Service = t.Service
			}
		}
	})
	return out, err
}

// Rate presses the rating key of the grade, after the reason number for a
// 差评.
func (dp *devicePeople) Rate(ctx context.Context, window string, grade, reason int) error {
	if grade < 1 || grade > 5 {
		return dp.next.Rate(ctx, window, grade, reason)
	}
	return dp.press(ctx, window, windowbus.KeyRate1+windowbus.Key(grade-1), uint16(max(reason, 0)))
}

// press presses key on window's terminal and waits until the gateway has
// handled it; the error is the hall's refusal.
func (dp *devicePeople) press(ctx context.Context, window string, key windowbus.Key, arg uint16) error {
	p := dp.p
	d := p.d.Load()
	i := slices.IndexFunc(d.Cfg.Windows, func(w config.Window) bool { return w.ID == window })
	if i < 0 {
		return fmt.Errorf("demo: window %s has no terminal", window)
	}
	a := windowbus.Addr(d.Cfg.Windows[i].Number)
	p.presses.Add(1)
	seq, _, err := p.bus.Press(a, key, arg)
	if err != nil {
		return err
	}
	k := pressKey{a, seq}
	p.mu.Lock()
	r, done := p.early[k]
	var ch chan frontdesk.PressResult
	if done {
		delete(p.early, k)
	} else {
		ch = make(chan frontdesk.PressResult, 1)
		p.waiters[k] = ch
	}
	p.mu.Unlock()
	if !done {
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case r = <-ch:
		case <-ctx.Done():
			p.forget(k)
			return ctx.Err()
		case <-t.C:
			p.forget(k)
			return fmt.Errorf("demo: press %v at window %s not answered", key, window)
		}
	}
	if r.Err != nil {
		p.pressRefused.Add(1)
		p.mu.Lock()
		p.refusal[r.Text]++
		p.mu.Unlock()
	}
	return r.Err
}

func (p *devicesPart) forget(k pressKey) {
	p.mu.Lock()
	delete(p.waiters, k)
	p.mu.Unlock()
}

func digits(number string) (int, bool) {
	i := strings.IndexFunc(number, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return 0, false
	}
	n := 0
	for _, r := range number[i:] {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// Made-up identities: area code 000000 is no place's; the check digit is
// right, so the reader accepts the card.
var demoNames = []string{"张建国", "李秀英", "王德明", "刘桂兰", "陈志强", "杨淑珍", "赵振华", "黄玉梅"}

func demoCard(name string, birth time.Time, serial int) *idcard.Card {
	first := fmt.Sprintf("000000%s%03d", birth.Format("20060102"), serial%1000)
	check, _ := idcard.CheckDigit(first)
	c, _ := idcardsim.ParsePlace([]string{name, first + string(check), birth.Format("20060102")})
	return c
}

// elderCard is a card of a citizen over 60.
func elderCard() *idcard.Card {
	birth := time.Date(1940+rand.IntN(20), time.Month(1+rand.IntN(12)), 1+rand.IntN(28), 0, 0, 0, 0, time.UTC)
	return demoCard(demoNames[rand.IntN(len(demoNames))], birth, rand.IntN(1000))
}

// appointments books a day of appointments on the platform's behalf and
// sends their holders to kiosk 1 ten minutes before their slot: half
// scan the QR code they were sent, half lay their ID card on the reader.
func (dp *devicePeople) appointments(ctx context.Context, k *privacy.Keeper) {
	p := dp.p
	d := p.d.Load()
	clock := p.env.Clock
	loc, _ := d.Cfg.Location()
	now := clock.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	services := []string{"estate", "business", "fund", "social"}
	type visit struct {
		a    hall.Appointment
		card *idcard.Card
	}
	var visits []visit
	var list []hall.Appointment
	for i := range 28 {
		start := day.Add(9*time.Hour + time.Duration(i)*15*time.Minute)
		c := demoCard(demoNames[i%len(demoNames)], time.Date(1960+i, 3, 1+i%28, 0, 0, 0, 0, time.UTC), 500+i)
		a := hall.Appointment{ID: fmt.Sprintf("YY%s-%04d", day.Format("20060102"), i+1), Service: services[i%len(services)],
			Start: start, End: start.Add(30 * time.Minute), HolderHash: k.HolderHash(c.Number)}
		list = append(list, a)
		visits = append(visits, visit{a, c})
	}
	if _, err := d.Gateway.Do(ctx, hall.Command{Op: hall.OpLoadAppointments, Appointments: list, Source: "platform"}); err != nil {
		p.env.Logger.Warn("demo: appointments not loaded", "err", err)
		return
	}
	for i, v := range visits {
		if clock.SleepUntil(ctx, v.a.Start.Add(-10*time.Minute)) != nil {
			return
		}
		if i%2 == 0 {
			if p.scan.Scan(barcode.AppointmentPrefix+v.a.ID) == nil {
				p.qrScans.Add(1)
			}
			continue
		}
		p.kioskMu[0].Lock()
		doc, err := dp.swipe(ctx, v.card)
		if err == nil && len(doc.Appointments) > 0 {
			var t frontdesk.IssuedTicket
			if code, err := dp.post(ctx, 0, "checkin", map[string]string{"appointment": doc.Appointments[0].ID}, &t); err == nil && code == http.StatusCreated {
				p.cardCheckIns.Add(1)
			}
		}
		p.kioskMu[0].Unlock()
	}
}
