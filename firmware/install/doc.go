// Package install lays hallgw down into a root directory: the running
// system ("/") or a mounted SD-card image prepared on a workstation.
//
// # Features
//
//   - The daemon goes into slot a of the update package's A/B layout (or,
//     on a root that already runs, into the inactive slot, made active at
//     once), with the current link pointing at it, plus a stable boot copy
//     that runs slot selection before every start.
//   - The systemd unit (firmware/service) and its multi-user.target.wants
//     link, as "systemctl enable" would make it.
//   - The default configuration /etc/hallgw/hallgw.yaml, never overwriting
//     an existing one unless forced.
//   - The trusted update keys (/etc/hallgw/keys/*.pub) and the board string
//     (/etc/hallgw/board) that bundles are checked against.
//   - The data and staging directories.
//
// Install is idempotent: running it again with the same inputs changes
// nothing and says so.
package install
