package frontdesk

import (
	"errors"
	"fmt"
	"testing"

	"hallgw/drivers/windowbus"
	"hallgw/hall"
)

var testEnv = keyEnv{
	Services:     []string{"general", "estate", "social"},
	Windows:      map[int]string{1: "w1", 5: "w5"},
	PauseReasons: []string{"临时离开", "午休"},
	Find: func(n int) (hall.TicketID, bool, bool) {
		switch n {
		case 12:
			return 7, false, true // A012 waiting
		case 3:
			return 9, true, true // C003 held here
		}
		return 0, false, false
	},
}

func TestKeyCommand(t *testing.T) {
	cmd := func(c hall.Command) hall.Command {
		c.Window = "w5"
		if c.Source == "" {
			c.Source = SourceWindow
		}
		return c
	}
	tests := []struct {
		name string
		key  windowbus.Key
		arg  uint16
		want hall.Command
		bar  string // the refusal's bar text, "" when a command comes out
	}{
		{"call next", windowbus.KeyCall, 0, cmd(hall.Command{Op: hall.OpCallNext}), ""},
		{"call a waiting ticket by number", windowbus.KeyCall, 12, cmd(hall.Command{Op: hall.OpCall, Ticket: 7}), ""},
		{"call a held ticket resumes it", windowbus.KeyCall, 3, cmd(hall.Command{Op: hall.OpResume, Ticket: 9}), ""},
		{"call an unknown number", windowbus.KeyCall, 99, hall.Command{}, "无此号"},
		{"recall", windowbus.KeyRecall, 0, cmd(hall.Command{Op: hall.OpRecall}), ""},
		{"recall ignores its argument", windowbus.KeyRecall, 4, cmd(hall.Command{Op: hall.OpRecall}), ""},
		{"skip", windowbus.KeySkip, 0, cmd(hall.Command{Op: hall.OpSkip}), ""},
		{"transfer to window 1", windowbus.KeyTransfer, 1, cmd(hall.Command{Op: hall.OpTransfer, ToWindow: "w1"}), ""},
		{"transfer to service 2", windowbus.KeyTransfer, windowbus.ArgService | 2, cmd(hall.Command{Op: hall.OpTransfer, ToService: "estate"}), ""},
		{"transfer to service 3 (the last)", windowbus.KeyTransfer, windowbus.ArgService | 3, cmd(hall.Command{Op: hall.OpTransfer, ToService: "social"}), ""},
		{"transfer to service 4 of 3", windowbus.KeyTransfer, windowbus.ArgService | 4, hall.Command{}, "无此业务"},
		{"transfer to service 0", windowbus.KeyTransfer, windowbus.ArgService, hall.Command{}, "请输入转移目标"},
		{"transfer without a target", windowbus.KeyTransfer, 0, hall.Command{}, "请输入转移目标"},
		{"transfer to an unknown window", windowbus.KeyTransfer, 9, hall.Command{}, "无此窗口"},
		{"hold", windowbus.KeyHold, 0, cmd(hall.Command{Op: hall.OpHold}), ""},
		{"pause without a number: the first reason", windowbus.KeyPause, 0, cmd(hall.Command{Op: hall.OpPause, Reason: "临时离开"}), ""},
		{"pause with reason 2", windowbus.KeyPause, 2, cmd(hall.Command{Op: hall.OpPause, Reason: "午休"}), ""},
		{"pause with reason 3 of 2", windowbus.KeyPause, 3, hall.Command{}, "暂停原因编号无效"},
		{"resume the window", windowbus.KeyResume, 0, cmd(hall.Command{Op: hall.OpUnpause}), ""},
		{"finish", windowbus.KeyFinish, 0, cmd(hall.Command{Op: hall.OpFinish}), ""},
		{"rate 1", windowbus.KeyRate1, 0, cmd(hall.Command{Op: hall.OpRate, Grade: 1, Source: hall.PadKeys}), ""},
		{"rate 2 ignores a reason", windowbus.KeyRate2, 5, cmd(hall.Command{Op: hall.OpRate, Grade: 2, Source: hall.PadKeys}), ""},
		{"rate 3", windowbus.KeyRate3, 0, cmd(hall.Command{Op: hall.OpRate, Grade: 3, Source: hall.PadKeys}), ""},
		{"rate 4 with reason 2", windowbus.KeyRate4, 2, cmd(hall.Command{Op: hall.OpRate, Grade: 4, ReasonNumber: 2, Source: hall.PadKeys}), ""},
		{"rate 5 without a reason", windowbus.KeyRate5, 0, cmd(hall.Command{Op: hall.OpRate, Grade: 5, Source: hall.PadKeys}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyCommand("w5", tt.key, tt.arg, testEnv)
			if tt.bar != "" {
				var r *refusal
				if !errors.As(err, &r) || r.text != tt.bar {
					t.Errorf("keyCommand(%v, %#x) = %+v, %v; want the refusal %q", tt.key, tt.arg, got, err, tt.bar)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("keyCommand(%v, %#x) = %+v, %v; want %+v", tt.key, tt.arg, got, err, tt.want)
			}
		})
	}
}

func TestKeyCommandIgnoresReservedKeys(t *testing.T) {
	for _, k := range []windowbus.Key{0, 0x09, 0x10, 0x16, 0x30, 0xFFFF} {
		if got, err := keyCommand("w5", k, 0, testEnv); !errors.Is(err, errIgnored) {
			t.Errorf("keyCommand(%v) = %+v, %v; want ignored", k, got, err)
		}
	}
}

func TestOutcomeText(t *testing.T) {
	rate := hall.Command{Op: hall.OpRate}
	call := hall.Command{Op: hall.OpCallNext}
	hallErr := func(code error) error { return &hall.Error{Code: code, Msg: "x"} }
	tests := []struct {
		name string
		cmd  hall.Command
		err  error
		want string
	}{
		{"call made", call, nil, ""},
		{"rated", rate, nil, "感谢您的评价"},
		{"nothing to rate", rate, hallErr(hall.ErrNoRating), "暂无待评价业务"},
		{"rated twice", rate, hallErr(hall.ErrRatingClosed), "已评价"},
		{"bad reason number", rate, hallErr(hall.ErrInvalid), "原因编号无效"},
		{"queue empty", call, hallErr(hall.ErrQueueEmpty), "当前无人等候"},
		{"paused", call, hallErr(hall.ErrWindowPaused), "暂停中，请先恢复"},
		{"closed", call, hallErr(hall.ErrWindowClosed), "窗口未开放，请先签到"},
		{"busy", call, hallErr(hall.ErrWindowBusy), "请先办结当前业务"},
		{"no current", hall.Command{Op: hall.OpRecall}, hallErr(hall.ErrNoCurrent), "当前没有叫号"},
		{"recall limit", hall.Command{Op: hall.OpRecall}, hallErr(hall.ErrRecallLimit), "重呼次数已满"},
		{"recall too soon", hall.Command{Op: hall.OpRecall}, hallErr(hall.ErrRecallTooSoon), "重呼过快，请稍候"},
		{"unknown target", hall.Command{Op: hall.OpTransfer}, hallErr(hall.ErrUnknownWindow), "无此目标"},
		{"bad state", hall.Command{Op: hall.OpSkip}, hallErr(hall.ErrBadState), "该操作不可用"},
		{"journal failure", call, errors.New("journal: disk full"), "操作失败，请重试"},
		{"refused before the hall", call, &refusal{"x", "无此号"}, "无此号"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcomeText(tt.cmd, tt.err); got != tt.want {
				t.Errorf("outcomeText(%v, %v) = %q, want %q", tt.cmd.Op, tt.err, got, tt.want)
			}
			if got := gbLen(outcomeText(tt.cmd, tt.err)); got > 32 {
				t.Errorf("outcome text takes %d bytes, more than the smallest bar's 32", got)
			}
		})
	}
}

func TestTicketDigits(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"A012", 12, true}, {"B1", 1, true}, {"HJ000007", 7, true}, {"A", 0, false}, {"", 0, false}, {"A0x2", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, ok := ticketDigits(tt.in); got != tt.want || ok != tt.ok {
				t.Errorf("ticketDigits(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
