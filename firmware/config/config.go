package config

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config is the whole configuration of one gateway.
type Config struct {
	// Version names this configuration for central ops; empty means a
	// hash of the file's content (see Loaded.Version).
	Version  string    `yaml:"version"`
	Gateway  Gateway   `yaml:"gateway"`
	Queue    Queue     `yaml:"queue"`
	Services []Service `yaml:"services"`
	Windows  []Window  `yaml:"windows"`
	Journal  Journal   `yaml:"journal"`
	HTTP     HTTP      `yaml:"http"`
	MQTT     MQTT      `yaml:"mqtt"`
	Devices  Devices   `yaml:"devices"`
	Web      Web       `yaml:"web"`
	Ratings  Ratings   `yaml:"ratings"`
	Staff    []Staff   `yaml:"staff"`
	Privacy  Privacy   `yaml:"privacy"`
	Archive  Archive   `yaml:"archive"`
	Power    Power     `yaml:"power"`
}

// Gateway identifies the gateway and its hall.
type Gateway struct {
	ID       string `yaml:"id"`        // unique per gateway; prefixes every event id
	HallID   string `yaml:"hall_id"`   // the hall's code at the platform
	HallName string `yaml:"hall_name"` // printed on tickets and shown on displays
	DataDir  string `yaml:"data_dir"`  // journal, keys, scans; relative to the root
	Timezone string `yaml:"timezone"`  // IANA name, e.g. Asia/Shanghai
	// TicketURL is the address printed as a QR code on each ticket;
	// "{ticket}" is replaced by the ticket's event id, "{number}" by its
	// number.
	TicketURL string `yaml:"ticket_url"`
}

// Queue holds the calling rules (seed part 3 §6.4).
type Queue struct {
	ResetAt          TimeOfDay `yaml:"reset_at"`
	NumberWidth      int       `yaml:"number_width"`
	PriorityRatio    int       `yaml:"priority_ratio"`
	ElderlyAge       int       `yaml:"elderly_age"`
	RecallMax        int       `yaml:"recall_max"`
	RecallMinGap     Duration  `yaml:"recall_min_gap"`
	TurnNearAhead    int       `yaml:"turn_near_ahead"`
	AppointmentEarly Duration  `yaml:"appointment_early"`
	AppointmentLate  Duration  `yaml:"appointment_late"`
	ReactivateWithin Duration  `yaml:"reactivate_within"`
	EWMAWeight       int       `yaml:"ewma_weight"`
	CarryOver        bool      `yaml:"carry_over"`
}

// Service is one service (事项 / 业务类别) with its own ticket numbers.
type Service struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Prefix      string   `yaml:"prefix"`
	DailyCap    int      `yaml:"daily_cap"`
	ServiceTime Duration `yaml:"service_time"`
}

// Window is one service window (窗口).
type Window struct {
	ID       string   `yaml:"id"`
	Number   int      `yaml:"number"`
	Name     string   `yaml:"name"`
	Kind     string   `yaml:"kind"`
	Services []string `yaml:"services"`
}

// Journal sizes the event journal (docs/journal.md).
type Journal struct {
	BusinessLimit  Size `yaml:"business_limit"`
	TelemetryLimit Size `yaml:"telemetry_limit"`
	SnapshotEvery  int  `yaml:"snapshot_every"`
}

// HTTP is the gateway's local web server: the API, the kiosk, display and
// pad pages and the status page.
type HTTP struct {
	Listen string `yaml:"listen"`
	// Token, when set, must be sent as "Authorization: Bearer <token>" on
	// every request that changes something.
	Token Secret `yaml:"token"`
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration file: a simulated
// hall of 20 windows, used by `hallgw demo` and laid down by `hallgw install`.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default returns the embedded default configuration.
func Default() *Config {
	c, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("config: embedded default.yaml is invalid: " + err.Error())
	}
	return c.Config
}

// Loaded is a configuration together with where it came from.
type Loaded struct {
	*Config
	File string
	// Hash is the sha256 of the file's bytes, hex.
	Hash string
}

// ConfigVersion is the version reported upstream: the file's version field,
// or the first 12 hex digits of its hash.
func (l *Loaded) ConfigVersion() string {
	if l.Version != "" {
		return l.Version
	}
	return l.Hash[:12]
}

// Load reads and validates the file at path.
func Load(path string) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes data, a configuration file called name, on top of the
// built-in defaults and validates it. Errors are of type Errors.
func Parse(name string, data []byte) (*Loaded, error) {
	c := builtinDefaults()
	if name != "default.yaml" || !bytes.Equal(data, defaultYAML) {
		// Defaults first, then the file on top, so a file only needs what
		// differs. Lists (services, windows, …) are replaced as a whole.
		if len(defaultYAML) > 0 {
			if _, err := parseYAML("default.yaml", defaultYAML, c); err != nil {
				return nil, err
			}
		}
	}
	where, err := parseYAML(name, data, c)
	if err != nil {
		return nil, err
	}
	if errs := c.validate(); len(errs) > 0 {
		return nil, errorsAt(name, where, errs)
	}
	sum := sha256.Sum256(data)
	return &Loaded{Config: c, File: name, Hash: hex.EncodeToString(sum[:])}, nil
}

// builtinDefaults are the values of fields that even default.yaml leaves
// out.
func builtinDefaults() *Config {
	return &Config{
		Gateway: Gateway{DataDir: "/var/lib/hallgw", Timezone: "Asia/Shanghai"},
		Queue: Queue{
			ResetAt: TimeOfDay(4 * time.Hour), NumberWidth: 3, PriorityRatio: 3,
			ElderlyAge: 60, RecallMax: 3, RecallMinGap: Duration(10 * time.Second),
			TurnNearAhead: 3, AppointmentEarly: Duration(30 * time.Minute),
			AppointmentLate: Duration(15 * time.Minute), ReactivateWithin: Duration(30 * time.Minute),
			EWMAWeight: 20,
		},
		Journal: Journal{BusinessLimit: 256 << 20, TelemetryLimit: 32 << 20, SnapshotEvery: 5000},
		HTTP:    HTTP{Listen: "127.0.0.1:8080"},
	}
}

// Location returns the hall's time zone.
func (c *Config) Location() (*time.Location, error) {
	if c.Gateway.Timezone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(c.Gateway.Timezone)
}
