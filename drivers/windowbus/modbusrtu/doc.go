// Package modbusrtu is the window bus in Modbus RTU: the register map of
// docs/window-bus.md, a frame codec for both directions (requests and
// replies, CRC-16/Modbus), and a windowbus.Link for the master side.
//
// # Master side
//
// The Link speaks through github.com/simonvetter/modbus, a maintained
// Modbus client, so the master's framing, CRC, t3.5 pacing and reply
// checks are not ours. That library's RTU client can only open a serial
// device by name itself (with its own serial package) and offers no way to
// hand it an open port, while drivers here must take an io.ReadWriter from
// the supervisor. Its "rtuovertcp" mode runs the very same RTU transport
// over a socket, so the Link gives the library a loopback socket and
// bridges it to the port:
//
//   - each request the library writes goes to the port, after dropping
//     whatever arrived since the last transaction (late replies, noise);
//   - received bytes are framed with ResponseLen and handed to the library
//     one whole reply at a time; bytes before the expected unit identifier
//     or after the frame are counted as stray and dropped;
//   - a reply that reaches the socket after the library timed out would be
//     read as the next answer, so that client is closed and dialled anew.
//
// The library applies one timeout per client; the Link keeps one client per
// timeout class (short transactions, key reads, text writes), each timeout
// being the transaction's airtime plus LinkOpts.ReplyTimeout. Each
// listener is bound to 127.0.0.1, accepts one connection and is closed.
//
// # Device side
//
// The codec (Request, Response, DecodeRequest, DecodeResponse, CRC16) and
// the block encoders (EncodeIdentity, EncodeKeys, PackText, …) serve the
// emulator in windowbus/bussim and the tests that check frames against the
// document's worked examples.
package modbusrtu
