package daemon

import (
	"sort"
	"time"
)

// AddStatus lets a component contribute a named section to the gateway's
// status: the status page, the platform's "get status" command and
// `hallgw selftest` read them all. fn must be cheap, must not block and
// returns a JSON-encodable value.
func (d *Daemon) AddStatus(name string, fn func() any) {
	d.statusMu.Lock()
	defer d.statusMu.Unlock()
	if d.status == nil {
		d.status = map[string]func() any{}
	}
	d.status[name] = fn
}

// Status returns every section, plus "gateway" (identity, uptime, journal)
// and "devices" (health of every device).
func (d *Daemon) Status() map[string]any {
	d.statusMu.Lock()
	names := make([]string, 0, len(d.status))
	for n := range d.status {
		names = append(names, n)
	}
	sort.Strings(names)
	fns := make([]func() any, len(names))
	for i, n := range names {
		fns[i] = d.status[n]
	}
	d.statusMu.Unlock()
	out := map[string]any{
		"gateway": map[string]any{
			"id": d.Cfg.Gateway.ID, "hall_id": d.Cfg.Gateway.HallID, "hall_name": d.Cfg.Gateway.HallName,
			"version": d.Version, "config_version": d.Config.ConfigVersion(),
			"started": d.Started.UTC(), "uptime_s": int64(d.Now().Sub(d.Started) / time.Second),
			"journal": d.Journal.Usage(),
		},
		"devices": d.Health.All(),
	}
	for i, n := range names {
		out[n] = fns[i]()
	}
	return out
}
