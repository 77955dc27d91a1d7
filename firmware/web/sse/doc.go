// Package sse serves Server-Sent Events (the text/event-stream format of the
// HTML Living Standard, §9.2) of committed hall events, with resume: every
// message that reflects the journal carries its sequence number as the
// event id, so a browser that reconnects sends it back as Last-Event-ID and
// the stream replays, from the journal, every event it missed. Nothing is
// buffered per client beyond a few events: a client that falls behind only
// reads the journal later, it never loses an event.
//
// A fresh connection starts with a snapshot message (Stream.Start) at a
// sequence number S and follows from S+1; after a burst of events the
// stream sends one coalesced refresh message (Stream.Refresh). When the
// events after a Last-Event-ID cannot be replayed (the journal has reclaimed
// them, or the gap is larger than MaxReplay), the stream starts afresh with
// a snapshot instead.
package sse
