// Package powerd is the daemon's power component: it watches the UPS — a
// Megatec Q1 unit on a serial port (drivers/ups), its dry contacts on GPIO
// (drivers/drycontact), or both — feeds what it sees to the power-loss policy
// (firmware/power) and carries out the policy's actions in the hall, the
// journal and the operating system. It follows DB43/T 2422 part 4 §6.5.2
// (sudden power failure: tell the people in charge at once, keep the public
// informed, check the systems when power returns) and checks the 4-hour UPS
// of part 1 §6.1.1 with a commanded battery test.
//
// The serial UPS is supervised like every device: the port is opened with
// serialport.Open, polled every power.ups.poll (at most a second), closed on
// a port error and opened again within Options.Reopen (at most 2 s). Failed
// polls are counted across reopenings; from the fifth in a row the UPS counts
// as lost, as NUT marks its data stale. The contacts are edge-driven: an
// on-battery relay reaches the policy about one debounce time (20 ms) after
// it moves.
//
// What the actions do:
//
//   - An alarm raised or cleared (on battery, battery low, mains back, UPS
//     lost or found) is journaled as a business record of kind "power" with
//     the runtime estimate, load and battery voltage, and as a record of
//     kind "alert" in the same commit, which the uplink publishes on the
//     alerts topic the moment it is committed; both reach the platform.
//   - The health device "ups" is up on mains, degraded on battery (with the
//     reason and the runtime left), down when the UPS does not answer.
//   - The displays show an information notice "市电中断，UPS 供电中" while the
//     hall runs on battery; it never replaces an emergency notice, and only
//     a notice this component showed is cleared.
//   - At low battery, or below power.min_runtime: issuing stops
//     (hall.OpSuspendIssuing, journaled, so it survives the restart), the
//     displays show "系统即将停机维护", the journal is flushed, the UPS is told
//     to switch its output off after its delay and back on when mains
//     returns (shutdown.return), and the configured shutdown command (by
//     default "systemctl poweroff") is run once.
//   - When mains is back for the policy's hold time, or at the next start
//     with mains on: issuing resumes (hall.OpResumeIssuing) and the notice
//     goes; the journal replay has restored everything else.
//
// The "power" status section carries the state, the runtime estimate and
// the last battery test. The platform command "ups_battery_test" starts a
// test; its report says whether the UPS carries the hall for 4 hours and is
// kept across restarts.
package powerd
