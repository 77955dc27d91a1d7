// Package archive keeps the documents scanned at the windows until the
// provincial platform has them, as DB43/T 2422 part 5 asks of a hall's case
// files: filed under the case (办件) number (§7.2.4: the system-made case
// number is the document number), delivered no later than one month after
// the case ends (§7.3.2.2).
//
// Scan runs the window's scanner (package drivers/scanner) and files the
// pages as
//
//	<root>/<case>/<batch>-pNN.<ext>     e.g. cases/4301002024050600012/20260302T021502Z-p01.png
//	<root>/<case>/manifest.json
//
// where a batch is one press of the scan key or pedal, named after its UTC
// time. The case number comes from the caller, or from the window's
// current case (SetCase: the case barcode scanned at the window); without
// one the pages go under a provisional id, TMP-<window>-<time>, which then
// stays the window's case until the next ticket is called. A jam keeps the
// pages scanned before it. Every batch is journaled (kind "scan": case,
// window, staff, pages, names, sizes, SHA-256 — no personal data) before it
// is uploaded.
//
// Files travel to the platform in chunks over a Transport (an MQTT
// implementation is in this package): each chunk is acknowledged, the
// manifest records the acknowledged byte count after each one, so after a
// restart the upload resumes from the last acknowledged chunk; the
// platform's final acknowledgement carries its SHA-256 of the assembled
// file, and only when it matches is the file deleted (kind
// "scan_delivered" is journaled when a batch is complete). docs/scanner.md
// describes the wire format.
//
// Disk use is bounded: while the files waiting for delivery exceed
// Opts.MaxBytes, or the file system has less than Opts.MinFree, new scans
// are refused with ErrFull and an alarm (journal kind "alarm", type
// "archive_full", and the "archive" health device degraded) — nothing is
// ever dropped to make room. Batches not delivered within the deadline are
// reported once each (alarm type "archive_overdue"), shown in the status
// section and keep the health device degraded.
package archive
