package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// validator collects FieldErrors by path; lines are added later from the
// file.
type validator struct{ errs []*FieldError }

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// checkID reports an identifier that would not survive in an MQTT topic or
// an event id.
func (v *validator) checkID(path, id string) {
	switch {
	case id == "":
		v.errf(path, "required")
	case !idPattern.MatchString(id):
		v.errf(path, "%q: use letters, digits, '-', '_' or '.' (at most 64), starting with a letter or digit", id)
	}
}

func (v *validator) checkAddr(path, addr string) {
	if addr == "" {
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		v.errf(path, "%q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
}

func (c *Config) validate() []*FieldError {
	v := &validator{}
	c.Gateway.validate(v)
	c.Journal.validate(v)
	v.checkAddr("http.listen", c.HTTP.Listen)
	c.MQTT.validate(v)
	c.Devices.validate(v, c)
	c.Ratings.validate(v)
	c.Web.validate(v)
	c.Privacy.validate(v, c.usesCardReaders())
	c.Archive.validate(v)
	c.Power.validate(v)
	validateWindowReaders(v, c.Devices.WindowReaders, c.Windows)
	validateScanners(v, c.Devices.Scanners, c.Windows)
	validateStaffCards(v, c.StaffCards())
	validateStaff(v, c.Staff)
	// The hall's own rules: services, windows, queue.
	if hc, err := c.hallConfig(); err != nil {
		v.errf("gateway.timezone", "%v", err)
	} else if err := hc.Validate(); err != nil {
		v.errs = append(v.errs, hallFieldError(err))
	}
	return v.errs
}

// usesCardReaders reports whether any ID-card reader is configured: the
// privacy secret is then required.
func (c *Config) usesCardReaders() bool {
	return len(c.Devices.WindowReaders) > 0 || c.Devices.kioskCardReaders()
}

func (g *Gateway) validate(v *validator) {
	v.checkID("gateway.id", g.ID)
	v.checkID("gateway.hall_id", g.HallID)
	if g.HallName == "" {
		v.errf("gateway.hall_name", "required: printed on every ticket")
	}
	if g.DataDir == "" {
		v.errf("gateway.data_dir", "required")
	}
	if _, err := time.LoadLocation(g.Timezone); err != nil {
		v.errf("gateway.timezone", "%q: unknown time zone (want an IANA name such as Asia/Shanghai)", g.Timezone)
	}
	if g.TicketURL != "" && !strings.Contains(g.TicketURL, "{ticket}") && !strings.Contains(g.TicketURL, "{number}") {
		v.errf("gateway.ticket_url", "%q: must contain {ticket} or {number}", g.TicketURL)
	}
}

func (j *Journal) validate(v *validator) {
	if j.BusinessLimit < 1<<20 {
		v.errf("journal.business_limit", "%s: at least 1MiB", j.BusinessLimit)
	}
	if j.TelemetryLimit < 64<<10 {
		v.errf("journal.telemetry_limit", "%s: at least 64KiB", j.TelemetryLimit)
	}
	if j.SnapshotEvery < 100 {
		v.errf("journal.snapshot_every", "%d: at least 100 events", j.SnapshotEvery)
	}
}
