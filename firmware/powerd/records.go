package powerd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"hallgw/firmware/journal"
	"hallgw/firmware/power"
	"hallgw/firmware/uplink"
)

// KindPower is the journal kind of power records.
const KindPower = "power"

// Types of power records (Record.Type). An alert of kind "alert" with the
// type "power_" + Type goes with each, except battery_test.
const (
	RecOnBattery     = "on_battery"        // mains failed
	RecLowBattery    = "low_battery"       // battery low or runtime below the minimum: stopping
	RecShuttingDown  = "shutting_down"     // the shutdown command is being run
	RecMainsRestored = "mains_restored"    // mains back for the hold time
	RecUPSLost       = "ups_comm_lost"     // the UPS stopped answering
	RecUPSFound      = "ups_comm_restored" // it answers again
	RecBatteryTest   = "battery_test"      // a commanded battery test ended (Test)
)

// AlertPrefix starts the type of the alerts that go with power records.
const AlertPrefix = "power_"

// Record is the JSON payload of a power record. Values the UPS did not give
// are left out.
type Record struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Reason says why, in plain words.
	Reason string `json:"reason,omitempty"`
	// Sources are what reported the outage: "ups" (the Q1 status),
	// "contact" (the dry contact).
	Sources        []string `json:"sources,omitempty"`
	RuntimeS       *int64   `json:"runtime_s,omitempty"` // estimated time left on battery
	Load           *float64 `json:"load,omitempty"`      // % of the rated load
	BatteryVoltage *float64 `json:"battery_voltage,omitempty"`
	BatteryCharge  *float64 `json:"battery_charge,omitempty"`
	// Test is the outcome of a battery test (battery_test only).
	Test *TestStatus `json:"test,omitempty"`
}

// alarmRecord maps an alarm action to the record type it journals.
func alarmRecord(a power.Action) string {
	switch {
	case a.Kind == power.RaiseAlarm && a.Alarm == power.AlarmOnBattery:
		return RecOnBattery
	case a.Kind == power.RaiseAlarm && a.Alarm == power.AlarmCritical:
		return RecLowBattery
	case a.Kind == power.ClearAlarm && a.Alarm == power.AlarmOnBattery:
		return RecMainsRestored
	case a.Kind == power.RaiseAlarm && a.Alarm == power.AlarmUPSLost:
		return RecUPSLost
	case a.Kind == power.ClearAlarm && a.Alarm == power.AlarmUPSLost:
		return RecUPSFound
	}
	return ""
}

func (m *Monitor) alarm(ctx context.Context, a power.Action) error {
	typ := alarmRecord(a)
	if typ == "" {
		return fmt.Errorf("powerd: no record for %v", a)
	}
	return m.record(ctx, typ, a.Reason, true)
}

// newRecord fills a record with the latest UPS figures.
func (m *Monitor) newRecord(typ, reason string) Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := Record{Type: typ, At: m.clock.Now().UTC(), Reason: reason, RuntimeS: m.st.RuntimeS}
	if u := m.st.UPS; u != nil && u.Comm == "ok" {
		r.Load, r.BatteryVoltage, r.BatteryCharge = u.Load, u.BatteryVoltage, u.BatteryCharge
		if u.OnBattery {
			r.Sources = append(r.Sources, "ups")
		}
	}
	if c := m.st.Contacts; c != nil && c.OnBattery {
		r.Sources = append(r.Sources, "contact")
	}
	return r
}

// record journals a power record and, with alert, its alert in the same
// commit, and waits until they are durable.
func (m *Monitor) record(ctx context.Context, typ, reason string, alert bool) error {
	return m.journal(ctx, m.newRecord(typ, reason), alert)
}

func (m *Monitor) journal(ctx context.Context, r Record, alert bool) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("powerd: encode record: %w", err)
	}
	recs := []journal.Record{{Kind: KindPower, At: r.At, Data: b}}
	if alert {
		a := r
		a.Type = AlertPrefix + r.Type
		ab, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("powerd: encode alert: %w", err)
		}
		recs = append(recs, journal.Record{Kind: uplink.KindAlert, At: r.At, Data: ab})
	}
	if _, err := m.o.Journal.Append(ctx, recs...); err != nil {
		return fmt.Errorf("powerd: journal %s: %w", r.Type, err)
	}
	return nil
}
