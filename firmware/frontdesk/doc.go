// Package frontdesk runs the hall's front devices inside the gateway daemon:
// the kiosks (取号机) with their ticket printers, ID-card readers, barcode
// scanners and GPIO ticket buttons; the RS-485 window buses with their
// keypads, LED bars and hall displays (综合屏); GPIO call buttons; and the
// calling voice.
//
// # Supervision
//
// Every serial device is supervised the same way: its port is opened with
// firmware/serialport (a path, or usb:VID:PID[:SERIAL] looked up again at
// every opening, so a device replugged under another name is found), handed
// to its driver, and when the port vanishes or the driver reports a
// disconnection it is closed and opened again with a back-off of 100 ms
// doubling to 1 s, so a device is back within about a second of
// reappearing. Health goes to the daemon's registry under ids such as
// "kiosk-1/printer", "kiosk-1/idcard", "bus-1", "bus-1/t05",
// "bus-1/display-201" and "voice": up, degraded (paper near end) or down with
// the reason, the last time the device answered, error counters (timeout,
// garbled, crc, disconnect …) and the device's state.
//
// # Kiosks
//
// The kiosk service implements the HTTP contract of docs/kiosk.md under
// /kiosk/{id}/api/. A ticket follows the paper policy of docs/printer.md: the
// printer's status is read first and a printer that cannot print refuses the
// ticket (printer_unavailable) with nothing journaled; otherwise the ticket
// is issued through the gateway (durable first) and then printed. A print
// that fails after the issue is reported in the answer and in health, and
// the ticket is kept for a reprint (POST /kiosk/{id}/api/reprint). An ID card
// read at the kiosk gives the holder's age (the hall's elderly rule), the
// holder hash that matches appointments, and the sealed personal blob; the
// clear ID number never leaves this package and is never logged. An
// appointment QR code scanned at the kiosk checks the appointment in.
//
// # Window buses
//
// Each bus is a drivers/windowbus Master. Key presses become hall commands
// (call, recall, skip, transfer, hold, pause with a reason, resume, finish,
// the five rating keys); after each command the window's LED bar and the
// hall displays are written ahead of every queued write, so a press reaches
// them within one poll cycle plus the frames themselves. Events from other
// sources (the API, the platform, transfers, notices) arrive through the
// gateway's feed of committed events and are shown with normal priority. A
// notice is shown on every bar and display; an emergency replaces
// everything until it is cleared. Refused presses show a short message on
// the window's bar for a few seconds.
//
// # Voice
//
// Calls and recalls are announced through a drivers/voice Announcer, which
// queues them so that two never overlap.
//
// docs/devices.md describes what each device shows and does.
package frontdesk
