package frontdesk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/hall"
)

func TestWindowText(t *testing.T) {
	open := hall.WindowView{ID: "5", Number: 5, Name: "综合受理五", State: hall.Open}
	called := &hall.TicketView{Number: "A012", State: hall.Called}
	serving := &hall.TicketView{Number: "A012", State: hall.Serving}
	info := hall.NoticeView{Level: hall.NoticeInfo, Text: "系统维护"}
	emergency := hall.NoticeView{Level: hall.NoticeEmergency, Text: "请立即疏散"}
	with := func(w hall.WindowView, f func(w *hall.WindowView)) hall.WindowView { f(&w); return w }
	tests := []struct {
		name   string
		w      hall.WindowView
		cur    *hall.TicketView
		notice hall.NoticeView
		want   string
	}{
		{"called", open, called, hall.NoticeView{}, "A012 请到5号窗口"},
		{"serving", open, serving, hall.NoticeView{}, "服务中 A012"},
		{"idle", open, nil, hall.NoticeView{}, "5号窗口 综合受理五"},
		{"idle without a name", with(open, func(w *hall.WindowView) { w.Name = "" }), nil, hall.NoticeView{}, "5号窗口"},
		{"paused for lunch", with(open, func(w *hall.WindowView) { w.State, w.PauseReason = hall.Paused, "午休" }), nil, hall.NoticeView{}, "暂停服务 午休"},
		{"paused without a reason", with(open, func(w *hall.WindowView) { w.State = hall.Paused }), nil, hall.NoticeView{}, "暂停服务"},
		{"closed", with(open, func(w *hall.WindowView) { w.State = hall.Closed }), nil, hall.NoticeView{}, "窗口未开放"},
		{"info notice after the call", open, called, info, "A012 请到5号窗口  系统维护"},
		{"emergency replaces everything", open, called, emergency, "请立即疏散"},
		{"control characters become spaces", with(open, func(w *hall.WindowView) { w.State, w.PauseReason = hall.Paused, "午\n休\x00" }), nil, hall.NoticeView{}, "暂停服务 午 休 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := windowText(tt.w, tt.cur, tt.notice)
			if got != tt.want {
				t.Errorf("windowText() = %q, want %q", got, tt.want)
			}
			if _, err := windowbus.EncodeText(got); err != nil {
				t.Errorf("windowText() = %q, which a bar refuses: %v", got, err)
			}
		})
	}
}

func TestWindowSettings(t *testing.T) {
	tests := []struct {
		state  hall.WindowState
		notice hall.NoticeLevel
		want   windowbus.Settings
	}{
		{hall.Open, hall.NoticeClear, windowbus.Settings{Mode: windowbus.ModeServing, Brightness: 100}},
		{hall.Paused, hall.NoticeInfo, windowbus.Settings{Mode: windowbus.ModePaused, Brightness: 100}},
		{hall.Closed, hall.NoticeClear, windowbus.Settings{Mode: windowbus.ModeClosed, Brightness: 100}},
		{hall.Open, hall.NoticeEmergency, windowbus.Settings{Mode: windowbus.ModeServing, Brightness: 100, Blink: time.Second}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v", tt.state, tt.notice), func(t *testing.T) {
			if got := windowSettings(tt.state, hall.NoticeView{Level: tt.notice}); got != tt.want {
				t.Errorf("windowSettings() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHallText(t *testing.T) {
	calls := []call{{3, "C003", 10}, {2, "A012", 5}, {1, "A011", 3}, {0, "B001", 7}, {0, "B002", 8}}
	long := strings.Repeat("请", 130)
	tests := []struct {
		name     string
		calls    []call
		notice   hall.NoticeView
		lines    int
		capacity int
		want     string
	}{
		{"latest four", calls, hall.NoticeView{}, 0, 240, "C003 请到10号窗口\nA012 请到5号窗口\nA011 请到3号窗口\nB001 请到7号窗口"},
		{"two lines", calls, hall.NoticeView{}, 2, 240, "C003 请到10号窗口\nA012 请到5号窗口"},
		{"what fits in 40 bytes", calls, hall.NoticeView{}, 6, 40, "C003 请到10号窗口\nA012 请到5号窗口"},
		{"no call yet", nil, hall.NoticeView{}, 4, 240, "示范市政务服务中心"},
		{"info notice first", calls[:1], hall.NoticeView{Level: hall.NoticeInfo, Text: "午间暂停"}, 4, 240, "午间暂停\nC003 请到10号窗口"},
		{"emergency only", calls, hall.NoticeView{Level: hall.NoticeEmergency, Text: "请立即疏散"}, 4, 240, "请立即疏散"},
		{"a long notice is cut to the capacity", calls, hall.NoticeView{Level: hall.NoticeEmergency, Text: long}, 4, 240, strings.Repeat("请", 120)},
		{"a long info notice leaves no room for calls", calls, hall.NoticeView{Level: hall.NoticeInfo, Text: long}, 4, 0, strings.Repeat("请", 120)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hallText(tt.calls, tt.notice, "示范市政务服务中心", tt.lines, tt.capacity)
			if got != tt.want {
				t.Errorf("hallText() = %q, want %q", got, tt.want)
			}
			b, err := windowbus.EncodeText(got)
			if err != nil || (tt.capacity > 0 && len(b) > tt.capacity) {
				t.Errorf("hallText() = %d bytes, %v; want at most %d", len(b), err, tt.capacity)
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"A012 请到5号窗口", 16, "A012 请到5号窗口"},
		{"A012 请到5号窗口", 15, "A012 请到5号窗"},
		{"A012 请到5号窗口", 6, "A012 "},
		{"请请", 3, "请"},
		{"𠀀a", 4, "𠀀"}, // a four-byte GB18030 character
		{"𠀀a", 3, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.in, tt.n), func(t *testing.T) {
			if got := fit(tt.in, tt.n); got != tt.want {
				t.Errorf("fit(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestBoardNote(t *testing.T) {
	var b board
	steps := []struct {
		name    string
		c       call
		changed bool
		want    string
	}{
		{"first call", call{10, "A001", 1}, true, "A001@1"},
		{"second call", call{12, "A002", 2}, true, "A002@2 A001@1"},
		{"the same event again (press and feed)", call{12, "A002", 2}, false, "A002@2 A001@1"},
		{"an earlier event seen late goes below", call{11, "C001", 3}, true, "A002@2 C001@3 A001@1"},
		{"a recall moves to the top", call{13, "A001", 1}, true, "A001@1 A002@2 C001@3"},
		{"the first call of a recalled ticket seen late is ignored", call{9, "A001", 1}, false, "A001@1 A002@2 C001@3"},
	}
	for _, s := range steps {
		changed := b.note(s.c)
		var got []string
		for _, c := range b.latest() {
			got = append(got, fmt.Sprintf("%s@%d", c.Number, c.Window))
		}
		if changed != s.changed || strings.Join(got, " ") != s.want {
			t.Errorf("%s: note() = %v, board %q; want %v, %q", s.name, changed, strings.Join(got, " "), s.changed, s.want)
		}
	}
	for i := range 40 {
		b.note(call{uint64(100 + i), fmt.Sprintf("B%03d", i), 1})
	}
	if n := len(b.latest()); n != boardCalls {
		t.Errorf("board holds %d calls, want %d", n, boardCalls)
	}
}
