package health

import "time"

// Gateway is the health of the gateway itself, published with the
// telemetry.
type Gateway struct {
	Uptime time.Duration `json:"-"`
	// UptimeS is Uptime in whole seconds, for the wire.
	UptimeS int64 `json:"uptime_s"`
	// Backlog is how many business events the platform has not
	// acknowledged yet (journal depth past the uplink cursor).
	Backlog uint64 `json:"backlog"`
	// OldestUnsentS is the age of the oldest unacknowledged event in
	// seconds, 0 when none.
	OldestUnsentS int64 `json:"oldest_unsent_s"`
	// JournalRecords and JournalBytes are what the journal holds: business
	// records kept (sent or not) and the file's size.
	JournalRecords int       `json:"journal_records"`
	JournalBytes   int64     `json:"journal_bytes"`
	Disk           DiskUsage `json:"disk"`
	Clock          Clock     `json:"clock"`
	// Broker is the uplink's connection state: "connected",
	// "connecting" or "down".
	Broker string `json:"broker"`
	// Session is the uplink's session counter.
	Session uint64 `json:"session"`
	// Network and System are the most severe ongoing fault levels.
	Network Level `json:"network_fault,omitempty"`
	System  Level `json:"system_fault,omitempty"`
}

// DiskUsage is the space of the file system holding the data directory.
type DiskUsage struct {
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"` // available to the daemon
	// UsedPercent is the share of the file system in use, 0–100.
	UsedPercent float64 `json:"used_percent"`
	Err         string  `json:"error,omitempty"`
}

// Clock states.
const (
	ClockSynced   = "synced"   // the kernel's clock is disciplined (NTP)
	ClockUnsynced = "unsynced" // nothing disciplines it: timestamps may drift
	ClockUnknown  = "unknown"  // the kernel would not say
)

// Clock is the state of the system clock as the kernel reports it.
type Clock struct {
	State string `json:"state"`
	// MaxErrorUS and EstErrorUS are the kernel's maximum and estimated
	// error in microseconds (0 when unknown).
	MaxErrorUS int64 `json:"max_error_us,omitempty"`
	EstErrorUS int64 `json:"est_error_us,omitempty"`
}

// Disk measures the file system holding dir.
func Disk(dir string) DiskUsage {
	total, free, err := statfs(dir)
	if err != nil {
		return DiskUsage{Err: "statfs: " + err.Error()}
	}
	d := DiskUsage{TotalBytes: total, FreeBytes: free}
	if total > 0 {
		d.UsedPercent = float64(int64((1-float64(free)/float64(total))*1000+0.5)) / 10
	}
	return d
}

// ReadClock asks the kernel (adjtimex, read only) whether the clock is
// synchronized; ClockUnknown where it cannot.
func ReadClock() Clock { return readClock() }
