// Package api is the gateway's local JSON API over HTTP: what the kiosk and
// window pages, window business systems and installers use to issue tickets,
// operate windows and read the hall's state. Every command answers only
// after its events are durable in the journal; every refusal carries the
// hall's error code. docs/api.md lists the endpoints.
package api
