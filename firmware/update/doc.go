// Package update installs signed firmware bundles into A/B slots and decides,
// at every start of the service, which slot boots.
//
// The platform OS is flashed once and stays; what this package updates is the
// hallgw daemon and its default configuration, kept in two slots under
// /var/lib/hallgw/slots/{a,b}. A symlink, /var/lib/hallgw/current, names the
// slot systemd starts, and a small state file, /var/lib/hallgw/state.json,
// records which slot is known good, which one is on trial and why the last
// trial failed. All paths hang off an injected root directory, so tests and
// the installer work on a temporary tree or a mounted SD card.
//
// # Features
//
//   - Bundles: a tar (optionally gzip-compressed) holding manifest.json, its
//     ed25519 signature manifest.sig, and the payload files. Only the manifest
//     is signed; it carries the sha256 and size of every file, the version, a
//     monotonic security version and the compatible board string. Raw keys,
//     no certificates, no expiry, no dependence on the device clock.
//   - A list of trusted keys (/etc/hallgw/keys/*.pub) for rotation; an empty
//     list refuses every bundle. Refusals are typed: ErrNoKeys, ErrUnsigned,
//     ErrBadSignature, *TamperError, *DowngradeError, *BoardError,
//     ErrWrongArch.
//   - Install writes only the inactive slot, verifies the written files, marks
//     the slot for trial with a try counter and swaps current atomically.
//   - Select is the pre-start step in the bootloader's role (run by the stable
//     copy of hallgw, not by the version on trial): it counts trial boots and
//     rolls back when they run out, recording the reason.
//   - GateCommit / MarkGood commit a trial only once the new daemon's health
//     checks pass; the previous slot stays as the fallback.
//   - Staging / Download: a resumable chunk store for bundles fetched over the
//     network, keyed by the bundle's sha256, with a received-chunk bitmap.
//   - Every change to the disk goes through FS, one durable step at a time
//     (temporary file, fsync, rename, directory fsync), so a test can cut the
//     power after any step and check that the device still boots a good slot.
//
// The design follows the application-level A/B scheme described in
// docs/update.md: RAUC's slot counter and mark-good, SWUpdate's and Mender's
// single signed manifest, and a failure reason that survives the rollback.
package update
