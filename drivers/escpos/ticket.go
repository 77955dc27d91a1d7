package escpos

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Width is the paper width of a printer.
type Width int

// Paper widths. Font A is 12 dots wide on both, so a line holds 32 (58 mm)
// or 48 (80 mm) ASCII characters, or half as many hanzi.
const (
	Width58 Width = 58
	Width80 Width = 80
)

// Columns returns the number of ASCII characters of a line at normal size,
// or 0 for an unknown width.
func (w Width) Columns() int {
	switch w {
	case Width58:
		return 32
	case Width80:
		return 48
	}
	return 0
}

// String returns the width as "80 mm".
func (w Width) String() string { return fmt.Sprintf("%d mm", int(w)) }

// Ticket is what a queue ticket says. The caller fills it from the hall's
// decisions; the encoder only lays it out.
type Ticket struct {
	HallName    string
	Number      string // "A012"; printed large and bold
	ServiceName string
	Ahead       int // people waiting before this ticket
	// WaitLo and WaitHi bound the estimated wait when WaitKnown is set.
	WaitLo, WaitHi time.Duration
	WaitKnown      bool
	Windows        []string // numbers or names of the windows serving it
	IssuedAt       time.Time
	// Location is the hall's time zone for the printed issue time; nil
	// prints IssuedAt in its own location.
	Location *time.Location
	QRData   string // URL with the ticket id (status page, 好差评); empty: no QR
	// Holder is the holder's already-masked name ("张*"), optional. A name
	// without '*' is masked here as a last guard: first character kept,
	// every other replaced by '*'.
	Holder string
	Notice string   // e.g. "过号请重新取号"
	Lines  []string // extra footer lines
}

// Layout constants of EncodeTicket.
const (
	ticketQRModule58 = 5
	ticketQRModule80 = 6
	ticketTailFeed   = 3 // lines fed before the cut
	maxWait          = 24 * time.Hour
)

// EncodeTicket returns the ESC/POS bytes of t for a printer of width w,
// with text in GB18030: init, Chinese mode, the hall name centred, the
// number large and bold, the service, the people ahead, the estimated wait,
// the windows, the holder, the issue time, the notice, the QR code (model
// 2, error correction M), the footer lines, a feed and a partial cut.
// Long lines are wrapped to the paper width without splitting a character.
func EncodeTicket(t Ticket, w Width) ([]byte, error) {
	return NewBuilder(GB18030).Ticket(t, w).Bytes()
}

// Ticket appends the whole ticket t laid out for width w (see
// EncodeTicket), in the builder's encoding.
func (b *Builder) Ticket(t Ticket, w Width) *Builder {
	cols := w.Columns()
	if cols == 0 {
		return b.fail("paper width %d", int(w))
	}
	if err := t.check(cols, b.te.enc); err != nil {
		return b.fail("%v", err)
	}
	rule := strings.Repeat("-", cols)
	b.Init().ChineseOn().Align(Center)
	if t.HallName != "" {
		b.Bold(true).Size(1, 2).wrapped(t.HallName, cols).Size(1, 1).Bold(false)
	}
	b.Line(rule)
	n := numberSize(w, Columns(t.Number, b.te.enc))
	b.Size(n, n).Bold(true).Text(t.Number).LF().Bold(false).Size(1, 1)
	if t.ServiceName != "" {
		b.Size(1, 2).wrapped(t.ServiceName, cols).Size(1, 1)
	}
	b.Line(rule)
	b.Align(Left)
	b.Line(fmt.Sprintf("您前面还有 %d 人等待", t.Ahead))
	b.Line("预计等待 " + waitText(t))
	if ws := nonEmpty(t.Windows); len(ws) > 0 {
		b.wrapped("办理窗口: "+strings.Join(ws, ", "), cols)
	}
	if t.Holder != "" {
		b.wrapped("取号人: "+MaskName(t.Holder), cols)
	}
	at := t.IssuedAt
	if t.Location != nil {
		at = at.In(t.Location)
	}
	b.Line("取号时间: " + at.Format("2006-01-02 15:04:05"))
	if t.Notice != "" {
		b.wrapped(t.Notice, cols)
	}
	b.Align(Center)
	if t.QRData != "" {
		mod := ticketQRModule80
		if w == Width58 {
			mod = ticketQRModule58
		}
		b.QR(t.QRData, QROpts{Model: QRModel2, ModuleSize: mod, Level: QRLevelM})
	}
	for _, l := range t.Lines {
		b.wrapped(l, cols)
	}
	return b.Feed(ticketTailFeed).FeedCut(true, 0)
}

// wrapped appends s as lines of at most cols columns; '\n' in s starts a
// new line.
func (b *Builder) wrapped(s string, cols int) *Builder {
	for _, para := range strings.Split(s, "\n") {
		if para == "" {
			b.LF()
			continue
		}
		for _, l := range wrap(para, cols, b.te.enc) {
			b.Line(l)
		}
	}
	return b
}

func (t Ticket) check(cols int, e Encoding) error {
	switch {
	case strings.TrimSpace(t.Number) == "":
		return fmt.Errorf("ticket has no number")
	case Columns(t.Number, e) > cols:
		return fmt.Errorf("ticket number %q is wider than the paper", t.Number)
	case t.Ahead < 0:
		return fmt.Errorf("ticket has %d people ahead", t.Ahead)
	case t.IssuedAt.IsZero():
		return fmt.Errorf("ticket has no issue time")
	case len(t.QRData) > MaxQRData:
		return fmt.Errorf("ticket QR data of %d bytes, want at most %d", len(t.QRData), MaxQRData)
	}
	if t.WaitKnown && (t.WaitLo < 0 || t.WaitHi < t.WaitLo || t.WaitHi > maxWait) {
		return fmt.Errorf("ticket wait %v–%v, want 0 ≤ lo ≤ hi ≤ %v", t.WaitLo, t.WaitHi, maxWait)
	}
	return nil
}

// numberSize picks the largest multiplier (3 on 80 mm, 2 on 58 mm, down to
// 1) at which a number of cols columns fits on one line.
func numberSize(w Width, cols int) int {
	n := 3
	if w == Width58 {
		n = 2
	}
	for n > 1 && cols*n > w.Columns() {
		n--
	}
	return n
}

// waitText renders the estimate in whole minutes: the low bound rounded
// down, the high bound rounded up.
func waitText(t Ticket) string {
	if !t.WaitKnown {
		return "暂无法估计"
	}
	lo := int(t.WaitLo / time.Minute)
	hi := int((t.WaitHi + time.Minute - 1) / time.Minute)
	switch {
	case hi <= 1:
		return "约 1 分钟内"
	case lo == hi:
		return fmt.Sprintf("约 %d 分钟", hi)
	default:
		return fmt.Sprintf("约 %d-%d 分钟", lo, hi)
	}
}

// MaskName returns name as it may be printed or shown: unchanged when it is
// already masked (contains '*' or '＊'), else its first character followed
// by one '*' for every other character ("张三丰" → "张**", "李" → "李*").
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, "*＊") {
		return name
	}
	first, size := utf8.DecodeRuneInString(name)
	rest := utf8.RuneCountInString(name[size:])
	if rest == 0 {
		rest = 1
	}
	return string(first) + strings.Repeat("*", rest)
}

func nonEmpty(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SampleTicket returns the ticket that installers print to check a printer
// (hallgw print --sample), issued at the given time.
func SampleTicket(at time.Time) Ticket {
	return Ticket{
		HallName:    "政务服务中心",
		Number:      "A012",
		ServiceName: "社保医保综合窗口",
		Ahead:       3,
		WaitLo:      5 * time.Minute,
		WaitHi:      10 * time.Minute,
		WaitKnown:   true,
		Windows:     []string{"3", "5", "7"},
		IssuedAt:    at,
		QRData:      "https://hall.example/t/A012",
		Notice:      "过号请重新取号",
		Lines:       []string{"打印测试 / print test"},
	}
}
