// Package privacy protects the personal data the gateway handles: names and
// ID numbers read from resident ID cards (GB 11643 numbers), as DB43/T 2422
// and the national 好差评 rules ask ("evaluator data protected", never to
// third parties without consent).
//
// A Keeper does three things:
//
//   - HolderHash turns an ID number into a keyed hash, "h1:" followed by the
//     hex HMAC-SHA256 of the normalised number under the hall secret. It is
//     what goes upstream, what appointments are matched on and what the
//     staff roster holds; the platform computes the same value from the
//     same secret (docs/privacy.md gives the recipe and a test vector).
//   - Seal and Open encrypt personal fields at rest with AES-256-GCM under
//     a key of the calendar day the data belongs to. Day keys are random,
//     stored wrapped (AES-256-GCM under a key derived from the hall secret)
//     one file per day in the keystore directory (0700, files 0600).
//   - Enforce deletes the day keys older than the retention period. Once a
//     day's key is gone every record sealed under it is unreadable wherever
//     it is stored, journal, snapshots and backups included
//     (crypto-shredding): Open returns ErrExpired. Open refuses an expired
//     day even before Enforce has run.
//
// Upstream gives what may leave the gateway about a person: the holder hash
// and masked values, or the clear values only when the configuration
// explicitly allows it (privacy.upstream_clear).
//
// The package never logs; its errors never quote personal data.
package privacy
