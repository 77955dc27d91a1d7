// Package web serves the gateway's pages: the hall display (叫号屏) at
// /display/, the ticket machines' touch page at /kiosk/{id}/ (both on the
// daemon's public web server, http.listen), and the installers' status page
// with /metrics on a listener of their own (web.status_listen), behind a
// password. Every asset is embedded in the binary; nothing is fetched from
// outside the hall.
//
// The pages live in the packages beneath: display, kiosk and status; sse
// streams the journal's events to the display with resume; assets holds
// what the pages share. This package puts them together as one daemon
// component (Register, NewComponent) and keeps the registry of self tests
// that the device services add to the status page with RegisterTest.
//
// docs/display.md, docs/kiosk.md and docs/status-page.md describe the
// pages; docs/configuration.md the web section.
package web
