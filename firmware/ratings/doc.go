// Package ratings makes the hall's ratings (好差评) verifiable: every rating
// outcome, given or not rated, becomes a record signed with the gateway's
// ed25519 key and chained to the one before by SHA-256, so the platform can
// prove that no rating was changed, inserted or removed at the edge.
//
//   - The key is generated on first start into the data directory
//     (rating.key, mode 0600; the public key in rating.pub) and published
//     in the birth message.
//   - The Signer follows the committed hall events and journals, for each
//     hall.EvRatingGiven and hall.EvRatingNotRated, a business record of kind
//     "rating_sig" (Record) right after it, and for a 差评 an "alert" record
//     (Alert) in the same commit; the uplink publishes both.
//   - Verify checks an exported journal (journal.Export JSON lines): hashes,
//     signatures, the chain's order and links, each signed record against
//     the hall event it signs, outcomes left unsigned and a truncated tail
//     against the chain head the platform last saw. `hallgw verify` runs it.
//
// The payload is hashed in canonical JSON (RFC 8785 restricted to
// integers, Canonicalize). docs/ratings.md specifies the records and the
// verification precisely enough for the platform to implement it.
package ratings
