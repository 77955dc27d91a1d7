package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/escpos"
	"hallgw/drivers/idcard"
	"hallgw/drivers/ups"
	"hallgw/drivers/voice"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
	"hallgw/firmware/config"
	"hallgw/firmware/probe"
)

// TestTicket is the ticket a printer prints in the self test.
func TestTicket(hallName string, at time.Time, loc *time.Location, device string) escpos.Ticket {
	return escpos.Ticket{HallName: hallName, Number: "测试", ServiceName: "设备自检 / self test", IssuedAt: at,
		Location: loc, Notice: "此票为测试票，不能用于办事", Lines: []string{device}}
}

func (r *run) printer(ctx context.Context, k config.Kiosk) {
	c := Check{Device: k.ID + "/printer", Kind: KindPrinter, Port: k.Printer.Port}
	r.progress(c.Device)
	baud := k.Printer.Baud
	if baud == 0 {
		baud = escpos.DefaultOpts.Baud
	}
	rw, err := r.open(k.Printer.Port, baud)
	if err != nil {
		r.add(c, err)
		return
	}
	defer rw.Close()
	w := escpos.Width80
	if k.PaperWidth == 58 {
		w = escpos.Width58
	}
	p, err := escpos.New(rw, &escpos.Opts{Width: w, Baud: baud, Now: r.o.Now})
	if err != nil {
		r.add(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout+10*time.Second)
	defer cancel()
	loc, _ := r.o.Config.Location()
	if err := p.PrintTicket(ctx, TestTicket(r.o.Config.Gateway.HallName, r.o.Now(), loc, c.Device)); err != nil {
		r.add(c, err)
		return
	}
	st, _ := p.LastStatus()
	c.Pass, c.Result = true, "test ticket printed; "+st.String()
	r.add(c, nil)
}

// barText is the test text of a bar or display.
func barText(kind windowbus.Kind, window string) string {
	if kind == windowbus.KindHall {
		return "系统自检 self test"
	}
	return "自检 窗口" + window
}

type busDev struct {
	check  Check
	addr   windowbus.Addr
	window string
	id     windowbus.Identity
	old    []byte // text shown before the test
	known  bool   // old is the text read back
}

func (r *run) bus(ctx context.Context, i int, b config.Bus) {
	busID := b.ID
	if busID == "" {
		busID = fmt.Sprintf("bus-%d", i+1)
	}
	var devs []*busDev
	for _, t := range b.Terminals {
		devs = append(devs, &busDev{check: Check{Device: fmt.Sprintf("%s/t%02d", busID, t.Address), Kind: KindBar, Port: b.Port},
			addr: windowbus.Addr(t.Address), window: windowNumber(r.o.Config, t.Window)})
	}
	for _, d := range b.Displays {
		devs = append(devs, &busDev{check: Check{Device: fmt.Sprintf("%s/d%03d", busID, d.Address), Kind: KindDisplay, Port: b.Port},
			addr: windowbus.Addr(d.Address)})
	}
	if len(devs) == 0 {
		return
	}
	r.progress(busID)
	baud := b.Baud
	if baud == 0 {
		baud = 9600
	}
	fail := func(err error) {
		for _, d := range devs {
			r.add(d.check, err)
		}
	}
	rw, err := r.open(b.Port, baud)
	if err != nil {
		fail(err)
		return
	}
	defer rw.Close()
	modbus := b.Protocol == "" || b.Protocol == "modbus"
	wait := 200 * time.Millisecond
	// Identify every device and read back its text, before the link
	// takes the port.
	for _, d := range devs {
		if modbus {
			d.id, _, err = probe.ModbusIdentify(rw, d.addr, baud, wait, r.o.Now)
			if err == nil {
				d.old, err = readText(rw, d.addr, baud, wait, r.o.Now)
				d.known = err == nil
				err = nil
			}
		} else {
			d.id, err = probe.VendorIdentify(rw, d.addr, baud, wait, r.o.Now)
		}
		if err != nil {
			d.check.Error = "no answer to identify: " + err.Error()
		}
	}
	var proto windowbus.Protocol = modbusrtu.Protocol{}
	if !modbus {
		proto = vendor.Protocol{}
	}
	link, err := proto.Open(rw, windowbus.LinkOpts{Baud: baud, ReplyTimeout: wait})
	if err != nil {
		fail(err)
		return
	}
	defer link.Halt()
	var lit []*busDev
	for _, d := range devs {
		if d.check.Error != "" {
			continue
		}
		text, err := windowbus.EncodeText(barText(d.id.Kind, d.window))
		if err == nil {
			err = link.Show(d.addr, windowbus.FitText(text, d.id.TextCap))
		}
		if err != nil {
			d.check.Error = "test text not shown: " + err.Error()
			continue
		}
		lit = append(lit, d)
	}
	if len(lit) > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(r.o.BarHold):
		}
	}
	for _, d := range lit {
		if err := link.Show(d.addr, d.old); err != nil {
			d.check.Error = "previous text not restored: " + err.Error()
			continue
		}
		d.check.Pass = true
		d.check.Result = fmt.Sprintf("%s: test text shown, ", probe.KindLabel(d.id.Kind))
		switch {
		case d.known && len(d.old) > 0:
			d.check.Result += fmt.Sprintf("previous text %q restored", windowbus.DecodeText(d.old))
		case d.known:
			d.check.Result += "blank again"
		default:
			d.check.Result += "cleared (the vendor frame cannot read the previous text back)"
		}
	}
	for _, d := range devs {
		var err error
		if d.check.Error != "" {
			err = errors.New(d.check.Error)
		}
		r.add(d.check, err)
	}
}

// readText reads the text a Modbus bar shows now.
func readText(rw io.ReadWriter, a windowbus.Addr, baud int, wait time.Duration, now func() time.Time) ([]byte, error) {
	req := modbusrtu.Request{Unit: uint8(a), Func: modbusrtu.FuncReadHolding, Addr: modbusrtu.HoldTextLen, Count: 1}
	resp, err := probe.ModbusTransact(rw, req, baud, wait, now)
	if err == nil && (resp.Exception != 0 || len(resp.Values) != 1) {
		err = fmt.Errorf("selftest: text length: exception %d", resp.Exception)
	}
	if err != nil {
		return nil, err
	}
	n := int(resp.Values[0])
	if n == 0 {
		return nil, nil
	}
	if n > windowbus.MaxText {
		return nil, fmt.Errorf("selftest: text length %d", n)
	}
	req.Count = uint16(1 + (n+1)/2)
	time.Sleep(modbusrtu.Silence(baud))
	resp, err = probe.ModbusTransact(rw, req, baud, wait, now)
	if err == nil && resp.Exception != 0 {
		err = fmt.Errorf("selftest: text: exception %d", resp.Exception)
	}
	if err != nil {
		return nil, err
	}
	return modbusrtu.UnpackText(resp.Values)
}

// windowNumber returns the number of the window with id, or id itself.
func windowNumber(c *config.Config, id string) string {
	for _, w := range c.Windows {
		if w.ID == id {
			return fmt.Sprint(w.Number)
		}
	}
	return id
}

func (r *run) voice(ctx context.Context) {
	c := Check{Device: "voice", Kind: KindVoice}
	r.progress(c.Device)
	set := r.o.Clips
	if set == nil {
		var err error
		if set, err = voice.Default(); err != nil {
			r.add(c, err)
			return
		}
	}
	comp, err := voice.New(set, nil)
	if err != nil {
		r.add(c, err)
		return
	}
	ann, err := comp.Compose("A001", 1)
	if err != nil {
		r.add(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, ann.Duration+r.o.Timeout+5*time.Second)
	defer cancel()
	if err := r.o.Voice.Play(ctx, ann.WAV); err != nil {
		r.add(c, err)
		return
	}
	c.Pass = true
	c.Result = fmt.Sprintf("test announcement played (%.1f s): %s", ann.Duration.Seconds(), strings.Join(ann.Segments, " "))
	r.add(c, nil)
}

func (r *run) ups(ctx context.Context, p config.Power) {
	c := Check{Device: "ups", Kind: KindUPS, Port: p.UPS.Port}
	r.progress(c.Device)
	rw, err := r.open(p.UPS.Port, p.UPS.Baud)
	if err != nil {
		r.add(c, err)
		return
	}
	defer rw.Close()
	d, err := ups.New(rw, &ups.Opts{BatteryNominal: p.UPS.BatteryNominal, ReplyTimeout: min(r.o.Timeout, 5*time.Second)})
	if err != nil {
		r.add(c, err)
		return
	}
	if p.UPS.BatteryNominal == 0 {
		if _, err := d.Ratings(); err != nil && !errors.Is(err, ups.ErrUnsupported) {
			r.add(c, err)
			return
		}
	}
	s, err := d.Status()
	if err != nil {
		r.add(c, err)
		return
	}
	c.Result = "ups.status " + s.UPSStatus()
	if v := s.BatteryVoltage; v != nil {
		c.Result += fmt.Sprintf(", battery %.2f V", *v)
	}
	if ch := s.BatteryCharge; ch != nil {
		c.Result += fmt.Sprintf(" (%.0f %%)", *ch)
	}
	if l := s.Load; l != nil {
		c.Result += fmt.Sprintf(", load %.0f %%", *l)
	}
	switch {
	case s.Failed:
		err = errors.New("the UPS reports its own failure (" + ups.AlarmFailed + ")")
	case s.OnBattery():
		err = errors.New("the UPS runs on battery: is mains connected?")
	case s.BatteryLow:
		err = errors.New("battery low")
	}
	c.Pass = err == nil
	r.add(c, err)
}

func (r *run) contacts(p config.Power) {
	dc := p.DryContact
	active := gpio.Low
	if !dc.ContactsActiveLow() {
		active = gpio.High
	}
	for _, pin := range []struct{ name, what string }{{dc.OnBattery, "on battery"}, {dc.LowBattery, "low battery"}} {
		if pin.name == "" {
			continue
		}
		c := Check{Device: "ups/" + strings.ReplaceAll(pin.what, " ", "-"), Kind: KindContact, Port: pin.name}
		r.progress(c.Device)
		pi, err := r.o.OpenPin(pin.name)
		if err != nil {
			r.add(c, err)
			continue
		}
		pull := gpio.PullUp
		if active == gpio.High {
			pull = gpio.PullDown
		}
		if err := pi.In(pull, gpio.NoEdge); err != nil {
			r.add(c, err)
			continue
		}
		if pi.Read() == active {
			r.add(c, fmt.Errorf("the %s contact is active", pin.what))
			continue
		}
		c.Pass, c.Result = true, "contact open: "+pin.what+" not signalled"
		r.add(c, nil)
	}
}

func (r *run) reader(ctx context.Context, rd config.WindowReader) {
	c := Check{Device: "window-" + rd.Window + "/reader", Kind: KindIDCard, Port: rd.Port}
	if rd.Window == "" {
		c.Device = "reader " + rd.Port
	}
	r.progress(c.Device)
	rw, err := r.open(rd.Port, rd.BaudOrDefault())
	if err != nil {
		r.add(c, err)
		return
	}
	defer rw.Close()
	rdr, err := idcard.New(rw, &idcard.Opts{HeaderTimeout: r.o.Timeout, FrameTimeout: 5 * time.Second, MaxRetries: 3})
	if err != nil {
		r.add(c, err)
		return
	}
	if err := rdr.SAMStatus(ctx); err != nil {
		r.add(c, fmt.Errorf("security module: %w", err))
		return
	}
	c.Pass, c.Result = true, "security module ready"
	if r.o.CardWait <= 0 {
		r.add(c, nil)
		return
	}
	r.progress(c.Device + ": lay a card on the reader")
	wctx, cancel := context.WithTimeout(ctx, r.o.CardWait)
	defer cancel()
	card, err := rdr.Poll(wctx, rd.PollOrDefault())
	switch {
	case err == nil:
		m := card.Masked()
		c.Result += fmt.Sprintf("; card read: %s %s", m.Name, m.Number)
	case wctx.Err() != nil && ctx.Err() == nil:
		c.Result += "; no card presented"
	case errors.Is(err, idcard.ErrInvalidText):
		c.Pass = false
		r.add(c, fmt.Errorf("card unreadable: %w", err))
		return
	default:
		c.Pass = false
		r.add(c, err)
		return
	}
	r.add(c, nil)
}
