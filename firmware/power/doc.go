// Package power is the gateway's power-loss policy: a pure state machine
// that turns UPS status samples and dry-contact events into actions for the
// daemon to carry out. It does no I/O and reads no clock: every input
// carries its time, and Tick advances timers, so a run can be replayed from
// a journal or simulated at any speed.
//
// It follows the sudden power failure procedure of DB43/T 2422.4 §6.5.2
// as far as the gateway's part goes: tell the people in charge at once, keep
// the hall informed, and on mains return check that everything runs again.
//
//   - Mains fails (the UPS's Q1 utility-fail bit, polled at least once a
//     second, or the on-battery contact, edge-driven): raise the "on-battery"
//     alarm upstream and show a notice on the displays, immediately. The hall
//     keeps serving on battery.
//   - While on battery: pass runtime estimates on when they move by a
//     minute or more.
//   - Battery low (Q1 bit or contact, while on battery), or the estimated
//     runtime below MinRuntime for RuntimeConfirm: raise the alarm, stop
//     issuing tickets, show the maintenance message, flush the journal, ask
//     the UPS to cut its output after its off-delay and restore it when mains
//     returns (so the gateway boots again by itself), and shut down cleanly.
//     This is final: once the shutdown is under way, mains returning changes
//     nothing; the UPS's power cycle restarts the gateway and the journal
//     replay resumes the hall where it stopped.
//   - Mains returns (every source says so): after RestoreHold without a new
//     failure, clear the alarm and the notice and resume. A mains supply that
//     flaps within RestoreHold keeps the hall in its on-battery state with a
//     single alarm instead of flapping with it.
//
// A UPS whose serial data goes stale raises "ups-comm-lost" and keeps its
// last known state; the contacts still count.
package power
