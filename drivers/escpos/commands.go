package escpos

import (
	"errors"
	"fmt"
)

// Command bytes used by the builder and the status queries.
const (
	esc = 0x1B
	gs  = 0x1D
	fs  = 0x1C
	dle = 0x10
	eot = 0x04
	lf  = 0x0A
)

// Align is a justification for ESC a. It applies from the start of the next
// line.
type Align byte

// Justifications.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// QRModel selects the QR symbol model (GS ( k fn 65).
type QRModel byte

// QR models.
const (
	QRModel1 QRModel = 0x31
	QRModel2 QRModel = 0x32
)

// QRLevel is the QR error-correction level (GS ( k fn 69).
type QRLevel byte

// QR error-correction levels.
const (
	QRLevelL QRLevel = 0x30 // 7 %
	QRLevelM QRLevel = 0x31 // 15 %
	QRLevelQ QRLevel = 0x32 // 25 %
	QRLevelH QRLevel = 0x33 // 30 %
)

// QROpts are the symbol settings sent before the QR data.
type QROpts struct {
	Model      QRModel // QRModel2 unless the printer is very old
	ModuleSize int     // dots per module, 1–16
	Level      QRLevel
}

// MaxQRData is the most data one QR store command may carry: the store
// function's length field counts the data plus 3 bytes and may not exceed
// 7092.
const MaxQRData = 7092 - 3

// ErrInvalid is wrapped by every error the builder and the ticket encoder
// return for arguments they cannot encode.
var ErrInvalid = errors.New("escpos: invalid argument")

// Builder assembles an ESC/POS byte stream. Its methods append one command
// each and return the builder, so calls chain; the first invalid argument
// is remembered and reported by Bytes, and later calls do nothing.
//
// Builder is the low-level layer under EncodeTicket; use it for the exact
// sequences of the protocol notes and for layouts of your own.
type Builder struct {
	buf []byte
	te  *textEncoder
	err error
}

// NewBuilder returns an empty builder that encodes text for e.
func NewBuilder(e Encoding) *Builder {
	if e != GB18030 && e != GB2312 {
		return &Builder{te: newTextEncoder(GB18030), err: fmt.Errorf("%w: encoding %v", ErrInvalid, e)}
	}
	return &Builder{te: newTextEncoder(e)}
}

func (b *Builder) fail(format string, args ...any) *Builder {
	if b.err == nil {
		b.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	return b
}

// Raw appends bytes as they are.
func (b *Builder) Raw(p ...byte) *Builder {
	if b.err == nil {
		b.buf = append(b.buf, p...)
	}
	return b
}

// Init appends ESC @: clear the buffer and reset every mode.
func (b *Builder) Init() *Builder { return b.Raw(esc, '@') }

// ChineseOn appends FS &: bytes from 0x81 up start two-byte GB codes.
func (b *Builder) ChineseOn() *Builder { return b.Raw(fs, '&') }

// ChineseOff appends FS .: every byte is a single code-page character.
func (b *Builder) ChineseOff() *Builder { return b.Raw(fs, '.') }

// Align appends ESC a n.
func (b *Builder) Align(a Align) *Builder {
	if a > Right {
		return b.fail("align %d", a)
	}
	return b.Raw(esc, 'a', byte(a))
}

// Bold appends ESC E n.
func (b *Builder) Bold(on bool) *Builder {
	n := byte(0)
	if on {
		n = 1
	}
	return b.Raw(esc, 'E', n)
}

// Size appends GS ! n for width and height multipliers of 1 to 8.
func (b *Builder) Size(width, height int) *Builder {
	if width < 1 || width > 8 || height < 1 || height > 8 {
		return b.fail("character size %d×%d, want 1–8", width, height)
	}
	return b.Raw(gs, '!', byte((width-1)<<4|(height-1)))
}

// Text appends s in the builder's encoding. '\n' becomes LF; every other
// character the printer cannot print (see Substitute) is replaced and
// counted, so no byte of s can ever be taken for a command.
func (b *Builder) Text(s string) *Builder {
	if b.err != nil {
		return b
	}
	for _, r := range s {
		if r == '\n' {
			b.buf = append(b.buf, lf)
			continue
		}
		b.buf, _ = b.te.appendRune(b.buf, r)
	}
	return b
}

// LF appends a line feed, which prints the line buffer.
func (b *Builder) LF() *Builder { return b.Raw(lf) }

// Line appends s and a line feed.
func (b *Builder) Line(s string) *Builder { return b.Text(s).LF() }

// Feed appends ESC d n: print the buffer and feed n lines (0–255).
func (b *Builder) Feed(n int) *Builder {
	if n < 0 || n > 255 {
		return b.fail("feed %d lines, want 0–255", n)
	}
	return b.Raw(esc, 'd', byte(n))
}

// Cut appends GS V m, a cut at the current position (only valid at the
// start of a line).
func (b *Builder) Cut(partial bool) *Builder {
	m := byte(0x00)
	if partial {
		m = 0x01
	}
	return b.Raw(gs, 'V', m)
}

// FeedCut appends GS V 65/66 n: feed to the cutter plus n motion units, then
// cut fully (65) or partially (66).
func (b *Builder) FeedCut(partial bool, n int) *Builder {
	if n < 0 || n > 255 {
		return b.fail("cut feed %d, want 0–255", n)
	}
	m := byte(65)
	if partial {
		m = 66
	}
	return b.Raw(gs, 'V', m, byte(n))
}

// qrFunc appends GS ( k pL pH 49 fn params.
func (b *Builder) qrFunc(fn byte, params ...byte) *Builder {
	n := len(params) + 2
	b.Raw(gs, '(', 'k', byte(n), byte(n>>8), 49, fn)
	return b.Raw(params...)
}

// QR appends the five GS ( k functions that select the model, the module
// size and the error correction, store data and print the symbol. data is
// sent as bytes (a URL or ticket id; 1 to MaxQRData bytes).
func (b *Builder) QR(data string, o QROpts) *Builder {
	switch {
	case o.Model != QRModel1 && o.Model != QRModel2:
		return b.fail("QR model %#02x", byte(o.Model))
	case o.ModuleSize < 1 || o.ModuleSize > 16:
		return b.fail("QR module size %d, want 1–16", o.ModuleSize)
	case o.Level < QRLevelL || o.Level > QRLevelH:
		return b.fail("QR error correction %#02x", byte(o.Level))
	case len(data) == 0 || len(data) > MaxQRData:
		return b.fail("QR data of %d bytes, want 1–%d", len(data), MaxQRData)
	}
	b.qrFunc(0x41, byte(o.Model), 0)
	b.qrFunc(0x43, byte(o.ModuleSize))
	b.qrFunc(0x45, byte(o.Level))
	b.qrFunc(0x50, append([]byte{0x30}, data...)...)
	return b.qrFunc(0x51, 0x30)
}

// Code128 appends GS k 73 n {B data: a CODE128 barcode in code set B.
// data is printable ASCII, 1 to 253 characters.
func (b *Builder) Code128(data string) *Builder {
	if len(data) == 0 || len(data) > 253 {
		return b.fail("CODE128 data of %d bytes, want 1–253", len(data))
	}
	for i := 0; i < len(data); i++ {
		if data[i] < 0x20 || data[i] > 0x7E {
			return b.fail("CODE128 data byte %#02x", data[i])
		}
	}
	b.Raw(gs, 'k', 73, byte(len(data)+2), '{', 'B')
	return b.Raw([]byte(data)...)
}

// Substituted returns how many characters Text has replaced so far.
func (b *Builder) Substituted() int { return b.te.subs }

// Bytes returns the stream built so far, or the first invalid argument.
func (b *Builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.buf, nil
}
