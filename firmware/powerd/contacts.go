package powerd

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/drycontact"
)

// startContacts opens the contact pins and forwards their events to the
// loop until they are halted.
func (m *Monitor) startContacts(ctx context.Context) error {
	dc := m.cfg.DryContact
	ob, err := m.o.OpenPin(dc.OnBattery)
	if err != nil {
		return err
	}
	var lb gpio.PinIn
	if dc.LowBattery != "" {
		if lb, err = m.o.OpenPin(dc.LowBattery); err != nil {
			return err
		}
	}
	o := drycontact.DefaultOpts
	if m.o.Contacts != nil {
		o = *m.o.Contacts
	}
	o.OnBatteryActive, o.LowBatteryActive, o.Pull = gpio.High, gpio.High, gpio.PullDown
	if dc.ContactsActiveLow() {
		o.OnBatteryActive, o.LowBatteryActive, o.Pull = gpio.Low, gpio.Low, gpio.PullUp
	}
	o.Clock = m.clock
	d, err := drycontact.New(ob, lb, &o)
	if err != nil {
		return fmt.Errorf("powerd: contacts: %w", err)
	}
	m.mu.Lock()
	m.contacts = d
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for e := range d.Events() {
			m.send(ctx, input{contact: &e})
		}
	}()
	return nil
}
