// Package upssim emulates a Megatec "Q1" UPS on a pseudo-terminal, for the
// ups driver's tests, for NUT's own driver (nutdrv_qx) in the cross-check
// and for `hallgw sim ups`.
//
// It answers Q1 with the fixed-column 47-byte status line, F and I (or
// echoes them like a Santak Castle, or ignores them), and accepts T, TL,
// T<nn>, CT, Q, S<n>, S<n>R<mmmm> and C with no reply, echoing anything it
// does not understand as the Megatec spec asks. Requests end at CR (LF is
// tolerated); replies are CR-terminated lines paced at the configured baud
// rate with simwire.Line, so a reader sees true 2400-baud timing.
//
// Behind the protocol sits a small physical model: mains on or off with
// an input voltage that the UPS trims or boosts outside 200–240 V; a
// lead-acid pack of Nominal volts (2 V cells) and CapacityAh that discharges
// with the load (load % of RatedPower over the pack voltage and inverter
// efficiency) and charges at C/10 on mains. The resting cell voltage falls
// linearly from 2.125 V (full) to 2.025 V at 20 % charge, then bends down
// to 1.80 V at empty; under load it sags by 0.03 V per C of current; on
// mains the reported voltage is the charging voltage, at most 2.27 V per
// cell. Low battery is raised below LowCell volts per cell. Tests, shutdown
// timers and the discharge run on an injected clock, so a test can drain a
// 4-hour battery instantly. The model is simple and meant to exercise the
// driver and the power policy, not to predict a real battery.
package upssim
