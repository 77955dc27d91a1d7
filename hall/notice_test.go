package hall

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNotice(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		cmds    []Command
		want    NoticeView
		wantErr error // of the last command
	}{
		{"info", []Command{{Op: OpNotice, Notice: NoticeInfo, Reason: "系统维护，请耐心等候"}},
			NoticeView{Level: NoticeInfo, Text: "系统维护，请耐心等候", Source: "platform"}, nil},
		{"emergency replaces info", []Command{
			{Op: OpNotice, Notice: NoticeInfo, Reason: "a"},
			{Op: OpNotice, Notice: NoticeEmergency, Reason: "请立即从最近的安全出口撤离"}},
			NoticeView{Level: NoticeEmergency, Text: "请立即从最近的安全出口撤离", Source: "platform"}, nil},
		{"clear", []Command{
			{Op: OpNotice, Notice: NoticeEmergency, Reason: "x"},
			{Op: OpNotice, Notice: NoticeClear}}, NoticeView{}, nil},
		{"clear with nothing shown", []Command{{Op: OpNotice, Notice: NoticeClear}}, NoticeView{}, ErrBadState},
		{"no text", []Command{{Op: OpNotice, Notice: NoticeInfo}}, NoticeView{}, ErrInvalid},
		{"too long", []Command{{Op: OpNotice, Notice: NoticeInfo, Reason: strings.Repeat("撤", MaxNoticeLen+1)}}, NoticeView{}, ErrInvalid},
		{"bad level", []Command{{Op: OpNotice, Notice: 9, Reason: "x"}}, NoticeView{}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(testNoticeConfig())
			if err != nil {
				t.Fatal(err)
			}
			var all []Event
			var last error
			for i, c := range tt.cmds {
				c.Source = "platform"
				before := h.Digest()
				evs, err := h.Do(c, t0.Add(time.Duration(i)*time.Minute))
				last = err
				if err != nil && h.Digest() != before {
					t.Fatalf("refused %v changed the state", c.Op)
				}
				all = append(all, evs...)
			}
			if !errors.Is(last, tt.wantErr) || (tt.wantErr == nil) != (last == nil) {
				t.Fatalf("last command err = %v, want %v", last, tt.wantErr)
			}
			got := h.Notice()
			got.Since = time.Time{}
			if got != tt.want {
				t.Errorf("Notice() = %+v, want %+v", got, tt.want)
			}
			// Replay and snapshot give the same notice.
			r, _ := New(testNoticeConfig())
			for _, e := range all {
				b, err := e.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				var d Event
				if err := d.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				if err := r.Apply(d); err != nil {
					t.Fatal(err)
				}
			}
			if r.Digest() != h.Digest() {
				t.Error("replay digest differs")
			}
			data, err := h.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			s, err := Restore(data)
			if err != nil {
				t.Fatal(err)
			}
			if s.Notice() != h.Notice() {
				t.Errorf("restored notice %+v, want %+v", s.Notice(), h.Notice())
			}
		})
	}
}

func testNoticeConfig() Config {
	return Config{
		Services: []ServiceConfig{{ID: "s", Name: "综合", Prefix: "A", ServiceTime: 5 * time.Minute}},
		Windows:  []WindowConfig{{ID: "1", Number: 1, Name: "一", Kind: KindIntake, Services: []string{"s"}}},
		Rules:    DefaultRules(),
	}
}
