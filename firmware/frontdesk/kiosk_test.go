package frontdesk

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/barcode/barcodesim"
	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/idcard"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/firmware/privacy"
	"hallgw/hall"
)

// plain returns a printed ticket's characters, line by line, without the
// layout.
func plain(t escpossim.RenderedTicket) string {
	var b strings.Builder
	for _, l := range t.Lines {
		b.WriteString(l.Text())
		if l.QR != "" {
			b.WriteString("[QR: " + l.QR + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// kioskHall is a hall with kiosk 1 printing on an emulated printer.
func kioskHall(t *testing.T, mod func(h *testHall, o *Options)) (*testHall, *Frontdesk, *escpossim.Printer) {
	h := newHall(t, func(c *config.Config) {
		c.Gateway.TicketURL = "https://hall.example/t/{number}?id={ticket}"
	})
	p := emuPrinter(t, 115200)
	o := Options{Devices: config.Devices{Kiosks: []config.Kiosk{{ID: "1", PaperWidth: 80,
		Printer: &config.Port{Port: p.Path(), Baud: 115200}}}}}
	if mod != nil {
		mod(h, &o)
	}
	f := h.start(o)
	waitFor(t, "the printer up", func() bool {
		d, _ := h.d.Health.Get("kiosk-1/printer")
		return d.State == health.Up
	})
	return h, f, p
}

func TestKioskIssuePrintsTheTicket(t *testing.T) {
	h, _, p := kioskHall(t, nil)
	h.open("3", "4")
	h.issue("social", 2)

	var got IssuedTicket
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "social"}, &got); code != http.StatusCreated {
		t.Fatalf("POST api/tickets = %d %+v, want 201", code, got)
	}
	if got.Number != "C003" || got.ServiceName != "社保医保" || got.Ahead != 2 || !got.Printed ||
		fmt.Sprint(got.Windows) != "[3 4]" || got.Estimate == nil || !got.Estimate.Known {
		t.Errorf("answer = %+v, want C003 社保医保, 2 ahead, windows [3 4], a known estimate, printed", got)
	}
	tickets, err := p.WaitTickets(bounded(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	text := plain(tickets[0])
	for _, want := range []string{"示范市政务服务中心", "C003", "社保医保", "您前面还有 2 人等待", "预计等待 约 ",
		"办理窗口: 3, 4", "取号时间: ", "过号请重新取号", "[QR: https://hall.example/t/C003?id=gw-demo-01:", "请留意叫号屏幕和语音提示"} {
		if !strings.Contains(text, want) {
			t.Errorf("printed ticket lacks %q:\n%s", want, tickets[0].Text())
		}
	}
	if !tickets[0].Complete {
		t.Error("ticket incomplete")
	}
	var src string
	h.view(func(hl *hall.Hall) {
		tv, _ := hl.TicketByNumber("C003")
		src = tv.Source
	})
	if src != SourceKiosk {
		t.Errorf("ticket source %q, want %q", src, SourceKiosk)
	}
}

func TestKioskWithoutPaperRefusesAndJournalsNothing(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(p *escpossim.Printer)
		message string
		reason  string
	}{
		{"paper end", func(p *escpossim.Printer) { p.SetPaper(escpossim.PaperEnd) }, msgNoPaper, "paper end"},
		{"cover open", func(p *escpossim.Printer) { p.SetCoverOpen(true) }, msgCoverOpen, "cover open"},
		{"offline", func(p *escpossim.Printer) { p.SetOffline(true) }, msgPrinterDown, "offline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, p := kioskHall(t, nil)
			h.open("1")
			tt.fault(p)
			before := h.d.Journal.Committed()
			var got Refusal
			code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got)
			if code != http.StatusConflict || got.Code != "printer_unavailable" || got.Message != tt.message {
				t.Errorf("POST api/tickets = %d %+v, want 409 printer_unavailable %q", code, got, tt.message)
			}
			if after := h.d.Journal.Committed(); after != before {
				t.Errorf("journal went from seq %d to %d: something was journaled", before, after)
			}
			if n := len(p.Tickets()); n != 0 {
				t.Errorf("%d tickets printed", n)
			}
			var doc ServicesDoc
			h.request(http.MethodGet, "/kiosk/1/api/services", nil, &doc)
			if doc.Printer.CanPrint || doc.Printer.Message != tt.message {
				t.Errorf("services printer = %+v, want cannot print with %q", doc.Printer, tt.message)
			}
			d, _ := h.d.Health.Get("kiosk-1/printer")
			if d.State != health.Down || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("printer health %s %q, want down with %q", d.State, d.Reason, tt.reason)
			}
		})
	}
}

func TestKioskPaperNearEndPrintsAndWarns(t *testing.T) {
	h, _, p := kioskHall(t, nil)
	h.open("1")
	p.SetPaper(escpossim.PaperNearEnd)
	var got IssuedTicket
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != http.StatusCreated || !got.Printed {
		t.Fatalf("POST api/tickets = %d %+v, want 201 printed", code, got)
	}
	d, _ := h.d.Health.Get("kiosk-1/printer")
	if d.State != health.Degraded || d.Detail["paper"] != "near_end" {
		t.Errorf("printer health %s %v, want degraded with paper near_end", d.State, d.Detail)
	}
}

func TestKioskPrintFailureKeepsTheTicketForAReprint(t *testing.T) {
	h, _, p := kioskHall(t, nil)
	h.open("1")
	p.RunOutAfter(3) // the roll ends three lines into the ticket
	var got IssuedTicket
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != http.StatusCreated {
		t.Fatalf("POST api/tickets = %d %+v, want 201 (issued)", code, got)
	}
	if got.Printed || got.Code != "print_failed" || got.Number != "A001" {
		t.Errorf("answer = %+v, want A001 not printed with print_failed", got)
	}
	var waiting int
	h.view(func(hl *hall.Hall) { waiting = hl.Services()[0].Waiting })
	if waiting != 1 {
		t.Errorf("%d waiting: the issued ticket must stay", waiting)
	}
	d, _ := h.d.Health.Get("kiosk-1/printer")
	if d.Errors["print_failed"] != 1 || d.State != health.Down {
		t.Errorf("printer health %s %v, want down with a print failure counted", d.State, d.Errors)
	}

	p.SetPaper(escpossim.PaperOK)
	var again IssuedTicket
	if code := h.post("/kiosk/1/api/reprint", map[string]string{"ticket": "A001"}, &again); code != http.StatusOK || !again.Printed {
		t.Fatalf("POST api/reprint = %d %+v, want 200 printed", code, again)
	}
	tickets := waitTickets(t, p, 2)
	last := plain(tickets[len(tickets)-1])
	if !contains(last, "A001", "补打小票", "综合受理") {
		t.Errorf("reprint:\n%s", tickets[len(tickets)-1].Text())
	}
	if code := h.post("/kiosk/1/api/reprint", map[string]string{"ticket": "Z999"}, &Refusal{}); code != http.StatusNotFound {
		t.Errorf("reprint of an unknown ticket = %d, want 404", code)
	}
}

func TestKioskServicesAndRefusals(t *testing.T) {
	h, _, _ := kioskHall(t, nil)
	h.open("1")
	h.issue("general", 3)
	var doc ServicesDoc
	if code := h.request(http.MethodGet, "/kiosk/1/api/services", nil, &doc); code != http.StatusOK {
		t.Fatalf("GET api/services = %d", code)
	}
	if doc.Hall != "示范市政务服务中心" || !doc.Printer.CanPrint || doc.CardReader || len(doc.Services) != 10 {
		t.Fatalf("services = %+v", doc)
	}
	g, e := doc.Services[0], doc.Services[1]
	if g.ID != "general" || g.Waiting != 3 || !g.Open || g.CapLeft == nil || *g.CapLeft != 597 || !g.Estimate.Known {
		t.Errorf("general = %+v", g)
	}
	if e.ID != "estate" || e.Open || e.Estimate.Known {
		t.Errorf("estate = %+v, want closed and no estimate", e)
	}
	tests := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"no window open", "/kiosk/1/api/tickets", map[string]string{"service": "estate"}, 409, "no_open_window"},
		{"unknown service", "/kiosk/1/api/tickets", map[string]string{"service": "nope"}, 409, "unknown_service"},
		{"malformed", "/kiosk/1/api/tickets", []int{1}, 400, "bad_request"},
		{"unknown appointment", "/kiosk/1/api/checkin", map[string]string{"appointment": "YY-1"}, 409, "unknown_appointment"},
		{"unknown kiosk", "/kiosk/9/api/tickets", map[string]string{"service": "general"}, 404, "unknown_kiosk"},
		{"no card reader", "/kiosk/1/api/card", nil, 503, "card_reader_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Refusal
			if code := h.post(tt.path, tt.body, &r); code != tt.status || r.Code != tt.code || r.Message == "" {
				t.Errorf("POST %s = %d %+v, want %d %s with a message", tt.path, code, r, tt.status, tt.code)
			}
		})
	}
}

func TestKioskDailyCap(t *testing.T) {
	h, _, _ := kioskHall(t, nil)
	h.open("20")
	var hc hall.Config
	h.view(func(hl *hall.Hall) { hc = hl.Config() })
	hc.Services = append([]hall.ServiceConfig(nil), hc.Services...)
	for i := range hc.Services {
		if hc.Services[i].ID == "unresolved" {
			hc.Services[i].DailyCap = 1
		}
	}
	if err := h.d.Gateway.ApplyConfig(context.Background(), hc, "test"); err != nil {
		t.Fatal(err)
	}
	var ok IssuedTicket
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "unresolved"}, &ok); code != 201 {
		t.Fatalf("first ticket = %d", code)
	}
	var r Refusal
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "unresolved"}, &r); code != 409 ||
		r.Code != "daily_cap_reached" || r.Message != "今日该业务号源已取完，请明日再来或网上预约" {
		t.Errorf("over the cap = %d %+v", code, r)
	}
}

// Test identities: the area code 000000 is no place's, the check digits
// are right.
const (
	elderNumber = "000000195501010016"
	youngNumber = "00000019900101000X"
)

func placeCard(t *testing.T, sim *idcardsim.Sim, name, number, birth string) {
	t.Helper()
	c, err := idcardsim.ParsePlace([]string{name, number, birth})
	if err != nil {
		t.Fatal(err)
	}
	if err := idcard.ValidNumber(number); err != nil {
		t.Fatal(err)
	}
	if err := sim.Place(c); err != nil {
		t.Fatal(err)
	}
}

func TestKioskIDCardGreenChannelAndCheckIn(t *testing.T) {
	var k *privacy.Keeper
	reader, err := idcardsim.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	h, _, p := kioskHall(t, func(h *testHall, o *Options) {
		o.Devices.Kiosks[0].IDCard = &config.Port{Port: reader.Path(), Baud: 115200}
		k = h.keeper()
		o.Keeper = k
	})
	waitFor(t, "the reader up", func() bool {
		d, _ := h.d.Health.Get("kiosk-1/idcard")
		return d.State == health.Up
	})
	h.open("1", "13")
	now := h.d.Now()
	h.do(hall.Command{Op: hall.OpLoadAppointments, Source: "platform", Appointments: []hall.Appointment{
		{ID: "YY-0031", Service: "business", Start: now.Add(-5 * time.Minute), End: now.Add(25 * time.Minute), HolderHash: k.HolderHash(elderNumber)},
		{ID: "YY-0032", Service: "business", Start: now.Add(5 * time.Minute), End: now.Add(35 * time.Minute), HolderHash: k.HolderHash(youngNumber)},
	}})

	// The card screen: an elderly holder with an appointment.
	card := make(chan CardDoc, 1)
	go func() {
		var doc CardDoc
		if code := h.post("/kiosk/1/api/card", nil, &doc); code != http.StatusOK {
			t.Errorf("POST api/card = %d", code)
		}
		card <- doc
	}()
	time.Sleep(50 * time.Millisecond) // the citizen reads the screen, then lays the card down
	placeCard(t, reader, "张小三", elderNumber, "19550101")
	doc := <-card
	if doc.MaskedName != "张*三" || !doc.Green || doc.Age < 70 || len(doc.Appointments) != 1 || doc.Appointments[0].ID != "YY-0031" {
		t.Fatalf("card = %+v, want 张*三, green, 70+, appointment YY-0031", doc)
	}
	var got IssuedTicket
	if code := h.post("/kiosk/1/api/checkin", map[string]string{"appointment": "YY-0031"}, &got); code != http.StatusCreated || !got.Printed {
		t.Fatalf("POST api/checkin = %d %+v", code, got)
	}
	var tv hall.TicketView
	h.view(func(hl *hall.Hall) { tv, _ = hl.TicketByNumber(got.Number) })
	if tv.Priority != hall.PriorityAppointment || tv.Appointment != "YY-0031" || len(tv.Personal) == 0 {
		t.Errorf("ticket = %+v, want the appointment's, with sealed personal data", tv)
	}
	var s privacy.Subject
	if err := k.Open(tv.Personal, &s); err != nil || s.Number != elderNumber || s.Name != "张小三" {
		t.Errorf("sealed subject %v, %v: want the card's holder", s, err)
	}
	tickets := waitTickets(t, p, 1)
	if text := plain(tickets[0]); !contains(text, "取号人: 张*三", "预约签到") || strings.Contains(text, "张小三") {
		t.Errorf("checked-in ticket:\n%s", tickets[0].Text())
	}

	// A second card, then a walk-in ticket: the card is used once.
	reader.Remove()
	go func() {
		var doc CardDoc
		h.post("/kiosk/1/api/card", nil, &doc)
		card <- doc
	}()
	time.Sleep(50 * time.Millisecond)
	placeCard(t, reader, "王五", elderNumber, "19550101")
	<-card
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != http.StatusCreated {
		t.Fatalf("POST api/tickets = %d", code)
	}
	h.view(func(hl *hall.Hall) { tv, _ = hl.TicketByNumber(got.Number) })
	if tv.Priority != hall.Green || tv.GreenReason != "elderly" {
		t.Errorf("ticket after an elderly card: %v %q, want green elderly", tv.Priority, tv.GreenReason)
	}
	if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != http.StatusCreated {
		t.Fatalf("POST api/tickets = %d", code)
	}
	h.view(func(hl *hall.Hall) { tv, _ = hl.TicketByNumber(got.Number) })
	if tv.Priority != hall.Normal || len(tv.Personal) != 0 {
		t.Errorf("next ticket %v with %d bytes personal: the card must apply once", tv.Priority, len(tv.Personal))
	}

	// Nothing personal in the log.
	logs := h.log.String()
	for _, s := range []string{elderNumber, "张小三", "王五"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

func TestKioskNoCard(t *testing.T) {
	reader, err := idcardsim.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	h, _, _ := kioskHall(t, func(_ *testHall, o *Options) {
		o.Devices.Kiosks[0].IDCard = &config.Port{Port: reader.Path(), Baud: 115200}
		o.CardWait = 300 * time.Millisecond
	})
	waitFor(t, "the reader up", func() bool {
		d, _ := h.d.Health.Get("kiosk-1/idcard")
		return d.State == health.Up
	})
	var r Refusal
	if code := h.post("/kiosk/1/api/card", nil, &r); code != http.StatusRequestTimeout || r.Code != "no_card" || r.Message != "未读到身份证" {
		t.Errorf("POST api/card without a card = %d %+v, want 408 no_card", code, r)
	}
	var doc ServicesDoc
	h.request(http.MethodGet, "/kiosk/1/api/services", nil, &doc)
	if !doc.CardReader {
		t.Error("card_reader false with a reader up")
	}
}

func TestKioskScannerChecksIn(t *testing.T) {
	scan, err := barcodesim.Start(&barcodesim.Opts{Baud: 115200, Suffix: "\r"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scan.Close() })
	h, f, p := kioskHall(t, func(_ *testHall, o *Options) {
		o.Devices.Kiosks[0].Barcode = &config.Port{Port: scan.Path(), Baud: 115200}
	})
	waitFor(t, "the scanner up", func() bool {
		d, _ := h.d.Health.Get("kiosk-1/barcode")
		return d.State == health.Up
	})
	h.open("7")
	now := h.d.Now()
	h.do(hall.Command{Op: hall.OpLoadAppointments, Source: "platform", Appointments: []hall.Appointment{
		{ID: "A20261128-0042", Service: "estate", Start: now.Add(10 * time.Minute), End: now.Add(40 * time.Minute)},
	}})
	if err := scan.Scan("https://example.com/not-ours"); err != nil {
		t.Fatal(err)
	}
	if err := scan.Scan("HALLGW-APPT:A20261128-0042"); err != nil {
		t.Fatal(err)
	}
	tickets, err := p.WaitTickets(bounded(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if text := plain(tickets[0]); !contains(text, "B001", "不动产登记", "预约签到") {
		t.Errorf("checked-in ticket:\n%s", tickets[0].Text())
	}
	var checked bool
	h.view(func(hl *hall.Hall) {
		_, ids := hl.Appointments()
		checked = ids[0] != 0
	})
	if !checked {
		t.Error("appointment not checked in")
	}
	waitFor(t, "the check-in counted", func() bool { return f.kiosks["1"].Status().CheckIns == 1 })
	if st := f.kiosks["1"].Status(); st.Scans != 2 {
		t.Errorf("scans %d, want 2", st.Scans)
	}
	d, _ := h.d.Health.Get("kiosk-1/barcode")
	if d.Errors["unknown_code"] != 1 {
		t.Errorf("barcode health errors %v, want one unknown code", d.Errors)
	}
}

func TestKioskConcurrentTicketsPrintInOrder(t *testing.T) {
	h, _, p := kioskHall(t, nil)
	h.open("1")
	const n = 6
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got IssuedTicket
			if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &got); code != 201 || !got.Printed {
				t.Errorf("POST api/tickets = %d %+v", code, got)
			}
		}()
	}
	wg.Wait()
	tickets := waitTickets(t, p, n)
	for i, tk := range tickets {
		if want := fmt.Sprintf("A%03d", i+1); !strings.Contains(plain(tk), want) {
			t.Errorf("ticket %d is not %s:\n%s", i+1, want, tk.Text())
		}
	}
}
