// Package service ties the hallgw daemon to systemd: the unit file the
// installer lays down, and a Notifier speaking the sd_notify protocol
// (READY=1, STOPPING=1, STATUS=…, WATCHDOG=1) through
// github.com/coreos/go-systemd/v22/daemon.
//
// # Features
//
//   - Unit renders hallgw.service: Type=notify, WatchdogSec=30s,
//     Restart=always without a start rate limit, the slot selection of the
//     update package as ExecStartPre (run from the stable boot copy of the
//     binary, never from the version on trial), ExecStart through the
//     current slot link, and sandboxing that still reaches serial ports,
//     GPIO, sound and USB devices.
//   - Notifier.Watchdog feeds the systemd watchdog at half its interval, and
//     only while the daemon's health function says it is healthy (main loop
//     alive, journal committing): a hung or sick daemon stops feeding and
//     systemd restarts it. The interval comes from WATCHDOG_USEC.
//
// The protocol is systemd's sd_notify(3): one datagram per message to the
// unix socket named by NOTIFY_SOCKET.
package service
