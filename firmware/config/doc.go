// Package config loads and validates hallgw's one configuration file.
//
// The file is YAML (documented field by field in docs/configuration.md). It is
// decoded strictly: an unknown key, a value of the wrong type or a value that
// fails validation is refused with the file name, line, column and the field's
// path, for example
//
//	hallgw.yaml:41:18: windows[3].services[1]: unknown service "Z"
//
// so an installer can go straight to the mistake. Every field has a default
// (Default returns them, built from the embedded default.yaml that also drives
// `hallgw demo`); a file only needs what differs.
package config
