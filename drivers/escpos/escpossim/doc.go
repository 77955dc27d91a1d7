// Package escpossim emulates a Chinese ESC/POS thermal ticket printer (58 or
// 80 mm) on a pseudo-terminal, so that the escpos driver, the daemon and the
// installer's tools can be run and tested without hardware.
//
// The emulator parses the stream the way the printers described in the
// protocol notes (§2) do: initialise, text in GB18030 two-byte codes under
// FS & (CP437 under FS .), justification, emphasis, character size (GS !,
// ESC !, FS !, FS W), feeds, full and partial cuts (GS V, ESC i/m), QR codes
// (GS ( k, cn 49: model, module size, error correction, store, print),
// barcodes (GS k, functions A and B), paper sensor status (GS r) and
// Automatic Status Back (GS a: a 4-byte block at once and on every change of
// a selected status). DLE EOT n and DLE ENQ n are executed the moment they
// arrive, even in the middle of another command's data, as real printers
// do. Commands it knows but does not render (images, page mode, macros,
// user characters) are skipped by their length; unknown commands are
// counted, logged and skipped by their prefix and function byte, so a bad
// stream never stalls it.
//
// Every cut ends a RenderedTicket; Text renders it as plain text (hanzi two
// columns wide, enlarged characters spread over their columns, QR codes as
// "[QR: data]"). No PNG rendering: go.mod has no QR encoder or CJK font.
//
// Faults are staged with SetPaper, SetCoverOpen, SetOffline,
// SetCutterError, RunOutAfter (paper runs out part-way through a ticket),
// Garble (noisy replies), SetSilent (no replies) and Unplug/Replug (the
// port vanishes and comes back under a new pty path). While the printer
// cannot print, lines sent to it are dropped and counted, and the ticket is
// marked incomplete; a real printer would keep them in its buffer until it
// recovers, which is worse for a queue ticket, so the driver never sends a
// ticket to a printer in that state.
//
// With Opts.Baud set, received and sent bytes are paced as on a real 8N1
// line (simwire.Line); a pty alone moves bytes instantly.
package escpossim
