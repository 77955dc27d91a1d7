package service

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// fakeSystemd is a NOTIFY_SOCKET: a unix datagram socket in a temporary
// directory, with the environment pointing at it.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	t.Helper()
	addr := &net.UnixAddr{Name: filepath.Join(t.TempDir(), "notify"), Net: "unixgram"}
	conn, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr.Name, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", addr.Name)
	return &fakeSystemd{t: t, conn: conn}
}

// next returns the next message (waiting at most 10 s, against hangs).
func (f *fakeSystemd) next() string {
	f.t.Helper()
	f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := f.conn.Read(buf)
	if err != nil {
		f.t.Fatalf("read notify socket: %v", err)
	}
	return string(buf[:n])
}

func TestNotifierMessages(t *testing.T) {
	sd := newFakeSystemd(t)
	n := NewNotifier()
	tests := []struct {
		name string
		send func() error
		want string
	}{
		{name: "ready", send: n.Ready, want: "READY=1"},
		{name: "status", send: func() error { return n.Status("serving 12 windows\nqueue 40") }, want: "STATUS=serving 12 windows queue 40"},
		{name: "stopping", send: n.Stopping, want: "STOPPING=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := sd.next(); got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotifierWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := NewNotifier().Ready(); err != nil {
		t.Errorf("Ready without NOTIFY_SOCKET = %v, want nil", err)
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	if err := NewNotifier().Ready(); err == nil {
		t.Errorf("Ready to a missing socket = nil, want an error")
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		name    string
		usec    string
		pid     string
		want    time.Duration
		wantErr bool
	}{
		{name: "off", usec: "", want: 0},
		{name: "30 s", usec: "30000000", want: 30 * time.Second},
		{name: "30 s for this pid", usec: "30000000", pid: "self", want: 30 * time.Second},
		{name: "meant for another pid", usec: "30000000", pid: "1", want: 0},
		{name: "garbage", usec: "soon", wantErr: true},
		{name: "negative", usec: "-5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			pid := tt.pid
			if pid == "self" {
				pid = strconv.Itoa(os.Getpid())
			}
			t.Setenv("WATCHDOG_PID", pid)
			got, err := NewNotifier().WatchdogInterval()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("WatchdogInterval() = %v, %v, want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestWatchdogFeedsOnlyWhileHealthy drives the feeder tick by tick with a
// fake clock and checks the exact datagrams: WATCHDOG=1 on healthy ticks,
// nothing on unhealthy ones (one STATUS= when health is lost and regained).
func TestWatchdogFeedsOnlyWhileHealthy(t *testing.T) {
	sd := newFakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	clk := clockwork.NewFakeClock()
	n := &Notifier{Clock: clk}

	answers := make(chan error)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- n.Watchdog(ctx, func() error { return <-answers })
	}()
	// tick lets one more health check happen and answers it.
	tick := func(first bool, health error) {
		t.Helper()
		if !first {
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			if err := clk.BlockUntilContext(wctx, 1); err != nil {
				t.Fatalf("feeder never waited on its ticker: %v", err)
			}
			clk.Advance(15 * time.Second)
		}
		select {
		case answers <- health:
		case <-time.After(10 * time.Second):
			t.Fatal("feeder never checked health")
		}
	}
	stalled := errors.New("journal stalled")

	tick(true, nil)
	if got := sd.next(); got != "WATCHDOG=1" {
		t.Fatalf("healthy start: %q, want WATCHDOG=1", got)
	}
	tick(false, nil)
	if got := sd.next(); got != "WATCHDOG=1" {
		t.Fatalf("healthy tick: %q, want WATCHDOG=1", got)
	}
	tick(false, stalled)
	if got := sd.next(); got != "STATUS=unhealthy, watchdog not fed: journal stalled" {
		t.Fatalf("losing health: %q, want the unhealthy status", got)
	}
	tick(false, stalled) // sends nothing at all
	tick(false, stalled) // nor this one
	tick(false, nil)
	// Had the unhealthy ticks fed the watchdog, WATCHDOG=1 would come first.
	if got := sd.next(); got != "STATUS=healthy" {
		t.Fatalf("first message after two unhealthy ticks: %q, want STATUS=healthy", got)
	}
	if got := sd.next(); got != "WATCHDOG=1" {
		t.Fatalf("recovered tick: %q, want WATCHDOG=1", got)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watchdog = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watchdog did not return after cancel")
	}
	// Nothing else was sent.
	sd.conn.SetReadDeadline(time.Now())
	if n, err := sd.conn.Read(make([]byte, 64)); err == nil {
		t.Errorf("unexpected extra message of %d bytes", n)
	}
}

func TestWatchdogOff(t *testing.T) {
	newFakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", "")
	called := false
	err := NewNotifier().Watchdog(t.Context(), func() error { called = true; return nil })
	if err != nil || called {
		t.Errorf("Watchdog with the watchdog off = %v (health called %v), want nil at once", err, called)
	}
}
