package daemontest

import (
	"context"
	"net"
	"testing"
	"time"

	"hallgw/firmware/daemon"
)

// hang bounds start and stop, so that a broken daemon fails its test
// instead of hanging the run; it is not a performance limit.
const hang = 20 * time.Second

// Run starts daemon.Run with o, on a loopback listener unless o.Listener
// is set, and returns the daemon once it is ready (o.Ready is replaced).
// The test's cleanup stops it and fails the test if it stopped with an
// error.
func Run(t testing.TB, o daemon.Options) *daemon.Daemon {
	t.Helper()
	if o.Listener == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		o.Listener = ln
	}
	ready := make(chan *daemon.Daemon, 1)
	o.Ready = func(d *daemon.Daemon) { ready <- d }
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- daemon.Run(ctx, o) }()
	var d *daemon.Daemon
	select {
	case d = <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("daemon: %v", err)
	case <-time.After(hang):
		cancel()
		t.Fatal("daemon did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("daemon stopped with %v", err)
			}
		case <-time.After(hang):
			t.Error("daemon did not stop")
		}
	})
	return d
}
