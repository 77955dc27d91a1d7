// Package escpos drives the Chinese 58 mm and 80 mm thermal printers of the
// ticket kiosk over serial or USB-serial, in ESC/POS as the protocol notes
// (§2) describe it, with their byte-exact test vectors.
//
// # Layers
//
// Builder appends single commands (ESC @, FS &, ESC a, ESC E, GS !, ESC d,
// GS V, GS ( k QR functions, GS k CODE128) and text; EncodeTicket lays a
// whole queue ticket out with it. Both are pure. Printer talks to one
// printer over an io.ReadWriter that the caller opened: Print sends bytes,
// Status asks DLE EOT 1–4, PrintTicket checks, prints and checks again.
//
// # Text
//
// Text goes out as GB18030 two-byte codes, the only area most of these
// printers' fonts cover (Opts.Encoding GB2312 narrows it further for
// printers with a GB2312 font). A character that would need a four-byte
// GB18030 sequence (rare hanzi, often in names), a private-use character,
// a control character or invalid UTF-8 is printed as Substitute ('?') and
// counted (Builder.Substituted, Counters.Substituted); nothing the caller
// passes as text can turn into a command. Fixed wording uses ASCII
// punctuation so that every font has it ("约 5-10 分钟").
//
// # Status
//
// Each DLE EOT reply is checked ((b & 0x93) == 0x12) before it is decoded;
// conditions are read with masks, because some printers split the paired
// near-end and paper-end bits. A byte that fails the check is counted as
// garbled and never decoded; an ASB block ((b & 0x93) == 0x10, then three
// bytes) met on the way is decoded and noted; a query without a valid reply
// is retried after draining stale input, and every read has a deadline on
// the injected clock, so a noisy or silent line never stalls a caller.
//
// # No paper
//
// A ticket nobody can read must not be issued. The kiosk calls Status before
// it issues (journals) a ticket; when Status().CanPrint() is false it issues
// none, shows "取号机缺纸，请到咨询台取号" (or the fault) and the health
// report carries the status. PrintTicket checks again before sending (unless
// the last read is younger than Opts.FreshStatus) and
// returns a *StatusError matching ErrPaperEnd, ErrCoverOpen, ErrOffline,
// ErrCutter… without sending anything. Paper near end still prints; the
// status (LastStatus) reports it so staff change the roll in time.
//
// When the paper runs out (or the cover opens) while a ticket prints, the
// status read after printing shows it and PrintTicket returns a
// *StatusError with AfterPrint set, matching ErrIncomplete and the cause.
// The ticket was already issued: it is kept, and staff reprint it once the
// printer is ready.
//
// # Faults
//
// Any read or write error other than a read timeout (EIO or EOF when a USB
// printer is unplugged) gives ErrDisconnected, and the Printer stays failed.
// Reopening the port (by path or by USB VID:PID) is the supervisor's job;
// a new Printer on the reopened port works at once, as nothing is kept
// between Printers.
package escpos
