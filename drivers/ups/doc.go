// Package ups drives an uninterruptible power supply that speaks the Megatec
// "Q1" protocol over a serial line (2400 baud 8N1, CR-terminated ASCII lines),
// decoding it the way Network UPS Tools' nutdrv_qx (megatec and q1
// subdrivers, NUT 2.8.0) does.
//
// The status query "Q1" is answered with a 47-byte line
//
//	(MMM.M NNN.N PPP.P QQQ RR.R S.SS TT.T b7b6b5b4b3b2b1b0<CR>
//
// read by fixed byte position: input voltage, input fault voltage, output
// voltage, load %, input frequency, battery voltage (whole pack SS.S or per
// cell S.SS), temperature and eight status bits. DecodeQ1 applies NUT's
// rules: the lead byte must be '(', the reply at least 47 bytes, numeric
// fields may hold only 0-9, space and '.', and a field that fails (for
// example "@@.@", the protocol's "unavailable") is absent from the Status
// rather than zero; the status bits must be '0' or '1', and a bad utility,
// battery-low, regulation, test or shutdown bit fails the whole reply as it
// fails NUT's quick poll. The Status keeps NUT's variable names in Vars and
// in JSON (input.voltage, ups.status "OB LB", ups.type, battery.charge, …).
//
// The ratings ("F") and information ("I") queries are optional: many units
// (Santak Castle among them) echo or reject them, so a Dev never needs them;
// Ratings and Info report ErrUnsupported then. Instant commands keep NUT's
// names and bytes (test.battery.start.quick → "T", shutdown.return →
// "S.5R0003", …) and NUT's reading of the answer: silence means done, an echo
// means refused.
//
// battery.charge is NUT's linear guess from the battery voltage between
// 104/120 and 130/120 of the nominal voltage (20.8 V and 26.0 V for a 24 V
// pack), with NUT's detection of per-cell readings. battery.runtime is this
// package's own estimate from the slope of the battery voltage while
// discharging (BatteryTest and live outages); it is rough, see docs/ups.md.
//
// A Dev takes the port as an io.ReadWriter and never opens it. Like NUT it
// counts failed polls in a row and reports the data stale (ErrStale) from
// the fifth on. The emulator in ups/upssim speaks the same protocol on a
// pseudo-terminal; the tests check both against NUT's own driver.
//
// Sources: Megatec protocol v2.7 (NUT website, protocols/megatec.txt); NUT
// 2.8.0 drivers/nutdrv_qx.c, nutdrv_qx_megatec.c, nutdrv_qx_q1.c,
// nutdrv_qx_blazer-common.c. The 4-hour runtime requirement comes from
// DB43/T 2422.1 §6.1.1.
package ups
