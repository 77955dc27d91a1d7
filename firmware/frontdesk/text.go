package frontdesk

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hallgw/drivers/windowbus"
	"hallgw/hall"
)

// Texts of the LED bars. They are short: a bar holds 32 to 64 bytes of
// GB18030 (16 to 32 hanzi).
const (
	textClosed   = "窗口未开放"
	textPaused   = "暂停服务"
	textServing  = "服务中"
	textThanks   = "感谢您的评价"
	defaultLines = 4
)

// call is one line of a hall display: a ticket called to a window.
type call struct {
	Seq    uint64
	Number string
	Window int
}

// callText is what a bar and the hall display say of a call:
// "A012 请到5号窗口".
func callText(number string, window int) string {
	return clean(number) + " 请到" + strconv.Itoa(window) + "号窗口"
}

// windowText returns the text of a window's LED bar: the ticket called to
// it, the one being served, the pause and its reason, an idle or closed
// window. A notice is added after it; an emergency notice replaces it.
func windowText(w hall.WindowView, cur *hall.TicketView, n hall.NoticeView) string {
	if n.Level == hall.NoticeEmergency {
		return clean(n.Text)
	}
	var s string
	switch {
	case w.State == hall.Closed:
		s = textClosed
	case w.State == hall.Paused && w.PauseReason != "":
		s = textPaused + " " + clean(w.PauseReason)
	case w.State == hall.Paused:
		s = textPaused
	case cur != nil && cur.State == hall.Serving:
		s = textServing + " " + clean(cur.Number)
	case cur != nil:
		s = callText(cur.Number, w.Number)
	case w.Name != "":
		s = strconv.Itoa(w.Number) + "号窗口 " + clean(w.Name)
	default:
		s = strconv.Itoa(w.Number) + "号窗口"
	}
	if n.Level == hall.NoticeInfo && n.Text != "" {
		s += "  " + clean(n.Text)
	}
	return s
}

// windowSettings returns the mode a window's bar shows beside its text;
// an emergency makes every display blink.
func windowSettings(state hall.WindowState, n hall.NoticeView) windowbus.Settings {
	s := windowbus.Settings{Mode: windowbus.ModeServing, Brightness: 100}
	switch state {
	case hall.Paused:
		s.Mode = windowbus.ModePaused
	case hall.Closed:
		s.Mode = windowbus.ModeClosed
	}
	if n.Level == hall.NoticeEmergency {
		s.Blink = time.Second
	}
	return s
}

// hallText returns the text of a hall display: the latest calls, newest
// first, one a line, at most lines of them, within capacity bytes of
// GB18030. A notice goes first, so that it is never the line cut off; an
// emergency notice replaces everything. With no call yet the display shows
// the hall's name.
func hallText(calls []call, n hall.NoticeView, hallName string, lines, capacity int) string {
	if capacity <= 0 || capacity > windowbus.MaxText {
		capacity = windowbus.MaxText
	}
	if lines <= 0 {
		lines = defaultLines
	}
	if n.Level == hall.NoticeEmergency {
		return fit(clean(n.Text), capacity)
	}
	var out []string
	used := 0
	add := func(s string) bool {
		need := gbLen(s)
		if len(out) > 0 {
			need++ // the line feed
		}
		if used+need > capacity {
			return false
		}
		out = append(out, s)
		used += need
		return true
	}
	if n.Level == hall.NoticeInfo && n.Text != "" {
		add(fit(clean(n.Text), capacity))
	}
	for i, c := range calls {
		if i == lines || !add(callText(c.Number, c.Window)) {
			break
		}
	}
	if len(out) == 0 {
		return fit(clean(hallName), capacity)
	}
	return strings.Join(out, "\n")
}

// clean makes s a single line a display accepts: control characters
// (line breaks included) become spaces, invalid UTF-8 is dropped.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) {
			return ' '
		}
		return r
	}, s)
}

// gbLen returns the length of s in GB18030.
func gbLen(s string) int {
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		return len(s) * 4
	}
	return len(b)
}

// fit returns the longest prefix of s that takes at most n bytes in
// GB18030, without cutting a character.
func fit(s string, n int) string {
	if gbLen(s) <= n {
		return s
	}
	used := 0
	for i, r := range s {
		w := gbLen(string(r))
		if used+w > n {
			return s[:i]
		}
		used += w
	}
	return s
}
