package escpossim

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// maxTicketLines bounds the lines kept for one ticket; a stream that never
// cuts cannot grow memory without end.
const maxTicketLines = 4096

// device is the printer's state: hardware, modes, parser and the ticket
// being printed. It is guarded by Printer.mu.
type device struct {
	// hardware
	paper                  Paper
	cover, offline, cutter bool
	runOut                 int  // lines until the paper runs out; 0: never
	garble                 int  // DLE EOT replies still to garble
	silent                 bool // DLE EOT goes unanswered
	asb                    byte // ASB groups enabled (GS a n)

	// modes (ESC @ resets them)
	chinese                    bool
	align                      Align
	bold                       bool
	w, h                       int  // GS ! multipliers
	hanziW, hanziH             bool // FS ! / FS W doubling for two-byte characters
	qrModel, qrModule, qrLevel byte
	qrData                     []byte

	// the line buffer: printed by LF, a feed, a cut or when full
	lineRuns  []Run
	lineAlign Align // justification taken when the line started
	lineCols  int

	// the parser
	gb            *encoding.Decoder
	cmd           []byte // command being collected
	skip          int64  // bytes of ignored data still to come
	rtState, rtFn byte   // real-time command scanner

	// the ticket being printed
	cur        []Line
	curQR      []string
	curDropped int
	curContent bool // something other than blank feeds was printed
	curBad     bool // lines were lost
}

func (d *device) reset() {
	d.chinese = true // Chinese printers power up in Chinese mode
	d.align, d.bold = Left, false
	d.w, d.h = 1, 1
	d.hanziW, d.hanziH = false, false
	d.qrModel, d.qrModule, d.qrLevel, d.qrData = 0x32, 3, 0x30, nil
	d.lineRuns, d.lineCols = nil, 0
	if d.gb == nil {
		d.gb = simplifiedchinese.GB18030.NewDecoder()
	}
}

// unplugged forgets a command cut in half by the cable.
func (d *device) unplugged() {
	d.cmd, d.skip, d.rtState = d.cmd[:0], 0, 0
}

func (d *device) canPrint() bool {
	return d.paper != PaperEnd && !d.cover && !d.offline && !d.cutter
}

// rtStatus is the reply to DLE EOT n (protocol notes §2.5).
func (d *device) rtStatus(n byte) byte {
	b := byte(0x12)
	switch n {
	case 1:
		if !d.canPrint() {
			b |= 0x08
		}
	case 2:
		if d.cover {
			b |= 0x04
		}
		if d.paper == PaperEnd {
			b |= 0x20
		}
		if d.cutter {
			b |= 0x40
		}
	case 3:
		if d.cutter {
			b |= 0x08
		}
	case 4:
		switch d.paper {
		case PaperNearEnd:
			b |= 0x0C
		case PaperEnd:
			b |= 0x60
		}
	}
	return b
}

// paperSensor is the roll-paper byte of GS r 1 and of ASB byte 3.
func (d *device) paperSensor() byte {
	switch d.paper {
	case PaperNearEnd:
		return 0x03
	case PaperEnd:
		return 0x0C
	}
	return 0
}

// asbBlock is the 4-byte Automatic Status Back block (§2.6).
func (d *device) asbBlock() [4]byte {
	b := [4]byte{0x10, 0, d.paperSensor(), 0}
	if !d.canPrint() {
		b[0] |= 0x08
	}
	if d.cover {
		b[0] |= 0x20
	}
	if d.cutter {
		b[1] |= 0x08
	}
	return b
}

// asbIfChanged appends a block to out when a status in an enabled group
// differs from before.
func (p *Printer) asbIfChanged(out []byte, before [4]byte) []byte {
	g := p.dev.asb
	if g == 0 {
		return out
	}
	after := p.dev.asbBlock()
	diff := (g&0x01 != 0 && (before[0]^after[0])&0x04 != 0) ||
		(g&0x02 != 0 && (before[0]^after[0])&0x68 != 0) ||
		(g&0x04 != 0 && before[1] != after[1]) ||
		(g&0x08 != 0 && before[2] != after[2])
	if !diff {
		return out
	}
	p.c.ASBBlocks++
	return append(out, after[:]...)
}

// feed executes received bytes and returns what the printer sends back.
// p.mu is held.
func (p *Printer) feed(data []byte) []byte {
	before := p.dev.asbBlock()
	var out []byte
	for _, c := range data {
		p.c.BytesIn++
		out = p.realtime(c, out)
		out = p.push(c, out)
	}
	return p.asbIfChanged(out, before)
}

// realtime answers DLE EOT n and DLE ENQ n the moment they arrive, whatever
// the parser is in the middle of, as printers do ("executed on arrival
// under any situation").
func (p *Printer) realtime(c byte, out []byte) []byte {
	d := &p.dev
	switch d.rtState {
	case 0:
		if c == dle {
			d.rtState = 1
		}
		return out
	case 1:
		switch c {
		case 0x04, 0x05:
			d.rtState, d.rtFn = 2, c
		case dle:
		default:
			d.rtState = 0
		}
		return out
	}
	d.rtState = 0
	if d.rtFn == 0x05 { // DLE ENQ n: recover from a recoverable error
		if c == 1 || c == 2 {
			d.cutter = false
			if c == 2 {
				d.lineRuns, d.lineCols = nil, 0
			}
		}
		return out
	}
	if c < 1 || c > 4 || d.silent {
		return out
	}
	r := d.rtStatus(c)
	if d.garble > 0 {
		d.garble--
		r = 0xFF
	}
	p.c.StatusReplies++
	return append(out, r)
}

// push runs one byte through the command parser.
func (p *Printer) push(c byte, out []byte) []byte {
	d := &p.dev
	if d.skip > 0 {
		d.skip--
		return out
	}
	d.cmd = append(d.cmd, c)
	for len(d.cmd) > 0 {
		n, o, more := p.parseOne(d.cmd, out)
		out = o
		if more {
			break
		}
		d.cmd = append(d.cmd[:0], d.cmd[n:]...)
	}
	return out
}

// parseOne executes the command or character at the start of cmd and
// returns how many bytes it used, or more = true when cmd is not complete.
func (p *Printer) parseOne(cmd []byte, out []byte) (n int, o []byte, more bool) {
	d := &p.dev
	c0 := cmd[0]
	if c0 >= 0x20 && c0 != 0x7F {
		return p.text(cmd), out, len(cmd) == 1 && d.chinese && isLead(c0)
	}
	f := frameOf(cmd)
	switch {
	case f.total == 0:
		return 0, out, true
	case f.total > int64(len(cmd)):
		if !f.keep && f.total > 64 {
			p.c.Commands++
			d.skip = f.total - int64(len(cmd))
			return len(cmd), out, false
		}
		return 0, out, true
	}
	n = int(f.total)
	if f.unknown || f.bad {
		p.unknown(cmd[:n], f.bad)
		return n, out, false
	}
	p.c.Commands++
	return n, p.exec(cmd[:n], out), false
}

func isLead(c byte) bool  { return c >= 0x81 && c <= 0xFE }
func isTrail(c byte) bool { return (c >= 0x40 && c <= 0x7E) || (c >= 0x80 && c <= 0xFE) }

// text prints the character at the start of cmd and returns its length;
// it returns 0 when a lead byte waits for its trail byte.
func (p *Printer) text(cmd []byte) int {
	d := &p.dev
	c0 := cmd[0]
	switch {
	case c0 < 0x80:
		p.addChar(rune(c0), false)
		return 1
	case !d.chinese:
		p.addChar(charmap.CodePage437.DecodeByte(c0), false)
		return 1
	case !isLead(c0):
		p.c.Garbled++
		p.addChar('?', false)
		return 1
	case len(cmd) < 2:
		return 0
	case !isTrail(cmd[1]):
		// A lead byte without its trail: print it as garbage and parse the
		// next byte afresh (it may be a command).
		p.c.Garbled++
		p.addChar('?', false)
		return 1
	}
	var dst [8]byte
	d.gb.Reset()
	nDst, _, err := d.gb.Transform(dst[:], cmd[:2], true)
	r, _ := utf8.DecodeRune(dst[:nDst])
	if err != nil || r == utf8.RuneError {
		p.c.Garbled++
		r = '?'
	}
	p.addChar(r, true)
	return 2
}

// addChar puts a character in the line buffer, printing the line first
// when the character would not fit (the printer's own line wrap).
func (p *Printer) addChar(r rune, wide bool) {
	d := &p.dev
	w, h := d.w, d.h
	if wide {
		if d.hanziW {
			w = max(w, 2)
		}
		if d.hanziH {
			h = max(h, 2)
		}
	}
	cols := w
	if wide {
		cols *= 2
	}
	if d.lineCols > 0 && d.lineCols+cols > p.cols {
		p.lineFeed()
	}
	if len(d.lineRuns) == 0 {
		d.lineAlign = d.align
	}
	d.lineCols += cols
	if k := len(d.lineRuns) - 1; k >= 0 {
		last := &d.lineRuns[k]
		if last.Width == w && last.Height == h && last.Bold == d.bold && last.Wide == wide {
			last.Text += string(r)
			return
		}
	}
	d.lineRuns = append(d.lineRuns, Run{Text: string(r), Width: w, Height: h, Bold: d.bold, Wide: wide})
}

// lineFeed prints the line buffer (a blank line when it is empty).
func (p *Printer) lineFeed() {
	d := &p.dev
	l := Line{Align: d.lineAlign, Runs: d.lineRuns}
	if len(d.lineRuns) == 0 {
		l.Align = d.align
	}
	d.lineRuns, d.lineCols = nil, 0
	p.emit(l)
}

// flush prints the line buffer if it holds anything.
func (p *Printer) flush() {
	if len(p.dev.lineRuns) > 0 {
		p.lineFeed()
	}
}

// emit puts a line on paper, or loses it when the printer cannot print.
func (p *Printer) emit(l Line) {
	d := &p.dev
	if !d.canPrint() {
		p.c.Dropped++
		d.curDropped++
		d.curBad = true
		return
	}
	if l.QR != "" {
		d.curQR = append(d.curQR, l.QR)
	}
	if len(l.Runs) > 0 || l.QR != "" || l.Barcode != "" {
		d.curContent = true
	}
	if len(d.cur) < maxTicketLines {
		d.cur = append(d.cur, l)
	}
	if d.runOut > 0 {
		if d.runOut--; d.runOut == 0 {
			d.paper = PaperEnd
		}
	}
}

// cut ends the ticket being printed.
func (p *Printer) cut(kind Cut) {
	d := &p.dev
	p.flush()
	ok := d.canPrint()
	if ok {
		p.c.Cuts++
	}
	if d.curContent || d.curDropped > 0 {
		p.seq++
		t := RenderedTicket{
			Seq:      p.seq,
			Columns:  p.cols,
			Lines:    d.cur,
			QR:       d.curQR,
			Cut:      kind,
			Complete: ok && !d.curBad,
			Dropped:  d.curDropped,
		}
		p.tickets = append(p.tickets, t)
		if len(p.tickets) > p.opts.Keep {
			p.tickets = append([]RenderedTicket(nil), p.tickets[len(p.tickets)-p.opts.Keep:]...)
		}
		p.fresh = append(p.fresh, t)
		p.signal()
	}
	d.cur, d.curQR, d.curDropped, d.curContent, d.curBad = nil, nil, 0, false, false
}

func (p *Printer) unknown(cmd []byte, malformed bool) {
	p.c.Unknown++
	if p.log != nil {
		what := "unknown command"
		if malformed {
			what = "malformed command"
		}
		p.log.Warn("escpossim: "+what+" skipped", "bytes", fmt.Sprintf("% X", cmd))
	}
}

// exec carries out one complete command (not text).
func (p *Printer) exec(cmd []byte, out []byte) []byte {
	d := &p.dev
	switch cmd[0] {
	case lf, ff:
		p.lineFeed()
	case ht:
		p.addChar(' ', false)
	case nul, cr, can, dle: // DLE EOT/ENQ were answered on arrival
	case esc:
		p.execESC(cmd)
	case fs:
		switch cmd[1] {
		case '&':
			d.chinese = true
		case '.':
			d.chinese = false
		case '!':
			d.hanziW, d.hanziH = cmd[2]&0x04 != 0, cmd[2]&0x08 != 0
		case 'W':
			d.hanziW, d.hanziH = cmd[2]&1 != 0, cmd[2]&1 != 0
		}
	case gs:
		return p.execGS(cmd, out)
	}
	return out
}

func (p *Printer) execESC(cmd []byte) {
	d := &p.dev
	switch cmd[1] {
	case '@':
		asb := d.asb
		d.reset()
		d.asb = asb
	case 'a':
		switch cmd[2] {
		case 0, '0':
			d.align = Left
		case 1, '1':
			d.align = Center
		case 2, '2':
			d.align = Right
		}
	case 'E', 'G':
		d.bold = cmd[2]&1 != 0
	case '!':
		d.bold = cmd[2]&0x08 != 0
		d.h = 1 + int(cmd[2]>>4&1)
		d.w = 1 + int(cmd[2]>>5&1)
	case 'd':
		n := int(cmd[2])
		if len(d.lineRuns) > 0 {
			p.lineFeed()
			n--
		}
		for range n {
			p.emit(Line{Align: d.align})
		}
	case 'J':
		p.flush()
	case 'i', 'm':
		p.cut(PartialCut)
	}
}

func (p *Printer) execGS(cmd []byte, out []byte) []byte {
	d := &p.dev
	switch cmd[1] {
	case '!':
		d.w = 1 + int(cmd[2]>>4&7)
		d.h = 1 + int(cmd[2]&7)
	case 'V':
		switch cmd[2] {
		case 0, 48, 65, 97, 103:
			p.cut(FullCut)
		default:
			p.cut(PartialCut)
		}
	case '(':
		if cmd[2] == 'k' {
			p.execQR(cmd)
		}
	case 'k':
		p.barcode(cmd)
	case 'a':
		d.asb = cmd[2] & 0x0F
		if d.asb != 0 {
			b := d.asbBlock()
			p.c.ASBBlocks++
			out = append(out, b[:]...)
		}
	case 'r':
		switch cmd[2] {
		case 1, '1':
			out = append(out, d.paperSensor())
		case 2, '2':
			out = append(out, 0)
		}
	}
	return out
}

// execQR carries out GS ( k pL pH cn fn ... for QR codes (cn 49).
func (p *Printer) execQR(cmd []byte) {
	d := &p.dev
	params := cmd[5:]
	if len(params) < 2 {
		p.unknown(cmd, true)
		return
	}
	if params[0] != 49 {
		return // PDF417, MaxiCode…: accepted, not rendered
	}
	arg := params[2:]
	switch fn := params[1]; fn {
	case 65:
		if len(arg) != 2 || arg[0] < 0x31 || arg[0] > 0x33 {
			p.unknown(cmd, true)
			return
		}
		d.qrModel = arg[0]
	case 67:
		if len(arg) != 1 || arg[0] < 1 || arg[0] > 16 {
			p.unknown(cmd, true)
			return
		}
		d.qrModule = arg[0]
	case 69:
		if len(arg) != 1 || arg[0] < 0x30 || arg[0] > 0x33 {
			p.unknown(cmd, true)
			return
		}
		d.qrLevel = arg[0]
	case 80:
		if len(arg) < 2 || len(arg) > 7092-2 || arg[0] != 0x30 {
			p.unknown(cmd, true)
			return
		}
		d.qrData = append([]byte(nil), arg[1:]...)
	case 81:
		p.flush()
		if d.qrData != nil {
			p.emit(Line{Align: d.align, QR: printable(d.qrData)})
		}
	case 82:
	default:
		p.unknown(cmd, false)
	}
}

var barcodeNames = map[byte]string{
	0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
	65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
	72: "CODE93", 73: "CODE128",
}

// barcode prints GS k m ... as a labelled line.
func (p *Printer) barcode(cmd []byte) {
	m := cmd[2]
	var data []byte
	if m <= 6 {
		data = cmd[3 : len(cmd)-1]
	} else {
		data = cmd[4:]
	}
	if len(data) == 0 {
		p.unknown(cmd, true)
		return
	}
	name, ok := barcodeNames[m]
	if !ok {
		name = fmt.Sprintf("BARCODE(%d)", m)
	}
	if m == 73 && len(data) >= 2 && data[0] == '{' && strings.IndexByte("ABC", data[1]) >= 0 {
		data = data[2:]
	}
	p.flush()
	p.emit(Line{Align: p.dev.align, Barcode: name + ": " + printable(data)})
}

// printable shows data as text, with bytes outside printable ASCII as '?'
// unless the whole is valid UTF-8 (QR codes may carry UTF-8).
func printable(b []byte) string {
	if utf8.Valid(b) {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7F {
				return '?'
			}
			return r
		}, string(b))
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c >= 0x7F {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
