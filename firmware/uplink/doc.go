// Package uplink connects the gateway to the provincial platform over MQTT
// (github.com/eclipse/paho.mqtt.golang): store-and-forward of every business
// event, retained status with a Last Will, device health and fault levels,
// periodic telemetry, and the platform's commands. docs/mqtt.md is the
// contract: topics, payloads with examples, commands and replies, the fault
// level mapping and the measured throughput.
//
// The design follows the edge-gateway lessons (Sparkplug's birth/death and
// bdSeq, Tasmota's LWT mistakes, paho issues #453, #509, #563, #630, #364):
//
//   - The journal is the outbox. The drain publishes business records in
//     order at QoS 1 from the durable cursor; the cursor advances only over
//     the contiguous prefix the broker acknowledged, so a broker restart,
//     hours offline or a gateway restart resume from it, and repeats carry
//     the same event id. paho runs with a clean session, its memory store
//     and no automatic reconnect: each connection is a new session.
//   - A window of Inflight unacknowledged publishes slides: waiting for a
//     whole window stalls 40 ms per window against a broker with Nagle on.
//   - A session counter, persisted in the journal's metadata and bumped on
//     every connection, is in the retained birth, the retained Will and the
//     explicit offline status sent before a clean disconnect.
//   - After each connect: birth, retained device health, retained faults,
//     then the backlog, marked historical.
//   - Commands are decoded strictly (DecodeCommand, fuzzed), authorised by
//     token, run one at a time off paho's goroutines and answered on the
//     reply topic; retained commands are ignored. Their effects are
//     journaled.
//   - No personal data leaves: hall events travel as gateway.EventDoc, and
//     MaskIDNumbers guards every payload.
//
// The daemon component registers itself (init): importing the package is
// enough for `hallgw run` and `hallgw demo` to have an uplink when brokers
// are configured. Watch and Describe are the platform side, for `hallgw
// watch`.
package uplink
