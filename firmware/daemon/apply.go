package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/google/renameio/v2"

	"hallgw/firmware/config"
)

// ErrRestart is returned by Run when a new configuration needs the daemon to
// start again (systemd's Restart=always brings it back on the new file).
var ErrRestart = errors.New("daemon: restarting (new configuration or firmware)")

// ApplyResult says what applying a configuration did.
type ApplyResult struct {
	Version string
	// Restart is true when sections other than the hall's rules changed
	// (devices, MQTT, HTTP): the daemon restarts on the new file shortly.
	Restart bool
}

// ApplyConfig validates data as a whole configuration file and applies it
// atomically: on any error nothing changes. The hall's rules (queue,
// services, windows) take effect at once through the journal; the file is
// replaced atomically when the daemon runs from one; when other sections
// changed, the daemon restarts on the new file.
func (d *Daemon) ApplyConfig(ctx context.Context, data []byte, source string) (ApplyResult, error) {
	l, err := config.Parse("pushed configuration", data)
	if err != nil {
		return ApplyResult{}, err
	}
	if l.Gateway.ID != d.Cfg.Gateway.ID {
		return ApplyResult{}, fmt.Errorf("daemon: gateway.id %q differs from this gateway's %q", l.Gateway.ID, d.Cfg.Gateway.ID)
	}
	hc, err := l.HallConfig()
	if err != nil {
		return ApplyResult{}, err
	}
	// Which sections changed, apart from the hall's?
	restart := !sameOutsideHall(d.Cfg, l.Config)
	var previous []byte
	if d.ConfigPath != "" {
		if previous, err = os.ReadFile(d.ConfigPath); err != nil {
			return ApplyResult{}, fmt.Errorf("daemon: read %s: %w", d.ConfigPath, err)
		}
		if err := renameio.WriteFile(d.ConfigPath, data, 0o640); err != nil {
			return ApplyResult{}, fmt.Errorf("daemon: write %s: %w", d.ConfigPath, err)
		}
	} else if restart {
		return ApplyResult{}, errors.New("daemon: this configuration changes devices or connections, which needs a restart, and the daemon was not started from a file")
	}
	if err := d.Gateway.ApplyConfig(ctx, hc, source); err != nil {
		if previous != nil {
			// The file and the journal must agree: put the old file back.
			if rerr := renameio.WriteFile(d.ConfigPath, previous, 0o640); rerr != nil {
				err = errors.Join(err, fmt.Errorf("daemon: restore %s: %w", d.ConfigPath, rerr))
			}
		}
		return ApplyResult{}, err
	}
	d.Logger.Info("configuration applied", "version", l.ConfigVersion(), "source", source, "restart", restart)
	if restart {
		d.Fail(ErrRestart)
	}
	return ApplyResult{Version: l.ConfigVersion(), Restart: restart}, nil
}

// sameOutsideHall reports whether a and b differ only in the sections the
// hall applies live (queue, services, windows, version).
func sameOutsideHall(a, b *config.Config) bool {
	strip := func(c *config.Config) []byte {
		cc := *c
		cc.Version, cc.Queue, cc.Services, cc.Windows = "", config.Queue{}, nil, nil
		out, err := config.Marshal(&cc)
		if err != nil {
			return nil
		}
		return out
	}
	x, y := strip(a), strip(b)
	return x != nil && bytes.Equal(x, y)
}
