// Package status serves the installers' and hall managers' status page and
// the Prometheus metrics, on a listener of their own (web.status_listen,
// by default 127.0.0.1:8081), apart from the public pages.
//
// The page shows every device the health registry knows (state, reason,
// last seen, error counters), the journal's depth, the uplink's state, the
// queues with a chart of the people waiting and of the waits over the day
// (an inline SVG drawn on the gateway: no script or font is fetched from
// anywhere), the last 50 hall events, and buttons for the self tests the
// device services register (print a test ticket, light every LED bar, play
// a test announcement). /metrics exposes the same figures in the
// Prometheus text format through the official client library, read at
// scrape time.
//
// Both are protected by HTTP Basic authentication with a configured user
// and password (compared in constant time). Without a password the
// handler refuses every request that does not come to a loopback listener
// from a loopback client. docs/status-page.md describes the page and
// lists the metrics.
package status
