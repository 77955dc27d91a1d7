// Package journal is hallgw's durable event journal: one bbolt file per
// gateway holding every business event of the hall, in order, until the
// platform has it and a snapshot covers it, plus a bounded ring of
// telemetry, named cursors, small metadata and snapshots of derived state.
//
// The journal stores opaque records (class, kind, timestamp, payload); it
// knows nothing of the hall. Design, after the edge-gateway outbox lessons
// (own the outbox, idempotent ids assigned once at the source, business
// and telemetry as separate classes, bounded disk with alarmed overflow,
// group commit without unsafe sync):
//
//   - Business records get consecutive uint64 seqs in Submit order, stored
//     under big-endian keys; EventID(gateway, seq) is their idempotent id.
//     The high-water mark is persisted (the bucket sequence), so a seq is
//     never reused, even after every record below it was reclaimed.
//   - One writer goroutine commits everything queued (up to MaxBatch
//     records) in one bbolt transaction: many producers share one pair of
//     fsyncs. Pending.Wait returns only once the commit is on disk. A
//     failed commit keeps the records queued and retries with backoff,
//     raising the write_failed alarm.
//   - bbolt runs with the hashmap freelist and NoFreelistSync (faster
//     commits, a slower open that rebuilds the freelist), never NoSync.
//   - Business records are reclaimed only at or below every hold's cursor
//     and the latest snapshot; over the limit with nothing reclaimable the
//     journal alarms and keeps writing. Telemetry is evicted oldest first.
//   - bbolt files never shrink; Compact rewrites the file offline.
//
// docs/journal.md describes the file layout, the space policy and the
// alarms.
package journal
