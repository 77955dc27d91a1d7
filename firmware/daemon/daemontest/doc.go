// Package daemontest runs the whole gateway daemon inside a test, for the
// packages whose components are tested as the daemon runs them.
package daemontest
