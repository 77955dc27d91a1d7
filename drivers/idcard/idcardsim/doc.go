// Package idcardsim emulates a second-generation ID-card reader: it answers
// the SAM "AA AA AA 96 69" protocol of package idcard on a pseudo-terminal,
// at the pace of a real 115200-baud line, so that the driver can be tested
// through the same serial stack as on a kiosk.
//
// A test (or `hallgw sim idcard`) places a card, lifts it, or injects the
// faults real readers show: a failed SAM, a reply with a bad checksum, a card
// lifted in the middle of a read. Like most readers, the emulator answers
// find card with 80 once a card has been read, until it is lifted and placed
// again (Opts.RepeatFind changes that).
package idcardsim
