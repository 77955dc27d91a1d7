// Package selftest checks every device a configuration names, for
// `hallgw selftest` (issue 6 §4): the installer runs it with the daemon
// stopped and sees, device by device, whether it passes and why not.
//
//   - Ticket printers (devices.kiosks[].printer): the status is read (DLE
//     EOT 1–4) and a test ticket is printed; paper out, an open cover or an
//     unplugged printer fail with the reason.
//   - Window buses (devices.buses[]): every terminal and hall display is
//     identified, then all of them show a test text together for a moment
//     and get their previous text back (read from the text registers on a
//     Modbus bus; the vendor frame cannot read it back, so those are
//     cleared).
//   - Voice: a test call announcement is composed from the clip set and
//     played (aplay, or a file player).
//   - The UPS (power.ups): one Q1 status; on battery, battery low or the
//     UPS's own failure bit fail. The dry contacts (power.dry_contact) are
//     read: an active contact fails.
//   - ID-card readers (devices.window_readers, and any the caller names):
//     the security module's status, then a wait for a card
//     (Opts.CardWait); a card read shows masked values only, and no card
//     within the wait is reported as "no card presented", not as a failure.
//
// Devices are opened directly through their drivers, so the daemon must not
// hold them: Run refuses to start while the daemon's journal is locked, and
// a port another program holds is reported as busy.
package selftest
