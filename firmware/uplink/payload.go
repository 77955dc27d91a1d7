package uplink

import (
	"encoding/json"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
)

// SchemaVersion is the "v" of every payload; a consumer refuses what it does
// not know.
const SchemaVersion = 1

// Status is the retained message on the status topic: the birth message
// (online), the Last Will and the explicit goodbye (offline). Session is
// the session counter, bumped on every connection; a consumer ignores an
// offline status whose session is older than the last online one.
type Status struct {
	V       int    `json:"v"`
	Online  bool   `json:"online"`
	Session uint64 `json:"session"`
	Gateway string `json:"gateway"`
	Hall    string `json:"hall"`
	// At is when the gateway sent it; absent from the Will, which the
	// broker sends (use the time of receipt).
	At time.Time `json:"at,omitzero"`
	// Reason of an offline status: "lost" (the Will) or "shutdown".
	Reason string `json:"reason,omitempty"`

	// Birth only.
	Firmware      string    `json:"firmware,omitempty"`
	ConfigVersion string    `json:"config_version,omitempty"`
	Started       time.Time `json:"started,omitzero"`
	// Backlog is the number of events not yet acknowledged (birth and
	// goodbye; the Will cannot know it).
	Backlog *uint64       `json:"backlog,omitempty"`
	Devices []DeviceBrief `json:"devices,omitempty"`
	// Extra holds the status sections central needs to check the gateway:
	// "ratings" (the public key that signs ratings and the chain head),
	// "firmware" (slots, version, last rollback reason), "power", "archive".
	Extra map[string]any `json:"extra,omitempty"`
}

// DeviceBrief names a device in the birth message.
type DeviceBrief struct {
	ID    string       `json:"id"`
	Kind  string       `json:"kind"`
	State health.State `json:"state"`
}

// Event is one business event on the events topic: a hall event (its
// fields are those of gateway.EventDoc) or a record of the gateway's own
// (kind health, fault, command, alarm …) whose payload is in Data.
// Consumers drop duplicates by ID and see gaps by Seq: every business
// record of the journal is published, in order.
type Event struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	gateway.EventDoc
	// Historical marks events committed before the current connection:
	// replayed backlog, not live.
	Historical bool            `json:"historical,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// Health is the retained message of one device on its health topic.
type Health struct {
	V int `json:"v"`
	health.Device
	At time.Time `json:"at"`
}

// FaultList is the retained message on the faults topic: the unresolved
// faults (ongoing, or cleared and waiting to be closed) and the most severe
// ongoing level of each category.
type FaultList struct {
	V       int            `json:"v"`
	At      time.Time      `json:"at"`
	Network health.Level   `json:"network,omitempty"`
	System  health.Level   `json:"system,omitempty"`
	Faults  []health.Fault `json:"faults"`
}

// Telemetry is the periodic message on the telemetry topic: not retained,
// coalesced (only the latest figures matter; none are sent while offline).
type Telemetry struct {
	V       int            `json:"v"`
	At      time.Time      `json:"at"`
	Gateway health.Gateway `json:"gateway"`
	Devices []DeviceStats  `json:"devices,omitempty"`
	Extra   map[string]any `json:"extra,omitempty"` // as in the birth message
}

// DeviceStats is one device's figures in the telemetry.
type DeviceStats struct {
	ID       string            `json:"id"`
	State    health.State      `json:"state"`
	LastSeen time.Time         `json:"last_seen,omitzero"`
	Errors   map[string]uint64 `json:"errors,omitempty"`
}

// Records the uplink journals itself, as business events (kinds and their
// "type" values).
const (
	KindHealth  = "health"  // DeviceChange: device_health
	KindFault   = "fault"   // health.FaultChange: fault_opened, fault_level, fault_cleared, fault_closed
	KindCommand = "command" // CommandRecord: command_applied
	KindAlarm   = "alarm"   // AlarmRecord: journal_alarm
)

// DeviceChange is the journal record of a device health change.
type DeviceChange struct {
	Type   string        `json:"type"` // "device_health"
	From   health.State  `json:"from,omitempty"`
	Device health.Device `json:"device"`
}

// CommandRecord is the journal record of a platform command that changed
// something.
type CommandRecord struct {
	Type    string `json:"type"` // "command_applied"
	Request string `json:"request"`
	Cmd     string `json:"cmd"`
	Summary string `json:"summary"`
}

// AlarmRecord is the journal record of a journal space or write alarm.
type AlarmRecord struct {
	Type  string    `json:"type"` // "journal_alarm"
	Alarm string    `json:"alarm"`
	Msg   string    `json:"msg"`
	At    time.Time `json:"at"`
}
