// Package idcard drives a second-generation resident ID-card reader (二代身份证
// 阅读器) that speaks the SAM serial protocol, the "AA AA AA 96 69" frame used by
// the security module (SAM) in every certified reader.
//
// Every frame, request or response, is
//
//	AA AA AA 96 69 | LEN_H LEN_L | payload | CHK
//
// where LEN (big-endian) counts the payload and CHK, and CHK is the XOR of
// every byte from LEN_H to the end of the payload. A request's payload is
// CMD PARA [DATA]; a response's is SW1 SW2 SW3 [DATA], SW3 being the Status.
// Encode, DecodeFrame, DecodeRequest and DecodeResponse handle that framing.
//
// A Reader takes the port as an io.ReadWriter (it never opens one), sends
// the commands and runs the polling sequence the vendor SDKs use: SAM status
// 90, find card 9F, select card 90, read text and photo 90. The reply to the
// read carries a 256-byte text block in UCS-2 little-endian (name, sex,
// nation, birth date, address, ID number, issuing authority, validity) and a
// 1024-byte photo in the vendor's compressed WLT format, kept here as an
// opaque blob. DecodeText turns the block into a Card and validates every
// field, including the GB 11643 check digit of the ID number (ISO 7064
// MOD 11-2); a Card is only ever returned whole.
//
// A Card is personal data. Its String, Format, MarshalJSON and LogValue
// methods print masked values only (张*三, 4301**********1234, the address
// cut at the district, no photo), so that printing or logging a card by
// accident leaks nothing; the clear values are read from its fields.
//
// The emulator in idcard/idcardsim speaks the same protocol on a
// pseudo-terminal.
package idcard
