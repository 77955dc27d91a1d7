// Package gateway joins the hall's rules to the durable journal: it is the
// one place where a business event is decided, made durable and then told.
//
// Every operation follows the same path, under one lock:
//
//  1. hall.Decide checks the command against the current state and returns
//     the events it causes, changing nothing (a refused command leaves no
//     trace but its error);
//  2. the events are submitted to the journal, which gives them their
//     sequence numbers in this order;
//  3. hall.Apply changes the in-memory state, so the next decision sees it.
//
// The caller then waits, outside the lock, until the journal has fsynced the
// events. Only then does Do return, and only then does the Feed deliver them
// to devices (displays, printers, voice) and pages: nothing is told before
// it is durable. Concurrent callers share one fsync (the journal's group
// commit).
//
// After a restart Open rebuilds the hall from the latest journal snapshot and
// the events after it, with the same Apply, so the state is exactly the state
// the events describe.
package gateway
