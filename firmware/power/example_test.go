package power_test

import (
	"fmt"
	"time"

	"hallgw/firmware/power"
)

func ExamplePolicy() {
	p, _ := power.New(power.DefaultConfig)
	t := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	show := func(acts []power.Action) {
		for _, a := range acts {
			fmt.Println(a)
		}
	}
	show(p.Contact(t, power.ContactOnBattery, true))                                   // the relay moves
	show(p.UPS(power.Sample{At: t.Add(time.Second), OnBattery: true}))                 // the poll agrees
	show(p.UPS(power.Sample{At: t.Add(time.Hour), OnBattery: true, LowBattery: true})) // battery low
	// Output:
	// raise-alarm on-battery
	// show-notice on-battery
	// raise-alarm power-critical
	// stop-tickets
	// show-notice maintenance
	// flush-journal
	// kill-power
	// shutdown
}
