package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/jonboulle/clockwork"
)

// Notifier sends sd_notify messages to systemd. Without NOTIFY_SOCKET (not
// started by systemd) every message is silently dropped. The zero value is
// ready to use.
type Notifier struct {
	// Clock paces the watchdog; nil means the real clock.
	Clock clockwork.Clock
}

// NewNotifier returns a Notifier on the real clock.
func NewNotifier() *Notifier { return &Notifier{} }

func (n *Notifier) clock() clockwork.Clock {
	if n.Clock == nil {
		return clockwork.NewRealClock()
	}
	return n.Clock
}

// send writes one message. It reports an error only when NOTIFY_SOCKET is
// set but cannot be reached.
func (n *Notifier) send(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("service: notify %q: %w", strings.SplitN(state, "=", 2)[0], err)
	}
	return nil
}

// Ready tells systemd that start-up is complete (READY=1).
func (n *Notifier) Ready() error { return n.send(daemon.SdNotifyReady) }

// Stopping tells systemd that the daemon is shutting down (STOPPING=1).
func (n *Notifier) Stopping() error { return n.send(daemon.SdNotifyStopping) }

// Status sets the one-line status "systemctl status" shows. Newlines are
// replaced, since they would end the message's field.
func (n *Notifier) Status(text string) error {
	return n.send("STATUS=" + strings.ReplaceAll(text, "\n", " "))
}

// WatchdogInterval returns systemd's watchdog timeout for this process (from
// WATCHDOG_USEC and WATCHDOG_PID), or 0 when the watchdog is off.
func (n *Notifier) WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("service: watchdog: %w", err)
	}
	return d, nil
}

// Watchdog feeds the systemd watchdog until ctx ends. Every half interval
// it calls healthy; it sends WATCHDOG=1 only when healthy returns nil, so a
// daemon whose loop has stalled or whose journal stopped committing is
// restarted by systemd. Going unhealthy and back is reported in STATUS=.
// healthy must be cheap and must not block (it runs on the feeding
// goroutine). Watchdog returns nil at once when the watchdog is off, and
// ctx's error when ctx ends.
func (n *Notifier) Watchdog(ctx context.Context, healthy func() error) error {
	interval, err := n.WatchdogInterval()
	if err != nil {
		return err
	}
	if interval == 0 {
		return nil
	}
	tick := n.clock().NewTicker(interval / 2)
	defer tick.Stop()
	wasHealthy := true
	for {
		if err := healthy(); err != nil {
			if wasHealthy {
				n.Status("unhealthy, watchdog not fed: " + err.Error())
			}
			wasHealthy = false
		} else {
			if !wasHealthy {
				n.Status("healthy")
			}
			wasHealthy = true
			if err := n.send(daemon.SdNotifyWatchdog); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.Chan():
		}
	}
}
