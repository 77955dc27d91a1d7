package escpossim

import (
	"strings"
	"unicode/utf8"
)

// Align is a line's justification.
type Align byte

// Justifications, as ESC a sets them.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// Run is a stretch of a line printed with the same attributes.
type Run struct {
	Text   string
	Width  int  // width multiplier, 1–8
	Height int  // height multiplier, 1–8
	Bold   bool // emphasised
	// Wide is set for characters printed from two-byte GB codes, which
	// take two columns at normal size.
	Wide bool
}

// Line is one printed line: text runs, or a QR symbol, or a barcode, or
// nothing (a fed blank line).
type Line struct {
	Align   Align
	Runs    []Run
	QR      string // data of a QR symbol printed on this line
	Barcode string // "CODE128: A012" for a barcode
}

// Text returns the line's characters without layout.
func (l Line) Text() string {
	var sb strings.Builder
	for _, r := range l.Runs {
		sb.WriteString(r.Text)
	}
	return sb.String()
}

// Cut is how a ticket was cut off.
type Cut byte

// Cuts.
const (
	FullCut    Cut = 1
	PartialCut Cut = 2
)

// RenderedTicket is what came out between two cuts.
type RenderedTicket struct {
	Seq     int // 1 for the first ticket since the emulator started
	Columns int // ASCII columns of the paper at normal size
	Lines   []Line
	QR      []string // data of every QR symbol, in order
	Cut     Cut
	// Complete is false when lines were lost because the printer could not
	// print (paper end, cover open, offline, cutter error) part-way.
	Complete bool
	Dropped  int // lines lost
}

// Text renders the ticket as plain text a person can read: every line
// justified on the paper's columns (a hanzi takes two), enlarged
// characters spread over the columns they cover, QR symbols as
// "[QR: data]", barcodes as "[CODE128: data]". Lines wider than the paper
// wrap as on the printer (symbol labels do not); trailing spaces are
// trimmed. An incomplete ticket ends with a line saying so.
func (t RenderedTicket) Text() string {
	cols := t.Columns
	if cols <= 0 {
		cols = 48
	}
	var sb strings.Builder
	for _, l := range t.Lines {
		for _, row := range layout(l, cols) {
			sb.WriteString(strings.TrimRight(row, " "))
			sb.WriteByte('\n')
		}
	}
	if !t.Complete {
		sb.WriteString("[incomplete: printing stopped]\n")
	}
	return sb.String()
}

// cell is one character with the columns it covers.
type cell struct {
	s    string // the character followed by the spaces of its enlargement
	cols int
}

func layout(l Line, cols int) []string {
	var cells []cell
	switch {
	case l.QR != "":
		cells = plainCells("[QR: " + l.QR + "]")
	case l.Barcode != "":
		cells = plainCells("[" + l.Barcode + "]")
	default:
		for _, r := range l.Runs {
			w := 1
			if r.Wide {
				w = 2
			}
			mult := max(r.Width, 1)
			for _, ch := range r.Text {
				cells = append(cells, cell{s: string(ch) + strings.Repeat(" ", w*(mult-1)), cols: w * mult})
			}
		}
	}
	if len(cells) == 0 {
		return []string{""}
	}
	symbol := l.QR != "" || l.Barcode != "" // a label stands for one symbol: never wrapped
	var rows []string
	for len(cells) > 0 {
		width, n := 0, 0
		for n < len(cells) && (n == 0 || symbol || width+cells[n].cols <= cols) {
			width += cells[n].cols
			n++
		}
		var sb strings.Builder
		pad := 0
		switch l.Align {
		case Center:
			pad = (cols - width) / 2
		case Right:
			pad = cols - width
		}
		sb.WriteString(strings.Repeat(" ", max(pad, 0)))
		for _, c := range cells[:n] {
			sb.WriteString(c.s)
		}
		rows = append(rows, sb.String())
		cells = cells[n:]
	}
	return rows
}

// plainCells lays out generated text (QR and barcode labels): ASCII takes
// one column, anything else two.
func plainCells(s string) []cell {
	cells := make([]cell, 0, utf8.RuneCountInString(s))
	for _, ch := range s {
		w := 1
		if ch >= 0x80 {
			w = 2
		}
		cells = append(cells, cell{s: string(ch), cols: w})
	}
	return cells
}
