package hall

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// NoticeLevel is how a notice is shown on the hall's displays.
type NoticeLevel uint8

// Notice levels. The values are stored in the journal (EvNotice's Count).
const (
	NoticeClear     NoticeLevel = iota // no notice
	NoticeInfo                         // a line of information under the calls
	NoticeEmergency                    // the whole screen: evacuation (DB43/T 2422 part 4 §6)
)

var noticeNames = [...]string{"clear", "info", "emergency"}

// String returns "clear", "info" or "emergency".
func (l NoticeLevel) String() string {
	if int(l) < len(noticeNames) {
		return noticeNames[l]
	}
	return "notice(" + strconv.Itoa(int(l)) + ")"
}

// ParseNoticeLevel is the inverse of String.
func ParseNoticeLevel(s string) (NoticeLevel, bool) {
	for i, n := range noticeNames {
		if n == s {
			return NoticeLevel(i), true
		}
	}
	return 0, false
}

// MaxNoticeLen bounds a notice's text, in characters.
const MaxNoticeLen = 200

// NoticeView is the notice every display shows now.
type NoticeView struct {
	Level  NoticeLevel
	Text   string
	Source string
	Since  time.Time
}

type noticeRun struct {
	level  NoticeLevel
	text   string
	source string
	since  time.Time
}

// Notice returns the current notice; Level is NoticeClear when there is
// none. A notice outlives the daily reset: an evacuation does not end at
// 04:00.
func (h *Hall) Notice() NoticeView {
	n := h.notice
	return NoticeView{Level: n.level, Text: n.text, Source: n.source, Since: n.since}
}

func (h *Hall) decideNotice(cmd *Command, now time.Time) ([]Event, error) {
	switch cmd.Notice {
	case NoticeClear:
		if h.notice.level == NoticeClear {
			return nil, errf(ErrBadState, "no notice to clear")
		}
		return []Event{{Type: EvNotice, At: now, Count: int(NoticeClear)}}, nil
	case NoticeInfo, NoticeEmergency:
	default:
		return nil, errf(ErrInvalid, "unknown notice level %d", cmd.Notice)
	}
	if cmd.Reason == "" {
		return nil, errf(ErrInvalid, "a %s notice needs a text", cmd.Notice)
	}
	if !utf8.ValidString(cmd.Reason) || utf8.RuneCountInString(cmd.Reason) > MaxNoticeLen {
		return nil, errf(ErrInvalid, "notice text must be valid text of at most %d characters", MaxNoticeLen)
	}
	return []Event{{Type: EvNotice, At: now, Count: int(cmd.Notice), Reason: cmd.Reason}}, nil
}

func (h *Hall) applyNotice(e *Event) error {
	if e.Count < 0 || e.Count > int(NoticeEmergency) {
		return applyErr(e, "unknown notice level %d", e.Count)
	}
	if NoticeLevel(e.Count) == NoticeClear {
		h.notice = noticeRun{}
		return nil
	}
	h.notice = noticeRun{level: NoticeLevel(e.Count), text: e.Reason, source: e.Source, since: e.At}
	return nil
}

func (n *noticeRun) encode(w *wbuf) {
	w.byte(byte(n.level))
	w.str(n.text)
	w.str(n.source)
	w.time(n.since)
}

func decodeNotice(r *rbuf) noticeRun {
	return noticeRun{level: NoticeLevel(r.byte()), text: r.str(), source: r.str(), since: r.time()}
}
