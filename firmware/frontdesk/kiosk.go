package frontdesk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/drivers/idcard"
	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/privacy"
	"hallgw/hall"
)

// SourceKiosk is the Source of the tickets a kiosk issues.
const SourceKiosk = "kiosk"

// Ticket wording printed under the ticket's facts.
const (
	ticketNotice  = "过号请重新取号"
	ticketFooter  = "请留意叫号屏幕和语音提示"
	ticketReprint = "补打小票"
	keepUnprinted = 64 // tickets kept for a reprint after a failed print
)

// Kiosk is one ticket machine: its printer, ID-card reader, barcode
// scanner and buttons, and the service behind its page.
type Kiosk struct {
	f       *Frontdesk
	cfg     config.Kiosk
	id      string // health id prefix, "kiosk-<id>"
	printer *printerDev
	card    *cardDev
	scanner *scanDev

	issueMu sync.Mutex // one ticket at a time: status, issue, print

	mu        sync.Mutex
	held      *heldCard
	unprinted map[string]escpos.Ticket // by number
	order     []string
	refusals  map[string]uint64

	issued, printed, printFailed, refused atomic.Uint64
}

// heldCard is an ID card read at the kiosk, waiting for the ticket or
// check-in it applies to. It holds the clear card: it never leaves the
// kiosk's memory and is forgotten after one use or when it expires.
type heldCard struct {
	card  *idcard.Card
	hash  string // holder hash, "" without a keeper
	until time.Time
}

func newKiosk(f *Frontdesk, kc config.Kiosk) (*Kiosk, error) {
	k := &Kiosk{f: f, cfg: kc, id: "kiosk-" + kc.ID, unprinted: map[string]escpos.Ticket{}, refusals: map[string]uint64{}}
	if kc.Printer != nil {
		k.printer = newPrinter(k, k.id, kc.Printer.Port, kc.Printer.Baud, kc.PaperWidth)
	}
	if kc.IDCard != nil {
		k.card = newCard(k, *kc.IDCard)
	}
	if kc.Barcode != nil {
		k.scanner = newScanner(k, *kc.Barcode)
	}
	return k, nil
}

// ID returns the kiosk's configured id.
func (k *Kiosk) ID() string { return k.cfg.ID }

func (k *Kiosk) start() {
	f := k.f
	if k.printer != nil {
		f.goRun(func(ctx context.Context) { f.supervise(ctx, k.printer.dev, k.printer.session) })
	}
	if k.card != nil {
		f.goRun(func(ctx context.Context) { f.supervise(ctx, k.card.dev, k.card.session) })
	}
	if k.scanner != nil {
		f.goRun(func(ctx context.Context) { f.supervise(ctx, k.scanner.dev, k.scanner.session) })
	}
}

// Refusal is a ticket the kiosk did not issue: the code picks the page's
// title (docs/kiosk.md), the message is shown to the citizen as it is.
type Refusal struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Code    string `json:"code"`
}

func (r *Refusal) Error() string { return "frontdesk: ticket refused: " + r.Code }

// Refusal codes and messages.
var (
	refuseBadRequest  = &Refusal{http.StatusBadRequest, "请求有误，请重试", "bad_request"}
	refuseUnknown     = &Refusal{http.StatusConflict, "没有这项业务，请到咨询台咨询", "unknown_service"}
	refuseNoWindow    = &Refusal{http.StatusConflict, "该业务暂停办理，请到咨询台咨询", "no_open_window"}
	refuseCap         = &Refusal{http.StatusConflict, "今日该业务号源已取完，请明日再来或网上预约", "daily_cap_reached"}
	refuseEarly       = &Refusal{http.StatusConflict, "还未到签到时间，请在预约时段开始前30分钟内签到", "appointment_early"}
	refuseLate        = &Refusal{http.StatusConflict, "预约时段已过，请重新取号或预约", "appointment_late"}
	refuseNoAppt      = &Refusal{http.StatusConflict, "未找到您的预约，请核对后重试或到咨询台咨询", "unknown_appointment"}
	refuseCheckedIn   = &Refusal{http.StatusConflict, "该预约已签到，请留意叫号", "already_checked_in"}
	refuseInternal    = &Refusal{http.StatusServiceUnavailable, "暂时无法取号，请到咨询台咨询", "internal"}
	refuseNoCard      = &Refusal{http.StatusRequestTimeout, "未读到身份证", "no_card"}
	refuseBadCard     = &Refusal{http.StatusConflict, "身份证无法识别，请重新放置或到咨询台咨询", "card_unreadable"}
	refuseNoReader    = &Refusal{http.StatusServiceUnavailable, "读卡器暂不可用，请直接选择业务", "card_reader_unavailable"}
	refuseNotFound    = &Refusal{http.StatusNotFound, "没有这张票", "unknown_ticket"}
	refuseUnauthorize = &Refusal{http.StatusUnauthorized, "需要工作人员授权", "unauthorised"}
)

func printerRefusal(msg string) *Refusal {
	return &Refusal{http.StatusConflict, msg, "printer_unavailable"}
}

// hallRefusal maps a hall refusal to the kiosk's.
func hallRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, hall.ErrDailyCap):
		return refuseCap
	case errors.Is(err, hall.ErrUnknownService):
		return refuseUnknown
	case errors.Is(err, hall.ErrAppointmentEarly):
		return refuseEarly
	case errors.Is(err, hall.ErrAppointmentLate):
		return refuseLate
	case errors.Is(err, hall.ErrUnknownAppointment):
		return refuseNoAppt
	case errors.Is(err, hall.ErrBadState):
		return refuseCheckedIn
	}
	return refuseInternal
}

// IssuedTicket is the kiosk's answer to a ticket: what the page shows.
type IssuedTicket struct {
	Number      string               `json:"number"`
	ServiceName string               `json:"service_name"`
	Ahead       int                  `json:"ahead"`
	Estimate    *gateway.EstimateDoc `json:"estimate"`
	Windows     []int                `json:"windows"`
	Printed     bool                 `json:"printed"`
	// Error and Code say why a ticket issued was not printed.
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
}

// Issue issues a walk-in ticket for service at the kiosk and prints it,
// with the ID card read last applied. See the package doc for the order.
func (k *Kiosk) Issue(ctx context.Context, service string) (IssuedTicket, error) {
	return k.issue(ctx, hall.Command{Op: hall.OpIssue, Service: service, Source: SourceKiosk}, k.takeCard())
}

// CheckIn checks an appointment in at the kiosk and prints its ticket.
// Without an appointment id the ID card read last names the holder.
func (k *Kiosk) CheckIn(ctx context.Context, appointment string) (IssuedTicket, error) {
	card := k.takeCard()
	cmd := hall.Command{Op: hall.OpCheckIn, Appointment: appointment, Source: SourceKiosk}
	if appointment == "" {
		if card == nil || card.hash == "" {
			return IssuedTicket{}, refuseNoAppt
		}
		cmd.HolderHash = card.hash
	}
	return k.issue(ctx, cmd, card)
}

// issue runs the paper policy of docs/printer.md: the printer's status
// first, then the ticket through the gateway, then the print.
func (k *Kiosk) issue(ctx context.Context, cmd hall.Command, card *heldCard) (IssuedTicket, error) {
	f := k.f
	// The citizen may walk away; the ticket, once decided, is still
	// journaled and printed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// What the hall says now: refusals the hall would not make (no
	// window open), the services' names, the windows serving each. The
	// ticket is printed with them, without reading the hall again once it
	// is issued (each reading waits for the journal's commit).
	var rf *Refusal
	names := map[string]string{}
	windows := map[string][]int{}
	err := f.gw.View(ctx, func(h *hall.Hall) {
		for _, s := range h.Services() {
			names[s.ID] = s.Name
			if s.ID == cmd.Service && s.OpenWindows == 0 {
				rf = refuseNoWindow
			}
		}
		for _, w := range h.Windows() {
			if w.State == hall.Open {
				for _, s := range w.Services {
					windows[s] = append(windows[s], w.Number)
				}
			}
		}
	})
	if err != nil {
		return IssuedTicket{}, k.refuse(refuseInternal)
	}
	if cmd.Op == hall.OpIssue {
		if _, ok := names[cmd.Service]; !ok {
			rf = refuseUnknown
		}
		if rf != nil {
			return IssuedTicket{}, k.refuse(rf)
		}
	}
	k.issueMu.Lock()
	defer k.issueMu.Unlock()

	var p *escpos.Printer
	if k.printer != nil {
		if p = k.printer.current(); p == nil {
			return IssuedTicket{}, k.refuse(printerRefusal(msgPrinterDown))
		}
		// The status is read now, before anything is journaled: a cover
		// opened a moment ago refuses the ticket. PrintTicket then trusts
		// this read (escpos.Opts.FreshStatus) and sends the ticket's first
		// byte right after the journal's fsync.
		st, err := p.Status(ctx)
		if err != nil {
			k.printer.fail(p, err)
			k.printer.noteErr(err)
			return IssuedTicket{}, k.refuse(printerRefusal(msgPrinterDown))
		}
		k.printer.account(p)
		k.printer.note(st)
		if !st.CanPrint() {
			return IssuedTicket{}, k.refuse(printerRefusal(printerMessage(st)))
		}
	}

	if card != nil {
		cmd.BirthDate = card.card.Birth
		if f.keeper != nil {
			sealed, err := f.keeper.Seal(f.d.Now(), privacy.SubjectOf(card.card))
			if err != nil {
				f.log.Warn("kiosk: personal data not sealed; ticket issued without it", "kiosk", k.cfg.ID, "err", err)
			} else {
				cmd.Personal = sealed
			}
		}
	}
	evs, err := f.gw.Do(ctx, cmd)
	if err != nil {
		var he *hall.Error
		if !errors.As(err, &he) {
			f.log.Error("kiosk: ticket not issued", "kiosk", k.cfg.ID, "err", err)
		}
		return IssuedTicket{}, k.refuse(hallRefusal(err))
	}
	i := slices.IndexFunc(evs, func(c gateway.Committed) bool { return c.Event.Type == hall.EvTicketIssued })
	if i < 0 {
		return IssuedTicket{}, k.refuse(refuseInternal)
	}
	k.issued.Add(1)
	c := evs[i]
	out, t := k.ticket(c, names[c.Event.Service], windows[c.Event.Service], card)
	if p == nil {
		return out, nil // a kiosk without a printer shows the number only
	}
	if err := p.PrintTicket(ctx, t); err != nil {
		k.printer.fail(p, err)
		if st, _ := p.LastStatus(); !st.CanPrint() {
			k.printer.note(st)
		}
		k.keep(t)
		k.printFailed.Add(1)
		f.log.Warn("kiosk: ticket issued but not printed; kept for a reprint", "kiosk", k.cfg.ID, "err", printErr(t.Number, err))
		f.setHealth(k.printer.dev, func(d *health.Device) { count(d, "print_failed") })
		out.Error, out.Code = "小票未能打印，请记住您的号码，或到咨询台补打", "print_failed"
		return out, nil
	}
	k.printer.account(p)
	st, _ := p.LastStatus()
	k.printer.note(st)
	k.printed.Add(1)
	out.Printed = true
	return out, nil
}

// ticket builds the page's answer and the printed ticket for the issued
// event c of the service called name, served at windows.
func (k *Kiosk) ticket(c gateway.Committed, name string, windows []int, card *heldCard) (IssuedTicket, escpos.Ticket) {
	f := k.f
	e := c.Event
	out := IssuedTicket{Number: e.Number, ServiceName: name, Ahead: e.Ahead, Estimate: gateway.NewEstimateDoc(e.Estimate),
		Windows: append([]int{}, windows...)}
	wins := make([]string, len(windows))
	for i, w := range windows {
		wins[i] = strconv.Itoa(w)
	}
	t := escpos.Ticket{
		HallName: f.d.Cfg.Gateway.HallName, Number: e.Number, ServiceName: name, Ahead: e.Ahead,
		WaitLo: e.Estimate.Lo, WaitHi: e.Estimate.Hi, WaitKnown: e.Estimate.Known, Windows: wins,
		IssuedAt: e.At, Location: k.f.loc, QRData: ticketURL(f.d.Cfg.Gateway.TicketURL, c.ID, e.Number),
		Notice: ticketNotice, Lines: []string{ticketFooter},
	}
	switch e.Priority {
	case hall.Green:
		t.Lines = append([]string{"绿色通道 优先办理"}, t.Lines...)
	case hall.PriorityAppointment:
		t.Lines = append([]string{"预约签到 优先办理"}, t.Lines...)
	}
	if card != nil {
		t.Holder = idcard.MaskName(card.card.Name)
	}
	return out, t
}

// ticketURL fills the configured ticket address.
func ticketURL(pattern, id, number string) string {
	if pattern == "" {
		return ""
	}
	return strings.NewReplacer("{ticket}", url.PathEscape(id), "{number}", url.PathEscape(number)).Replace(pattern)
}

// keep remembers a ticket that did not print, for a reprint.
func (k *Kiosk) keep(t escpos.Ticket) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.unprinted[t.Number]; !ok {
		k.order = append(k.order, t.Number)
	}
	k.unprinted[t.Number] = t
	for len(k.order) > keepUnprinted {
		delete(k.unprinted, k.order[0])
		k.order = k.order[1:]
	}
}

// Reprint prints a ticket issued today again: the one kept after a failed
// print, or else one rebuilt from the hall's record.
func (k *Kiosk) Reprint(ctx context.Context, number string) (IssuedTicket, error) {
	f := k.f
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	k.mu.Lock()
	t, kept := k.unprinted[number]
	k.mu.Unlock()
	var out IssuedTicket
	found := kept
	f.gw.View(ctx, func(h *hall.Hall) {
		tv, ok := h.TicketByNumber(number)
		if !ok {
			return
		}
		found = true
		out = IssuedTicket{Number: tv.Number, Ahead: tv.Ahead, Estimate: gateway.NewEstimateDoc(tv.Estimate), Windows: []int{}}
		var wins []string
		for _, w := range h.Windows() {
			if w.State == hall.Open && slices.Contains(w.Services, tv.Service) {
				out.Windows = append(out.Windows, w.Number)
				wins = append(wins, strconv.Itoa(w.Number))
			}
		}
		for _, s := range h.Services() {
			if s.ID == tv.Service {
				out.ServiceName = s.Name
			}
		}
		if !kept {
			t = escpos.Ticket{HallName: f.d.Cfg.Gateway.HallName, Number: tv.Number, ServiceName: out.ServiceName,
				Ahead: tv.Ahead, WaitLo: tv.Estimate.Lo, WaitHi: tv.Estimate.Hi, WaitKnown: tv.Estimate.Known,
				Windows: wins, IssuedAt: tv.IssuedAt, Location: h.Config().Location, Notice: ticketNotice,
				Lines: []string{ticketFooter}}
		}
	})
	if !found {
		return IssuedTicket{}, refuseNotFound
	}
	t.Lines = append([]string{ticketReprint}, t.Lines...)
	if k.printer == nil {
		return IssuedTicket{}, printerRefusal(msgPrinterDown)
	}
	k.issueMu.Lock()
	defer k.issueMu.Unlock()
	p := k.printer.current()
	if p == nil {
		return IssuedTicket{}, printerRefusal(msgPrinterDown)
	}
	if err := p.PrintTicket(ctx, t); err != nil {
		k.printer.fail(p, err)
		var se *escpos.StatusError
		if errors.As(err, &se) {
			k.printer.note(se.Status)
			return IssuedTicket{}, printerRefusal(printerMessage(se.Status))
		}
		return IssuedTicket{}, printerRefusal(msgPrinterDown)
	}
	k.printer.account(p)
	k.mu.Lock()
	if _, ok := k.unprinted[number]; ok {
		delete(k.unprinted, number)
		k.order = slices.DeleteFunc(k.order, func(n string) bool { return n == number })
	}
	k.mu.Unlock()
	k.printed.Add(1)
	out.Printed = true
	return out, nil
}

// refuse counts a refusal and returns it.
func (k *Kiosk) refuse(r *Refusal) *Refusal {
	k.refused.Add(1)
	k.mu.Lock()
	k.refusals[r.Code]++
	k.mu.Unlock()
	return r
}

// holdCard keeps a card read for the next ticket or check-in, for
// 2 × web.kiosk_return.
func (k *Kiosk) holdCard(c *idcard.Card, hash string) {
	c.Photo = nil
	ret := k.f.d.Cfg.Web.KioskReturn.D()
	if ret <= 0 {
		ret = config.DefaultKioskReturn
	}
	k.mu.Lock()
	k.held = &heldCard{card: c, hash: hash, until: k.f.clock.Now().Add(2 * ret)}
	k.mu.Unlock()
}

// takeCard returns the card held, if it has not expired, and forgets it.
func (k *Kiosk) takeCard() *heldCard {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.held
	k.held = nil
	if c == nil || !k.f.clock.Now().Before(c.until) {
		return nil
	}
	return c
}

// KioskStatus is a kiosk's part of the status.
type KioskStatus struct {
	ID          string            `json:"id"`
	CanPrint    bool              `json:"can_print"`
	Message     string            `json:"message,omitempty"`
	Paper       string            `json:"paper,omitempty"`
	Issued      uint64            `json:"issued"`
	Printed     uint64            `json:"printed"`
	PrintFailed uint64            `json:"print_failed"`
	Refused     uint64            `json:"refused"`
	Refusals    map[string]uint64 `json:"refusals,omitempty"`
	Unprinted   []string          `json:"unprinted,omitempty"` // kept for a reprint
	CardReads   uint64            `json:"card_reads,omitempty"`
	Scans       uint64            `json:"scans,omitempty"`
	CheckIns    uint64            `json:"check_ins,omitempty"`
}

// Status returns the kiosk's figures.
func (k *Kiosk) Status() KioskStatus {
	s := KioskStatus{ID: k.cfg.ID, CanPrint: true, Issued: k.issued.Load(), Printed: k.printed.Load(),
		PrintFailed: k.printFailed.Load(), Refused: k.refused.Load()}
	if k.printer != nil {
		s.CanPrint, s.Message = k.printer.state()
		k.printer.mu.Lock()
		if k.printer.known {
			s.Paper = paperState(k.printer.st)
		}
		k.printer.mu.Unlock()
	}
	k.mu.Lock()
	if len(k.refusals) > 0 {
		s.Refusals = map[string]uint64{}
		for c, n := range k.refusals {
			s.Refusals[c] = n
		}
	}
	s.Unprinted = slices.Clone(k.order)
	k.mu.Unlock()
	if k.card != nil {
		s.CardReads = k.card.reads.Load()
	}
	if k.scanner != nil {
		s.Scans, s.CheckIns = k.scanner.scans.Load(), k.scanner.checkIns.Load()
	}
	return s
}
