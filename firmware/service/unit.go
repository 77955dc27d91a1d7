package service

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"text/template"
	"time"
)

// UnitOpts are the paths and timings of the unit file.
type UnitOpts struct {
	// Binary is the daemon started through the current slot link.
	Binary string
	// BootBinary is the stable copy of hallgw that runs slot selection; it
	// is never replaced by an update.
	BootBinary string
	// Root is passed to "slot select --root".
	Root string
	// Config is the configuration file given to "run --config".
	Config string
	// StateDir is writable by the service (slots, state, journal).
	StateDir string
	// KeysDir is writable too: a committed bundle may rotate the keys.
	KeysDir     string
	WatchdogSec time.Duration
	RestartSec  time.Duration
	// StartTimeout bounds slot selection plus start-up until READY=1.
	StartTimeout time.Duration
}

// DefaultUnitOpts are the paths of an installed gateway.
var DefaultUnitOpts = UnitOpts{
	Binary:       "/var/lib/hallgw/current/hallgw",
	BootBinary:   "/var/lib/hallgw/boot/hallgw",
	Root:         "/",
	Config:       "/etc/hallgw/hallgw.yaml",
	StateDir:     "/var/lib/hallgw",
	KeysDir:      "/etc/hallgw/keys",
	WatchdogSec:  30 * time.Second,
	RestartSec:   2 * time.Second,
	StartTimeout: 3 * time.Minute,
}

// UnitName is the file name of the unit.
const UnitName = "hallgw.service"

var unitTemplate = template.Must(template.New("unit").Funcs(template.FuncMap{"sec": seconds}).Parse(`[Unit]
Description=hallgw service-hall gateway
Wants=network-online.target
After=network-online.target time-sync.target
# Every start of an update on trial counts as one of its tries: the start
# rate limit must never stop the restarts that lead to a rollback.
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
# The stable boot copy, not the version on trial, decides which slot runs.
ExecStartPre={{.BootBinary}} slot select --root {{.Root}}
ExecStart={{.Binary}} run --config {{.Config}}
Restart=always
RestartSec={{sec .RestartSec}}
WatchdogSec={{sec .WatchdogSec}}
TimeoutStartSec={{sec .StartTimeout}}
TimeoutStopSec=20s

# Sandboxing that keeps serial ports, GPIO, sound and USB devices reachable.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={{.StateDir}} -{{.KeysDir}}
ProtectHome=yes
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
DevicePolicy=closed
DeviceAllow=char-ttyS rw
DeviceAllow=char-ttyAMA rw
DeviceAllow=char-ttyUSB rw
DeviceAllow=char-ttyACM rw
DeviceAllow=char-gpiochip rw
DeviceAllow=/dev/gpiomem rw
DeviceAllow=char-alsa rw
DeviceAllow=char-usb_device rw
DeviceAllow=char-hidraw rw

[Install]
WantedBy=multi-user.target
`))

// seconds formats a duration the way systemd reads it.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

// Unit renders the unit file.
func Unit(o UnitOpts) ([]byte, error) {
	for name, p := range map[string]string{"Binary": o.Binary, "BootBinary": o.BootBinary, "Root": o.Root, "Config": o.Config, "StateDir": o.StateDir, "KeysDir": o.KeysDir} {
		if !path.IsAbs(p) || strings.ContainsAny(p, " \t\n\"'\\%$;") {
			return nil, fmt.Errorf("service: unit: %s %q must be an absolute path without spaces or specials", name, p)
		}
	}
	if o.WatchdogSec < 2*time.Second || o.RestartSec < 0 || o.StartTimeout < time.Second {
		return nil, errors.New("service: unit: watchdog must be at least 2 s and the start timeout at least 1 s")
	}
	var b bytes.Buffer
	if err := unitTemplate.Execute(&b, o); err != nil {
		return nil, fmt.Errorf("service: unit: %w", err)
	}
	return b.Bytes(), nil
}
