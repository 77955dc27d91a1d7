package main

// The daemon's optional components register themselves when their package
// is linked in; this list links them into the one binary.
import (
	_ "hallgw/firmware/archive"   // scanned case files, uploaded in acknowledged chunks
	_ "hallgw/firmware/frontdesk" // kiosks, window buses, call buttons, voice
	_ "hallgw/firmware/identity"  // staff sign-in at window card readers
	_ "hallgw/firmware/otaupdate" // firmware updates commanded over MQTT
	_ "hallgw/firmware/powerd"    // UPS watch and power-loss handling
	_ "hallgw/firmware/privacy"   // keyed hashes, personal data sealed by day
	_ "hallgw/firmware/ratings"   // signed rating records
	_ "hallgw/firmware/uplink"    // MQTT store-and-forward and commands
	_ "hallgw/firmware/web"       // hall display, kiosk page, status page, /metrics
	_ "hallgw/firmware/web/pad"   // the tablet rating pad
)
