// Package health keeps the live health of every device the gateway drives
// (printers, bus terminals, the UPS, readers, pads) and tells subscribers
// when one changes, so the uplink can publish it, the status page can show
// it and the journal can record the change as an event.
//
// Drivers know nothing of this package: the supervisor that owns a device
// translates what its driver reports (errors, status bits) into Update
// calls.
//
// # Faults
//
// Faults turns outages into fault records graded by the provincial standard
// DB43/T 2422 part 4 §6.3.1 (故障等级分类): network faults by what is down
// (level I when no window can work, II when some cannot, III when only the
// platform is unreachable), information-system faults by how long the outage
// has lasted (III under 20 minutes, II under an hour, I beyond), escalating
// as it lasts. Each fault is a record with an id, start, end, level history,
// device and cause, kept until ops close it with a resolution note (the
// 故障处理单 of §6.3.2.3).
//
// Gateway, Disk and ReadClock describe the gateway itself: uptime, backlog,
// disk use of the data directory (statfs) and whether the kernel clock is
// synchronized (adjtimex).
package health
