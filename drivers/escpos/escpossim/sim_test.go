package escpossim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// wire collects what the emulator sends.
type wire struct {
	mu  sync.Mutex
	out []byte
}

func (w *wire) Read(p []byte) (int, error) { return 0, errors.New("wire: not readable") }
func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out = append(w.out, p...)
	return len(p), nil
}

// take returns and clears what was sent.
func (w *wire) take() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.out
	w.out = nil
	return out
}

func newTest(o Opts) (*Printer, *wire) {
	w := &wire{}
	return New(w, o), w
}

// in feeds bytes as if they had arrived on the wire.
func (p *Printer) in(parts ...any) {
	p.receive(p.link, cat(parts...))
}

func cat(parts ...any) []byte {
	var out []byte
	for _, x := range parts {
		switch v := x.(type) {
		case string:
			out = append(out, v...)
		case []byte:
			out = append(out, v...)
		case byte:
			out = append(out, v)
		case int:
			out = append(out, byte(v))
		default:
			panic(fmt.Sprintf("cat: %T", x))
		}
	}
	return out
}

// ticketVector is protocol notes §2.7 (92 bytes).
var ticketVector = cat(
	"\x1b@", "\x1c&", "\x1ba\x01", "\x1d!\x11", "\x1bE\x01", "A012\n", "\x1bE\x00", "\x1d!\x00",
	[]byte{0xC7, 0xEB, 0xB5, 0xBD, 0x33, 0xBA, 0xC5, 0xB4, 0xB0, 0xBF, 0xDA, 0xB0, 0xEC, 0xC0, 0xED, 0x0A},
	"\x1d(k\x04\x001A2\x00", "\x1d(k\x03\x001C\x06", "\x1d(k\x03\x001E1", "\x1d(k\x07\x001P0A012", "\x1d(k\x03\x001Q0",
	"\x1bd\x03", "\x1dVB\x00",
)

func TestTicketVector(t *testing.T) {
	if len(ticketVector) != 92 {
		t.Fatalf("vector is %d bytes, want 92", len(ticketVector))
	}
	p, _ := newTest(Opts{})
	p.in(ticketVector)
	ts := p.Tickets()
	if len(ts) != 1 {
		t.Fatalf("Tickets() = %d tickets, want 1", len(ts))
	}
	tk := ts[0]
	want := strings.Join([]string{
		"                    A 0 1 2",
		"                请到3号窗口办理",
		"                   [QR: A012]",
		"", "", "", "",
	}, "\n")
	if got := tk.Text(); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}
	wantLines := []Line{
		{Align: Center, Runs: []Run{{Text: "A012", Width: 2, Height: 2, Bold: true}}},
		{Align: Center, Runs: []Run{{Text: "请到", Width: 1, Height: 1, Wide: true}, {Text: "3", Width: 1, Height: 1},
			{Text: "号窗口办理", Width: 1, Height: 1, Wide: true}}},
		{Align: Center, QR: "A012"},
		{Align: Center}, {Align: Center}, {Align: Center},
	}
	if !reflect.DeepEqual(tk.Lines, wantLines) {
		t.Errorf("Lines =\n%+v\nwant\n%+v", tk.Lines, wantLines)
	}
	if tk.Cut != PartialCut || !tk.Complete || tk.Seq != 1 || !reflect.DeepEqual(tk.QR, []string{"A012"}) {
		t.Errorf("ticket = cut %v complete %v seq %d QR %q; want partial, complete, 1, [A012]", tk.Cut, tk.Complete, tk.Seq, tk.QR)
	}
	if c := p.Counters(); c.BytesIn != 92 || c.Unknown != 0 || c.Garbled != 0 || c.Cuts != 1 {
		t.Errorf("Counters() = %+v, want 92 bytes in, nothing unknown or garbled, 1 cut", c)
	}
}

func TestStatusReplies(t *testing.T) {
	query := "\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
	tests := []struct {
		name  string
		setup func(p *Printer)
		want  []byte
	}{
		{"ready", func(p *Printer) {}, []byte{0x12, 0x12, 0x12, 0x12}},
		{"near end", func(p *Printer) { p.SetPaper(PaperNearEnd) }, []byte{0x12, 0x12, 0x12, 0x1E}},
		{"paper end", func(p *Printer) { p.SetPaper(PaperEnd) }, []byte{0x1A, 0x32, 0x12, 0x72}},
		{"cover open", func(p *Printer) { p.SetCoverOpen(true) }, []byte{0x1A, 0x16, 0x12, 0x12}},
		{"cover closed again", func(p *Printer) { p.SetCoverOpen(true); p.SetCoverOpen(false) }, []byte{0x12, 0x12, 0x12, 0x12}},
		{"offline", func(p *Printer) { p.SetOffline(true) }, []byte{0x1A, 0x12, 0x12, 0x12}},
		{"cutter", func(p *Printer) { p.SetCutterError(true) }, []byte{0x1A, 0x52, 0x1A, 0x12}},
		{"garbled once", func(p *Printer) { p.Garble(1) }, []byte{0xFF, 0x12, 0x12, 0x12}},
		{"silent", func(p *Printer) { p.SetSilent(true) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, w := newTest(Opts{})
			tt.setup(p)
			w.take()
			p.in(query)
			if got := w.take(); !bytes.Equal(got, tt.want) {
				t.Errorf("replies to DLE EOT 1–4 = % X, want % X", got, tt.want)
			}
		})
	}
}

func TestRealtimeAnywhere(t *testing.T) {
	tests := []struct {
		name   string
		chunks [][]byte
		reply  []byte
		line   string
		qr     string
	}{
		{"mid text", [][]byte{cat("AB\x10\x04\x01CD\n")}, []byte{0x12}, "ABCD", ""},
		{"split over reads", [][]byte{{0x10}, {0x04}, {0x04}, cat("X\n")}, []byte{0x12}, "X", ""},
		{"inside QR data", [][]byte{cat("\x1d(k\x07\x001P0\x10\x04\x04A", "\x1d(k\x03\x001Q0")}, []byte{0x12}, "", "??\x04A"},
		{"inside a raster image", [][]byte{cat("\x1dv0\x00\x03\x00\x01\x00\x10\x04\x02", "Z\n")}, []byte{0x12}, "Z", ""},
		{"DLE DLE EOT", [][]byte{cat("\x10\x10\x04\x03")}, []byte{0x12}, "", ""},
		{"n out of range", [][]byte{cat("\x10\x04\x05")}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, w := newTest(Opts{})
			for _, c := range tt.chunks {
				p.in(c)
			}
			if got := w.take(); !bytes.Equal(got, tt.reply) {
				t.Errorf("replies = % X, want % X", got, tt.reply)
			}
			p.in("\x1dV\x00")
			var line, qr string
			if ts := p.Tickets(); len(ts) == 1 {
				for _, l := range ts[0].Lines {
					line += l.Text()
					qr += l.QR
				}
			}
			if line != tt.line || qr != strings.ReplaceAll(tt.qr, "\x04", "?") {
				t.Errorf("printed %q, QR %q; want %q, %q", line, qr, tt.line, tt.qr)
			}
		})
	}
}

func TestASB(t *testing.T) {
	p, w := newTest(Opts{})
	p.in("\x1da\x0f")
	if got, want := w.take(), []byte{0x10, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("GS a 15 sent % X, want first block % X", got, want)
	}
	steps := []struct {
		name string
		do   func()
		want []byte
	}{
		{"paper near end", func() { p.SetPaper(PaperNearEnd) }, []byte{0x10, 0, 0x03, 0}},
		{"same again", func() { p.SetPaper(PaperNearEnd) }, nil},
		{"paper end", func() { p.SetPaper(PaperEnd) }, []byte{0x18, 0, 0x0C, 0}},
		{"paper ok", func() { p.SetPaper(PaperOK) }, []byte{0x10, 0, 0, 0}},
		{"cover open", func() { p.SetCoverOpen(true) }, []byte{0x38, 0, 0, 0}},
		{"cutter", func() { p.SetCutterError(true) }, []byte{0x38, 0x08, 0, 0}},
		{"DLE ENQ 1 clears the cutter", func() { p.in("\x10\x05\x01") }, []byte{0x38, 0, 0, 0}},
		{"paper only", func() { p.in("\x1da\x08"); w.take(); p.SetCoverOpen(false) }, nil},
		{"paper group still on", func() { p.SetPaper(PaperEnd) }, []byte{0x18, 0, 0x0C, 0}},
		{"ESC @ keeps ASB", func() { p.in("\x1b@"); p.SetPaper(PaperOK) }, []byte{0x10, 0, 0, 0}},
		{"off", func() { p.in("\x1da\x00"); p.SetPaper(PaperEnd) }, nil},
		{"paper runs out while printing", func() {
			p.SetPaper(PaperOK)
			p.in("\x1da\x08")
			w.take()
			p.RunOutAfter(1)
			p.in("A\nB\n")
		}, []byte{0x18, 0, 0x0C, 0}},
	}
	for _, s := range steps {
		s.do()
		if got := w.take(); !bytes.Equal(got, s.want) {
			t.Errorf("%s: sent % X, want % X", s.name, got, s.want)
		}
	}
}

func TestPaperSensorGSr(t *testing.T) {
	tests := []struct {
		paper Paper
		want  byte
	}{{PaperOK, 0x00}, {PaperNearEnd, 0x03}, {PaperEnd, 0x0C}}
	for _, tt := range tests {
		t.Run(tt.paper.String(), func(t *testing.T) {
			p, w := newTest(Opts{Paper: tt.paper})
			p.in("\x1dr\x01")
			if got := w.take(); !bytes.Equal(got, []byte{tt.want}) {
				t.Errorf("GS r 1 = % X, want %02X", got, tt.want)
			}
		})
	}
}

func TestParsing(t *testing.T) {
	big := cat("\x1dv0\x00", 100, 0, 2, 0, bytes.Repeat([]byte{'\n'}, 200))
	tests := []struct {
		name    string
		in      []byte
		lines   []string
		unknown uint64
		garbled uint64
	}{
		{"unknown ESC", cat("\x1bxAB\n"), []string{"AB"}, 1, 0},
		{"unknown GS", cat("\x1d\x01AB\n"), []string{"AB"}, 1, 0},
		{"stray BEL", cat("A\x07B\n"), []string{"AB"}, 1, 0},
		{"small raster skipped", cat("\x1dv0\x00\x02\x00\x03\x00\n\n\n\n\n\n", "OK\n"), []string{"OK"}, 0, 0},
		{"large raster skipped", cat(big, "OK\n"), []string{"OK"}, 0, 0},
		{"ESC * bit image", cat("\x1b*\x21\x03\x00", bytes.Repeat([]byte{'\n'}, 9), "OK\n"), []string{"OK"}, 0, 0},
		{"GS ( L graphics", cat("\x1d(L\x04\x000E  ", "OK\n"), []string{"OK"}, 0, 0},
		{"GS 8 L graphics", cat("\x1d8L\x02\x00\x00\x00\n\n", "OK\n"), []string{"OK"}, 0, 0},
		{"ESC D tab stops", cat("\x1bD\x08\x10\x00", "OK\n"), []string{"OK"}, 0, 0},
		{"ESC p drawer pulse", cat("\x1bp\x00\x19\xfa", "OK\n"), []string{"OK"}, 0, 0},
		{"CODE39 function A", cat("\x1dk\x04A012\x00"), []string{"[CODE39: A012]"}, 0, 0},
		{"CODE128 function B", cat("\x1dkI\x06{BA012"), []string{"[CODE128: A012]"}, 0, 0},
		{"barcode without NUL", cat("\x1dk\x04", bytes.Repeat([]byte{'A'}, 260), "\n"),
			[]string{strings.Repeat("A", 48), strings.Repeat("A", 48), strings.Repeat("A", 48), strings.Repeat("A", 48),
				strings.Repeat("A", 48), strings.Repeat("A", 20)}, 1, 0},
		{"GS V bad mode", cat("\x1dV\x07OK\n"), []string{"OK"}, 1, 0},
		{"QR store too short", cat("\x1d(k\x03\x001P0", "OK\n"), []string{"OK"}, 1, 0},
		{"QR print with nothing stored", cat("\x1d(k\x03\x001Q0", "OK\n"), []string{"OK"}, 0, 0},
		{"QR model bad", cat("\x1d(k\x04\x001A9\x00", "OK\n"), []string{"OK"}, 1, 0},
		{"PDF417 accepted", cat("\x1d(k\x03\x000A\x00", "OK\n"), []string{"OK"}, 0, 0},
		{"lead byte before LF", cat("\xb0\nOK\n"), []string{"?", "OK"}, 0, 1},
		{"lead byte before ESC", cat("\xb0\x1bE\x01OK\n"), []string{"?OK"}, 0, 1},
		{"four-byte GB18030 prints garbage", cat("\x81\x30\x81\x30\n"), []string{"?0?0"}, 0, 2},
		{"0x80 in Chinese mode", cat("\x80\n"), []string{"?"}, 0, 1},
		{"FS . code page", cat("\x1c.\xb0\xdb\n"), []string{"░█"}, 0, 0},
		{"FS & back", cat("\x1c.\x1c&\xc4\xfa\n"), []string{"您"}, 0, 0},
		{"tab is a space", cat("A\tB\n"), []string{"A B"}, 0, 0},
		{"CR ignored", cat("A\r\nB\n"), []string{"A", "B"}, 0, 0},
		{"auto wrap", cat(strings.Repeat("x", 50), "\n"), []string{strings.Repeat("x", 48), "xx"}, 0, 0},
		{"hanzi never split by wrap", cat("x", bytes.Repeat([]byte{0xC4, 0xFA}, 24), "\n"),
			[]string{"x" + strings.Repeat("您", 23), "您"}, 0, 0},
		{"ESC d prints then feeds", cat("A\x1bd\x02"), []string{"A", ""}, 0, 0},
		{"ESC J prints", cat("A\x1bJ\x20B\n"), []string{"A", "B"}, 0, 0},
		{"ESC @ drops the unprinted line", cat("lost\x1b@kept\n"), []string{"kept"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Opts{})
			p.in(tt.in, "\x1dV\x00")
			var got []string
			if ts := p.Tickets(); len(ts) == 1 {
				for _, l := range ts[0].Lines {
					switch {
					case l.QR != "":
						got = append(got, "[QR: "+l.QR+"]")
					case l.Barcode != "":
						got = append(got, "["+l.Barcode+"]")
					default:
						got = append(got, l.Text())
					}
				}
			}
			c := p.Counters()
			if !reflect.DeepEqual(got, tt.lines) || c.Unknown != tt.unknown || c.Garbled != tt.garbled {
				t.Errorf("printed %q (unknown %d, garbled %d), want %q (%d, %d)", got, c.Unknown, c.Garbled, tt.lines, tt.unknown, tt.garbled)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Run
	}{
		{"GS ! 0x22", cat("\x1d!\x22A\n"), Run{Text: "A", Width: 3, Height: 3}},
		{"GS ! 0x70", cat("\x1d!\x70A\n"), Run{Text: "A", Width: 8, Height: 1}},
		{"ESC ! 0x38", cat("\x1b!\x38A\n"), Run{Text: "A", Width: 2, Height: 2, Bold: true}},
		{"ESC E", cat("\x1bE\x01A\n"), Run{Text: "A", Width: 1, Height: 1, Bold: true}},
		{"ESC E only low bit", cat("\x1bE\xfeA\n"), Run{Text: "A", Width: 1, Height: 1}},
		{"FS ! doubles hanzi", cat("\x1c!\x0c\xc4\xfa\n"), Run{Text: "您", Width: 2, Height: 2, Wide: true}},
		{"FS ! leaves ASCII", cat("\x1c!\x0cA\n"), Run{Text: "A", Width: 1, Height: 1}},
		{"FS W quadruple", cat("\x1cW\x01\xc4\xfa\n"), Run{Text: "您", Width: 2, Height: 2, Wide: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Opts{})
			p.in(tt.in, "\x1dV\x01")
			ts := p.Tickets()
			if len(ts) != 1 || len(ts[0].Lines) != 1 || len(ts[0].Lines[0].Runs) != 1 {
				t.Fatalf("Tickets() = %+v, want one line of one run", ts)
			}
			if got := ts[0].Lines[0].Runs[0]; got != tt.want {
				t.Errorf("run = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAlignTakesEffectAtLineStart(t *testing.T) {
	p, _ := newTest(Opts{Width: 58})
	p.in("L\x1ba\x02still left\n", "R\n", "\x1ba1C\n", "\x1dV\x00")
	ts := p.Tickets()
	want := "Lstill left\n" + strings.Repeat(" ", 31) + "R\n" + strings.Repeat(" ", 15) + "C\n"
	if len(ts) != 1 || ts[0].Text() != want {
		t.Errorf("Text() = %q, want %q", ts[0].Text(), want)
	}
}

func TestTickets(t *testing.T) {
	p, _ := newTest(Opts{Keep: 2})
	p.in("\x1dV\x00")             // nothing printed: no ticket
	p.in("\x1bd\x05\x1dV\x00")    // only feeds: no ticket
	p.in("one\n\x1dV\x00")        // full cut
	p.in("two\n\x1bi")            // ESC i partial
	p.in("three\n\x1dVA\x10")     // feed and full cut
	p.in("four\n\x1dV1pending\n") // partial; "pending" is never cut
	ts := p.Tickets()
	var got []string
	for _, tk := range ts {
		got = append(got, fmt.Sprintf("%d:%s:%d", tk.Seq, tk.Lines[0].Text(), tk.Cut))
	}
	if want := []string{"3:three:1", "4:four:2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tickets() = %q, want %q (only the last Keep)", got, want)
	}
	if c := p.Counters(); c.Cuts != 6 {
		t.Errorf("Counters().Cuts = %d, want 6", c.Cuts)
	}
}

func TestCannotPrint(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(p *Printer)
		lines   []string
		dropped int
		ticket  bool
	}{
		{"paper runs out after 2 lines", func(p *Printer) { p.RunOutAfter(2) }, []string{"1", "2"}, 2, true},
		{"paper end from the start", func(p *Printer) { p.SetPaper(PaperEnd) }, nil, 4, true},
		{"cover open", func(p *Printer) { p.SetCoverOpen(true) }, nil, 4, true},
		{"offline", func(p *Printer) { p.SetOffline(true) }, nil, 4, true},
		{"near end prints", func(p *Printer) { p.SetPaper(PaperNearEnd) }, []string{"1", "2", "3", "4"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Opts{})
			tt.setup(p)
			p.in("1\n2\n3\n4\n\x1dV\x00")
			ts := p.Tickets()
			if len(ts) != 1 {
				t.Fatalf("Tickets() = %d, want 1", len(ts))
			}
			var got []string
			for _, l := range ts[0].Lines {
				got = append(got, l.Text())
			}
			complete := tt.dropped == 0
			if !reflect.DeepEqual(got, tt.lines) || ts[0].Dropped != tt.dropped || ts[0].Complete != complete {
				t.Errorf("ticket lines %q, dropped %d, complete %v; want %q, %d, %v", got, ts[0].Dropped, ts[0].Complete, tt.lines, tt.dropped, complete)
			}
			if !complete && !strings.HasSuffix(ts[0].Text(), "[incomplete: printing stopped]\n") {
				t.Errorf("Text() of an incomplete ticket = %q, want the incomplete marker", ts[0].Text())
			}
		})
	}
}

func TestParsePaper(t *testing.T) {
	tests := []struct {
		in   string
		want Paper
		err  bool
	}{{"ok", PaperOK, false}, {"near", PaperNearEnd, false}, {"end", PaperEnd, false}, {"out", 0, true}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePaper(tt.in)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("ParsePaper(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestChunking checks that how the stream is split into reads changes
// nothing.
func TestChunking(t *testing.T) {
	stream := cat("\x1da\x0f", ticketVector, "\x10\x04\x04", "\x1b\x7f", ticketVector)
	whole, w1 := newTest(Opts{})
	whole.in(stream)
	bytewise, w2 := newTest(Opts{})
	for _, c := range stream {
		bytewise.in([]byte{c})
	}
	if !reflect.DeepEqual(whole.Tickets(), bytewise.Tickets()) || whole.Counters() != bytewise.Counters() {
		t.Errorf("byte-by-byte feeding differs:\n%+v\n%+v", whole.Counters(), bytewise.Counters())
	}
	if a, b := w1.take(), w2.take(); !bytes.Equal(a, b) {
		t.Errorf("replies differ: % X vs % X", a, b)
	}
}

func TestRender(t *testing.T) {
	ts, c := Render(cat(ticketVector, ticketVector[:40]), 58)
	if len(ts) != 1 || ts[0].Columns != 32 || c.BytesIn != 132 {
		t.Errorf("Render = %d tickets of %d columns, %d bytes in; want 1, 32, 132", len(ts), ts[0].Columns, c.BytesIn)
	}
}

func TestPTY(t *testing.T) {
	p, err := NewPTY(Opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	path := p.Path()
	if !strings.HasPrefix(path, "/dev/pts/") || !strings.Contains(p.String(), path) {
		t.Fatalf("Path() = %q, String() = %q", path, p.String())
	}
	drv := openRaw(t, path)
	if _, err := drv.Write(cat(ticketVector, "\x10\x04\x01")); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 1)
	if _, err := drv.Read(reply); err != nil || reply[0] != 0x12 {
		t.Fatalf("status reply = % X, %v; want 12", reply, err)
	}
	if ts, err := p.WaitTickets(ctx, 1); err != nil || ts[0].QR[0] != "A012" {
		t.Fatalf("WaitTickets = %v, %v", ts, err)
	}

	if err := p.Unplug(); err != nil {
		t.Fatalf("Unplug() = %v", err)
	}
	if p.Path() != "" {
		t.Errorf("Path() after Unplug = %q, want empty", p.Path())
	}
	if _, err := drv.Write([]byte("x")); err == nil {
		t.Errorf("write to an unplugged printer succeeded")
	}
	drv.Close()

	path2, err := p.Replug()
	if err != nil {
		t.Fatalf("Replug() = %v", err)
	}
	if _, err := p.Replug(); err == nil {
		t.Errorf("second Replug() succeeded")
	}
	drv2 := openRaw(t, path2)
	defer drv2.Close()
	drv2.Write(cat(ticketVector, "\x10\x04\x04"))
	if _, err := drv2.Read(reply); err != nil || reply[0] != 0x12 {
		t.Fatalf("status reply after replug = % X, %v; want 12", reply, err)
	}
	if _, err := p.WaitTickets(ctx, 2); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after cancel, want nil", err)
	}
}

func TestRunStopsOnClose(t *testing.T) {
	p, err := NewPTY(Opts{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	p.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v after Close, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run() still running 10 s after Close")
	}
	if _, err := p.Replug(); err == nil {
		t.Errorf("Replug() after Close succeeded")
	}
}

func TestReplugNeedsPTY(t *testing.T) {
	p, _ := newTest(Opts{})
	if _, err := p.Replug(); !errors.Is(err, ErrNotPTY) {
		t.Errorf("Replug() = %v, want ErrNotPTY", err)
	}
}

func TestWaitTicketsTimesOut(t *testing.T) {
	p, _ := newTest(Opts{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.WaitTickets(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitTickets = %v, want context.Canceled", err)
	}
}

func openRaw(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
