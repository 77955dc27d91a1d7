package config

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Web configures the pages the gateway serves (docs/display.md,
// docs/kiosk.md, docs/status-page.md). The hall display and the kiosk pages
// are on http.listen with the API; the status page and /metrics have a
// listener of their own, protected by a password. Every field has a
// default, so the section may be left out; WithDefaults fills them in.
type Web struct {
	// StatusListen is the address of the status page and /metrics;
	// "off" turns that listener off. Default 127.0.0.1:8081.
	StatusListen string `yaml:"status_listen"`
	// StatusUser and StatusPassword protect the status page and /metrics
	// with HTTP Basic authentication. Without a password the status page
	// answers only on a loopback listener to loopback clients.
	StatusUser     string `yaml:"status_user"`
	StatusPassword Secret `yaml:"status_password"`
	// KioskReturn is how long the kiosk shows a ticket or a refusal before
	// it returns to the start screen. Default 15s.
	KioskReturn Duration `yaml:"kiosk_return"`
	// DisplayCalls is how many of the latest calls the hall display
	// lists. Default 6.
	DisplayCalls int `yaml:"display_calls"`
}

// Defaults of the web section.
const (
	DefaultStatusListen = "127.0.0.1:8081"
	DefaultStatusUser   = "admin"
	DefaultKioskReturn  = 15 * time.Second
	DefaultDisplayCalls = 6
	// StatusOff as web.status_listen turns the status listener off.
	StatusOff = "off"
	// MinStatusPassword is the shortest status password accepted, in
	// characters.
	MinStatusPassword = 8
)

// WithDefaults returns w with every unset field at its default.
func (w Web) WithDefaults() Web {
	if w.StatusListen == "" {
		w.StatusListen = DefaultStatusListen
	}
	if w.StatusUser == "" {
		w.StatusUser = DefaultStatusUser
	}
	if w.KioskReturn == 0 {
		w.KioskReturn = Duration(DefaultKioskReturn)
	}
	if w.DisplayCalls == 0 {
		w.DisplayCalls = DefaultDisplayCalls
	}
	return w
}

// StatusEnabled reports whether the status listener runs.
func (w Web) StatusEnabled() bool { return w.StatusListen != StatusOff }

// validate checks the web section; Config.validate calls it.
func (w *Web) validate(v *validator) {
	if w.StatusListen != StatusOff {
		v.checkAddr("web.status_listen", w.StatusListen)
	}
	if strings.ContainsAny(w.StatusUser, ":\r\n") {
		v.errf("web.status_user", "%q: may not contain ':' or a line break (HTTP Basic authentication)", w.StatusUser)
	}
	if p := string(w.StatusPassword); p != "" && utf8.RuneCountInString(p) < MinStatusPassword {
		v.errf("web.status_password", "at least %d characters", MinStatusPassword)
	}
	if d := w.KioskReturn.D(); d != 0 && (d < 3*time.Second || d > 10*time.Minute) {
		v.errf("web.kiosk_return", "%s: want 3s…10m", d)
	}
	if w.DisplayCalls < 0 || w.DisplayCalls > 20 {
		v.errf("web.display_calls", "%d: want 1…20", w.DisplayCalls)
	}
}
