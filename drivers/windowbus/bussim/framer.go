package bussim

import (
	"errors"

	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
)

// frame is a unit of received bytes to handle: a request framed by its
// length, or whatever had arrived when the line fell silent.
type frame struct {
	raw    []byte
	silent bool // framed by silence, not by length
}

// framer cuts the received byte stream into frames.
type framer struct {
	proto string
	buf   []byte
}

func newFramer(proto string) *framer { return &framer{proto: proto} }

func (f *framer) feed(b []byte) { f.buf = append(f.buf, b...) }

func (f *framer) pending() int { return len(f.buf) }

// maxPending bounds buffered input that never forms a frame.
const maxPending = 2 * modbusrtu.MaxFrame

// next returns the next complete frame, if one is buffered.
func (f *framer) next() (frame, bool) {
	if f.proto == "vendor" {
		return f.nextVendor()
	}
	n, err := modbusrtu.RequestLen(f.buf)
	switch {
	case err != nil:
		// Too short to size, or a function we cannot size: wait for the
		// silence that ends it (flush), unless it is plainly noise.
		if len(f.buf) > maxPending {
			return f.take(len(f.buf), true), true
		}
		return frame{}, false
	case len(f.buf) < n:
		return frame{}, false
	}
	return f.take(n, false), true
}

func (f *framer) nextVendor() (frame, bool) {
	for len(f.buf) > 0 {
		_, n, err := vendor.Decode(f.buf)
		switch {
		case err == nil || errors.Is(err, vendor.ErrSum):
			return f.take(n, false), true
		case errors.Is(err, vendor.ErrIncomplete):
			if n > 0 {
				return f.take(n, true), true // garbage before a possible frame
			}
			if len(f.buf) > maxPending {
				return f.take(len(f.buf), true), true
			}
			return frame{}, false
		default: // a false start
			return f.take(n, true), true
		}
	}
	return frame{}, false
}

// flush returns everything buffered as one frame: the line fell silent.
func (f *framer) flush() (frame, bool) {
	if len(f.buf) == 0 {
		return frame{}, false
	}
	return f.take(len(f.buf), true), true
}

func (f *framer) take(n int, silent bool) frame {
	fr := frame{raw: append([]byte(nil), f.buf[:n]...), silent: silent}
	f.buf = append(f.buf[:0], f.buf[n:]...)
	return fr
}
