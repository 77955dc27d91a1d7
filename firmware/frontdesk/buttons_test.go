package frontdesk

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/hall"
)

// press presses and releases a push button wired to ground.
func press(p *gpiotest.Pin) {
	p.EdgesChan <- gpio.Low
	time.Sleep(80 * time.Millisecond) // held past the debounce
	p.EdgesChan <- gpio.High
}

func TestGPIOButtons(t *testing.T) {
	pins := map[string]*gpiotest.Pin{}
	for _, n := range []string{"GPIO17", "GPIO27"} {
		pins[n] = &gpiotest.Pin{N: n, EdgesChan: make(chan gpio.Level, 8)}
	}
	h := newHall(t, nil)
	p := emuPrinter(t, 115200)
	f := h.start(Options{
		Devices: config.Devices{
			Kiosks: []config.Kiosk{{ID: "1", Printer: &config.Port{Port: p.Path(), Baud: 115200},
				Buttons: []config.KioskButton{{Pin: "GPIO27", Service: "general"}}}},
			CallButtons: []config.CallButton{{Pin: "GPIO17", Window: "2"}},
		},
		OpenPins: func(names []string) ([]gpio.PinIn, error) {
			var out []gpio.PinIn
			for _, n := range names {
				pin, ok := pins[n]
				if !ok {
					return nil, fmt.Errorf("no pin %s", n)
				}
				out = append(out, pin)
			}
			return out, nil
		},
	})
	seen := watchPresses(t, f)
	waitFor(t, "the buttons up", func() bool { d, _ := h.d.Health.Get(gpioID); return d.State == health.Up })
	waitFor(t, "the printer up", func() bool { d, _ := h.d.Health.Get("kiosk-1/printer"); return d.State == health.Up })
	h.open("2")

	press(pins["GPIO27"]) // the kiosk's general button
	if _, err := p.WaitTickets(bounded(t), 1); err != nil {
		t.Fatal(err)
	}
	if text := plain(p.Tickets()[0]); !contains(text, "A001", "综合受理") {
		t.Errorf("ticket from the button:\n%s", p.Tickets()[0].Text())
	}

	press(pins["GPIO17"]) // window 2's call button
	waitFor(t, "the call", func() bool {
		seen.mu.Lock()
		defer seen.mu.Unlock()
		return len(seen.all) == 1
	})
	if r := seen.all[0]; r.Window != "2" || r.Err != nil || r.Bus != "" {
		t.Errorf("call button press = %+v, want a call at window 2", r)
	}
	var cur string
	h.view(func(hl *hall.Hall) { w, _ := hl.Window("2"); cur = w.CurrentNumber })
	if cur != "A001" {
		t.Errorf("window 2 serves %q, want A001", cur)
	}
}

func TestGPIOPinsMissing(t *testing.T) {
	h := newHall(t, nil)
	h.start(Options{
		Devices:  config.Devices{CallButtons: []config.CallButton{{Pin: "GPIO17", Window: "2"}}},
		OpenPins: func([]string) ([]gpio.PinIn, error) { return nil, errors.New("gpiokey: no GPIO on this board") },
	})
	waitFor(t, "the buttons reported down", func() bool {
		d, _ := h.d.Health.Get(gpioID)
		return d.State == health.Down && d.Reason == "gpiokey: no GPIO on this board"
	})
}
