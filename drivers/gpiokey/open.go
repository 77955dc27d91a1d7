package gpiokey

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Open initialises periph's host drivers and returns the pins with the
// given names ("GPIO17", "P1_11", …) for Button.Pin. The daemon calls it;
// tests use gpiotest pins instead.
func Open(names []string) ([]gpio.PinIn, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpiokey: host init: %w", err)
	}
	pins := make([]gpio.PinIn, len(names))
	for i, n := range names {
		p := gpioreg.ByName(n)
		if p == nil {
			return nil, fmt.Errorf("gpiokey: no GPIO pin named %q", n)
		}
		pins[i] = p
	}
	return pins, nil
}
