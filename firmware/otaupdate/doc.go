// Package otaupdate carries out firmware updates commanded over MQTT: the
// platform's "update" command offers a signed bundle ({version, sha256,
// size, chunk_size}); the gateway fetches it in chunks over the uplink's
// connection, installs it into the inactive slot with firmware/update and
// restarts into the trial. docs/update.md ("Over MQTT") and docs/mqtt.md
// are the contract.
//
//   - Transport: the gateway asks for chunk i on <root>/update/req
//     ({"v":1,"sha256","index"}) and the platform answers on
//     <root>/update/chunk ({"v":1,"sha256","index","data":base64}, or
//     "error"). A window of requests is outstanding at once; a request
//     without an answer is sent again after a timeout, and every request
//     still open is sent again on each new session of the uplink (clean
//     sessions lose answers sent meanwhile).
//   - Resumable: chunks go into update.Staging's download, which keeps its
//     received-chunk bitmap on disk; a job file in the data directory
//     remembers the offer, so a reconnect or a restart of the gateway
//     fetches only the chunks still missing.
//   - Verified before anything changes: the whole file must hash to the
//     offered sha256, then Slots.Install checks the signature against the
//     device's trusted keys, the board, the security version and every
//     payload. A refused bundle changes nothing; the refusal is journaled
//     with its reason.
//   - Every step is a business record of kind "firmware" (accepted,
//     resumed, downloaded, installed, refused, failed), published by the
//     uplink like every event; the "firmware" status section (the slots and
//     the download's progress) is in the birth message and the telemetry.
//   - Once the install is journaled, the daemon exits with
//     daemon.ErrRestart; systemd starts it again and the pre-start "hallgw
//     slot select" boots the trial, which commits once healthy.
//
// The platform side is here too, as a reference: Server answers chunk
// requests from bundle files, Push offers a bundle to a gateway and waits
// for the outcome ("hallgw update serve").
package otaupdate
