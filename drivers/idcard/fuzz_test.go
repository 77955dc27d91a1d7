package idcard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// FuzzDecodeFrame checks that any bytes either decode to a payload that
// encodes back to the same frame, or give an error; never a panic.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeFrame(b)
		if err != nil {
			if !errors.Is(err, ErrShortFrame) && !errors.Is(err, ErrFrame) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("DecodeFrame error %v is none of the frame errors", err)
			}
			return
		}
		again, err := Encode(p)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("Encode(DecodeFrame(% X)) = % X, %v", b, again, err)
		}
		if r, err := DecodeResponse(b); err == nil && r.SW1 == 0 && r.SW2 == 0 {
			if again, _ := EncodeResponse(r.Status, r.Data); !bytes.Equal(again, b) {
				t.Fatalf("EncodeResponse(DecodeResponse(% X)) = % X", b, again)
			}
			SplitRead(r.Data)
			_ = r.Status.String()
		}
		if q, err := DecodeRequest(b); err == nil {
			if again, _ := EncodeRequest(q.Cmd, q.Data); !bytes.Equal(again, b) {
				t.Fatalf("EncodeRequest(DecodeRequest(% X)) = % X", b, again)
			}
			_ = q.Cmd.String()
		}
	})
}

// FuzzDecodeText checks that a text block either is refused or decodes to a
// card that validates, encodes back to an equal card, and never prints its
// number in the clear.
func FuzzDecodeText(f *testing.F) {
	f.Add(make([]byte, TextLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeText(b)
		if err != nil {
			if c != nil || !errors.Is(err, ErrInvalidText) {
				t.Fatalf("DecodeText = %v, %v; want nil and ErrInvalidText", c, err)
			}
			return
		}
		if err := ValidNumber(c.Number); err != nil {
			t.Fatalf("decoded card has an invalid number: %v", err)
		}
		text, err := EncodeText(c)
		if err != nil {
			t.Fatalf("EncodeText(decoded card) = %v", err)
		}
		again, err := DecodeText(text)
		if err != nil || !equalCard(again, c) {
			t.Fatalf("DecodeText(EncodeText(c)) = %+v, %v; want %+v", again, err, c)
		}
		js, _ := c.MarshalJSON()
		for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c), string(js)} {
			if strings.Contains(out, c.Number) || strings.Contains(out, c.Number[4:14]) {
				t.Fatalf("formatted card %q shows the number", out)
			}
		}
	})
}

// looseport answers every write with the next bytes of a stream and then
// stays silent, advancing a fake clock so that timeouts come at once.
type looseport struct {
	stream []byte
	clock  *clockwork.FakeClock
}

func (p *looseport) Write(b []byte) (int, error) { return len(b), nil }

func (p *looseport) Read(b []byte) (int, error) {
	if len(p.stream) == 0 {
		p.clock.Advance(100 * time.Millisecond)
		return 0, nil
	}
	n := copy(b, p.stream[:min(len(p.stream), 97)])
	p.stream = p.stream[n:]
	return n, nil
}

// FuzzReadReply feeds a reader arbitrary replies: a full Read must end with
// a whole card or an error, never a panic or a stall.
func FuzzReadReply(f *testing.F) {
	f.Add([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94})
	f.Fuzz(func(t *testing.T, stream []byte) {
		fc := clockwork.NewFakeClock()
		r, err := New(&looseport{stream: stream, clock: fc}, &Opts{Clock: fc})
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.Read(context.Background())
		if (c == nil) == (err == nil) {
			t.Fatalf("Read = %v, %v; want a card or an error", c, err)
		}
		if c != nil && ValidNumber(c.Number) != nil {
			t.Fatalf("Read returned a card with an invalid number")
		}
	})
}
