// Package scannersim provides the scanner emulator of package scanner:
// SANE's own test backend ("test", shipped with libsane), which scanimage
// drives exactly like a real scanner, and a hermetic configuration for it.
//
// Config writes a SANE configuration directory holding only the test
// backend (dll.conf with the line "test", and the backend's test.conf: its
// default geometry; without it every scan is 1×1 pixels), to pass as
// SANE_CONFIG_DIR. The test backend offers two devices, test:0 and test:1;
// its feeder ("Automatic Document Feeder") gives ten pages and is then
// empty. Faults are injected with backend options: Jam makes every read end
// with SANE_STATUS_JAMMED (scanimage exits 6), JamAfter a feeder that jams
// after n good pages, Slow a scanner that takes its time.
package scannersim
