// Package daemon wires a configuration into a running gateway: the journal,
// the hall, the local web server and every optional component (devices, the
// MQTT uplink, power handling, …). `hallgw run` and `hallgw demo` both run
// this same daemon; the demo only adds simulated devices and people.
//
// Components register themselves with Register from their own files, so
// adding one never edits a central switch.
package daemon
