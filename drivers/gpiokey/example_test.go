package gpiokey_test

import (
	"context"
	"log"

	"hallgw/drivers/gpiokey"
	"hallgw/drivers/windowbus"
)

// Example wires two call buttons on a board: GPIO17 calls the next ticket
// at window 3 (a long press recalls), GPIO27 finishes it.
func Example() {
	pins, err := gpiokey.Open([]string{"GPIO17", "GPIO27"})
	if err != nil {
		log.Fatal(err)
	}
	dev, err := gpiokey.New([]gpiokey.Button{
		{Pin: pins[0], Window: 3, Key: windowbus.KeyCall, LongKey: windowbus.KeyRecall},
		{Pin: pins[1], Window: 3, Key: windowbus.KeyFinish},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	go dev.Run(ctx)
	for p := range dev.Presses() {
		log.Printf("window %d: %s", p.Window, p.Key)
	}
}
