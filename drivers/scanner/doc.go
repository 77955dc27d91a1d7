// Package scanner drives document scanners (高拍仪, 高速扫描仪) through SANE,
// the Scanner Access Now Easy interface every Linux scanner backend
// implements, by running its command-line front end scanimage (Debian
// package sane-utils).
//
// A Dev runs one scan at a time:
//
//	scanimage -d DEVICE [--source S] [--resolution N] [--mode M] --format=F
//	    --batch=DIR/p%02d.EXT --batch-print --batch-count=K [backend options]
//
// with SANE_CONFIG_DIR set when Opts.ConfigDir is given, so a test or a
// demo can run with a hermetic configuration (package scannersim writes one
// for SANE's test backend). Batch mode writes each page to a ".part" file
// and renames it once the page is complete, printing its name: the pages a
// scan returns are exactly the complete ones. A feeder (Opts.Source ADF)
// scans until it is empty or MaxPages; a flatbed scans one page.
//
// scanimage exits with the SANE status of the scan (SANE_STATUS_JAMMED = 6
// for a paper jam, 7 no documents, 8 cover open, …). A scan that fails
// returns a *StatusError matching ErrJammed, ErrNoDocs, ErrCoverOpen or
// ErrDeviceBusy, together with the Result of the pages scanned before the
// failure, which are kept. A scan never blocks forever: Opts.Timeout bounds
// it (SIGTERM, then SIGKILL after a grace period), as do the context and
// Halt. ParseOutput reads scanimage's batch output.
//
// The program is started through an injectable Commander (exec.CommandContext
// by default), never from a hard-coded path.
//
// Pedal watches a foot pedal on a GPIO pin (periph gpio.PinIn) with
// debounce, for starting a scan hands-free.
package scanner
