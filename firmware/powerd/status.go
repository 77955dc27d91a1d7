package powerd

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"hallgw/drivers/drycontact"
	"hallgw/firmware/health"
	"hallgw/firmware/power"
)

// Status is the "power" section of the gateway's status.
type Status struct {
	// State is the policy's: normal, on-battery, restoring, shutting-down.
	State string    `json:"state"`
	Since time.Time `json:"since"`
	// Mains is "on", "off" or "unknown" (no source has reported yet).
	Mains string `json:"mains"`
	// RuntimeS is the estimated time left on battery, seconds, when known.
	RuntimeS *int64         `json:"runtime_s,omitempty"`
	UPS      *UPSStatus     `json:"ups,omitempty"`
	Contacts *ContactStatus `json:"contacts,omitempty"`
	// UPSShutdown is true once the UPS was told to cut and restore its
	// output (shutdown.return).
	UPSShutdown bool            `json:"ups_shutdown,omitempty"`
	Shutdown    *ShutdownStatus `json:"shutdown,omitempty"`
	// LastTest is the last commanded battery test, running or done.
	LastTest *TestStatus `json:"last_battery_test,omitempty"`
}

// UPSStatus is what the serial UPS said last.
type UPSStatus struct {
	Port string `json:"port"`
	// Comm is "ok", "lost" (five failed polls in a row) or "unknown".
	Comm           string    `json:"comm"`
	Status         string    `json:"status,omitempty"` // NUT's ups.status: OL, OB LB, …
	OnBattery      bool      `json:"on_battery"`
	BatteryLow     bool      `json:"battery_low"`
	Load           *float64  `json:"load,omitempty"`
	BatteryVoltage *float64  `json:"battery_voltage,omitempty"`
	BatteryCharge  *float64  `json:"battery_charge,omitempty"`
	InputVoltage   *float64  `json:"input_voltage,omitempty"`
	LastPoll       time.Time `json:"last_poll,omitzero"`
	Failures       int       `json:"failures,omitempty"` // failed polls in a row
	Error          string    `json:"error,omitempty"`
}

// ContactStatus is the dry contacts' settled state.
type ContactStatus struct {
	OnBatteryPin  string `json:"on_battery_pin"`
	LowBatteryPin string `json:"low_battery_pin,omitempty"`
	OnBattery     bool   `json:"on_battery"`
	LowBattery    bool   `json:"low_battery"`
	Error         string `json:"error,omitempty"`
}

// ShutdownStatus records the shutdown the component ran.
type ShutdownStatus struct {
	At      time.Time `json:"at"`
	Reason  string    `json:"reason"`
	Command string    `json:"command"`
	Error   string    `json:"error,omitempty"`
}

// Status returns a copy of the current status.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.st
	if s.UPS != nil {
		u := *s.UPS
		s.UPS = &u
	}
	if s.Contacts != nil {
		c := *s.Contacts
		s.Contacts = &c
	}
	if s.Shutdown != nil {
		x := *s.Shutdown
		s.Shutdown = &x
	}
	if s.LastTest != nil {
		t := *s.LastTest
		s.LastTest = &t
	}
	return s
}

// noteUPS keeps what a poll said.
func (m *Monitor) noteUPS(s *upsSample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.upsSeen = m.upsSeen || s.err == nil || s.stale
	u := m.st.UPS
	if s.err != nil {
		u.Failures++
		u.Error = s.err.Error()
		if s.stale {
			u.Comm = "lost"
		}
		m.mains()
		return
	}
	st := s.status
	*u = UPSStatus{Port: u.Port, Comm: "ok", Status: st.UPSStatus(), OnBattery: st.OnBattery(), BatteryLow: st.BatteryLow,
		Load: st.Load, BatteryVoltage: st.BatteryVoltage, BatteryCharge: st.BatteryCharge, InputVoltage: st.InputVoltage,
		LastPoll: s.at.UTC()}
	if r := st.BatteryRuntime; r != nil && st.OnBattery() {
		m.st.RuntimeS = ptr(int64(*r / time.Second))
	} else if !st.OnBattery() {
		m.st.RuntimeS = nil
	}
	m.mains()
}

func (m *Monitor) noteContact(e *drycontact.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.Initial {
		m.contSeen++
	}
	switch e.Input {
	case drycontact.OnBattery:
		m.st.Contacts.OnBattery = e.Active
	case drycontact.LowBattery:
		m.st.Contacts.LowBattery = e.Active
	}
	m.mains()
}

// mains sets Status.Mains from the sources that answer; m.mu is held.
func (m *Monitor) mains() {
	known, off := false, false
	if u := m.st.UPS; u != nil && u.Comm == "ok" {
		known, off = true, u.OnBattery
	}
	if c := m.st.Contacts; c != nil && m.contSeen > 0 && c.Error == "" {
		known, off = true, off || c.OnBattery
	}
	switch {
	case !known:
		m.st.Mains = "unknown"
	case off:
		m.st.Mains = "off"
	default:
		m.st.Mains = "on"
	}
}

// updateHealth sets the "ups" device from the status: down when the
// serial UPS does not answer, degraded while the hall runs on battery.
func (m *Monitor) updateHealth() {
	s := m.Status()
	var state health.State
	var reasons []string
	onBattery := s.State != power.Normal.String() || s.Mains == "off"
	switch {
	case s.UPS != nil && s.UPS.Comm == "lost":
		state = health.Down
		reasons = append(reasons, "no valid reply from the UPS: "+s.UPS.Error)
	case s.Mains == "unknown" && s.State == power.Normal.String():
		return // nothing known yet
	case onBattery:
		state = health.Degraded
	default:
		state = health.Up
	}
	if onBattery {
		switch s.State {
		case power.ShuttingDown.String():
			reasons = append(reasons, "battery low: the gateway is shutting down")
		case power.Restoring.String():
			reasons = append(reasons, "mains back, waiting before resuming")
		default:
			r := "on battery: mains failed"
			if s.RuntimeS != nil {
				r += fmt.Sprintf(", about %v left", (time.Duration(*s.RuntimeS) * time.Second).Round(time.Minute))
			}
			reasons = append(reasons, r)
		}
	}
	detail := map[string]any{"mains": s.Mains, "state": s.State}
	if s.RuntimeS != nil {
		detail["runtime_s"] = *s.RuntimeS
	}
	if u := s.UPS; u != nil && u.Comm == "ok" {
		detail["ups_status"] = u.Status
		if u.Load != nil {
			detail["load"] = *u.Load
		}
		if u.BatteryCharge != nil {
			detail["battery_charge"] = *u.BatteryCharge
		}
	}
	m.health(func(d *health.Device) {
		d.State, d.Reason, d.Detail = state, strings.Join(slices.Compact(reasons), "; "), detail
		if state != health.Down {
			d.LastSeen = m.clock.Now()
		}
	})
}

func (m *Monitor) health(fn func(*health.Device)) {
	if m.o.Health == nil {
		return
	}
	m.o.Health.Update(HealthID, HealthID, fn)
}
