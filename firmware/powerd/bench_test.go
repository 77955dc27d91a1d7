package powerd

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"hallgw/drivers/ups/upssim"
	"hallgw/firmware/config"
	"hallgw/firmware/journal"
	"hallgw/firmware/uplink"
)

// waitCount waits until the journal holds n power records.
func waitCount(b *testing.B, j *journal.Journal, n int) {
	b.Helper()
	deadline := time.After(20 * time.Second)
	for {
		changed := j.Changed()
		recs, err := j.Read(1, 0)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for _, r := range recs {
			if r.Kind == KindPower {
				got++
			}
		}
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			b.Fatalf("%d power records, want %d", got, n)
		}
	}
}

// BenchmarkOutageToRecord measures the time from the UPS reporting mains
// failure to the on_battery record (with its alert) being durable, by the
// dry contact (edge-driven, 20 ms debounce) and by the serial Q1 poll
// (every 500 ms, the default), against the baseline of journaling the same two records directly.
func BenchmarkOutageToRecord(b *testing.B) {
	b.Run("baseline-append", func(b *testing.B) {
		h := openHall(b, b.TempDir(), nil)
		data, _ := json.Marshal(Record{Type: RecOnBattery, At: time.Now().UTC(), Sources: []string{"contact"}})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := h.j.Append(context.Background(),
				journal.Record{Kind: KindPower, Data: data}, journal.Record{Kind: uplink.KindAlert, Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("contact", func(b *testing.B) {
		clk := newJumpClock()
		h := openHall(b, b.TempDir(), clk.Now)
		pin := &gpiotest.Pin{N: "GPIO17", L: gpio.High, EdgesChan: make(chan gpio.Level)}
		r := startMonitor(b, h, Options{Config: config.Power{DryContact: config.DryContact{OnBattery: "GPIO17"}},
			Clock: clk, Logger: discard(), OpenPin: func(string) (gpio.PinIn, error) { return pin, nil }})
		eventually(b, "the contact read", func() bool { return r.m.Status().Mains == "on" })
		n := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			pin.EdgesChan <- gpio.Low
			n++
			waitCount(b, h.j, n)
			b.StopTimer()
			pin.EdgesChan <- gpio.High
			eventually(b, "restoring", func() bool { return r.m.Status().State == "restoring" })
			clk.Jump(time.Minute)
			n++
			waitCount(b, h.j, n)
			b.StartTimer()
		}
	})
	b.Run("serial", func(b *testing.B) {
		clk := newJumpClock()
		u := startUPS(b, upssim.Config{Now: clk.Now})
		h := openHall(b, b.TempDir(), clk.Now)
		cfg := serialConfig(u.path)
		cfg.UPS.Poll = config.Duration(config.DefaultUPSPoll)
		r := startMonitor(b, h, Options{Config: cfg, Clock: clk, Logger: discard()})
		eventually(b, "the UPS on mains", func() bool { return r.m.Status().Mains == "on" })
		n := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			u.sim.SetMains(false)
			n++
			waitCount(b, h.j, n)
			b.StopTimer()
			u.sim.SetMains(true)
			eventually(b, "restoring", func() bool { return r.m.Status().State == "restoring" })
			clk.Jump(time.Minute)
			n++
			waitCount(b, h.j, n)
			b.StartTimer()
		}
	})
}
