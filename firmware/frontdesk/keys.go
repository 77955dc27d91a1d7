package frontdesk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"hallgw/drivers/windowbus"
	"hallgw/hall"
)

// SourceWindow is the Source of the hall commands a window's keys make.
const SourceWindow = "window"

// keyEnv is what turning a key press into a hall command needs to know of
// the hall.
type keyEnv struct {
	// Services are the service ids in configuration order: the transfer
	// argument ArgService|n names Services[n-1].
	Services []string
	// Windows maps window numbers to window ids (transfer to a window).
	Windows map[int]string
	// PauseReasons are the reasons of the pause key, 1 first.
	PauseReasons []string
	// Find returns the ticket a number typed before the call key names at
	// this window, digits only ("12" for A012): a ticket held there, which
	// is resumed, or a waiting one the window may call.
	Find func(n int) (id hall.TicketID, held, ok bool)
}

// refusal is a press the gateway refuses before the hall sees it, or a
// hall refusal, with the short text the window's bar shows for it.
type refusal struct {
	msg  string // for logs and errors
	text string // for the bar
}

func (r *refusal) Error() string { return "frontdesk: " + r.msg }

// errIgnored marks a key the hall has no use for (reserved codes): it is
// counted and otherwise ignored, as docs/window-bus.md asks.
var errIgnored = errors.New("frontdesk: key ignored")

// keyCommand turns a press of key k with argument arg at window into a hall
// command. The mapping follows docs/window-bus.md §2.1 and docs/ratings.md;
// docs/devices.md lists it.
func keyCommand(window string, k windowbus.Key, arg uint16, env keyEnv) (hall.Command, error) {
	cmd := hall.Command{Window: window, Source: SourceWindow}
	switch k {
	case windowbus.KeyCall:
		if arg == 0 {
			cmd.Op = hall.OpCallNext
			return cmd, nil
		}
		if env.Find == nil {
			return cmd, &refusal{fmt.Sprintf("call %d: no ticket lookup", arg), "无此号"}
		}
		id, held, ok := env.Find(int(arg))
		if !ok {
			return cmd, &refusal{fmt.Sprintf("call %d: no such ticket for window %s", arg, window), "无此号"}
		}
		cmd.Op, cmd.Ticket = hall.OpCall, id
		if held {
			cmd.Op = hall.OpResume
		}
	case windowbus.KeyRecall:
		cmd.Op = hall.OpRecall
	case windowbus.KeySkip:
		cmd.Op = hall.OpSkip
	case windowbus.KeyTransfer:
		cmd.Op = hall.OpTransfer
		switch {
		case arg == 0 || arg == windowbus.ArgService:
			return cmd, &refusal{"transfer without a target", "请输入转移目标"}
		case arg&windowbus.ArgService != 0:
			n := int(arg &^ windowbus.ArgService)
			if n > len(env.Services) {
				return cmd, &refusal{fmt.Sprintf("transfer to service %d of %d", n, len(env.Services)), "无此业务"}
			}
			cmd.ToService = env.Services[n-1]
		default:
			id, ok := env.Windows[int(arg)]
			if !ok {
				return cmd, &refusal{fmt.Sprintf("transfer to unknown window %d", arg), "无此窗口"}
			}
			cmd.ToWindow = id
		}
	case windowbus.KeyHold:
		cmd.Op = hall.OpHold
	case windowbus.KeyPause:
		cmd.Op = hall.OpPause
		n := int(arg)
		if n == 0 {
			n = 1
		}
		if n > len(env.PauseReasons) {
			return cmd, &refusal{fmt.Sprintf("pause reason %d of %d", n, len(env.PauseReasons)), "暂停原因编号无效"}
		}
		cmd.Reason = env.PauseReasons[n-1]
	case windowbus.KeyResume:
		cmd.Op = hall.OpUnpause
	case windowbus.KeyFinish:
		cmd.Op = hall.OpFinish
	default:
		g := k.Rating()
		if g == 0 {
			return cmd, errIgnored
		}
		cmd.Op, cmd.Grade, cmd.Source = hall.OpRate, hall.Grade(g), hall.PadKeys
		if hall.Grade(g).Bad() {
			cmd.ReasonNumber = int(arg)
		}
	}
	return cmd, nil
}

// ticketDigits returns the number part of a ticket number: 12 for "A012".
func ticketDigits(number string) (int, bool) {
	i := strings.IndexFunc(number, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(number[i:])
	return n, err == nil
}

// findTicket is keyEnv.Find on a hall: a ticket held at window whose
// digits are n, else a waiting ticket addressed to the window or in one of
// its services, in the window's preference order.
func findTicket(h *hall.Hall, window string, n int) (hall.TicketID, bool, bool) {
	w, ok := h.Window(window)
	if !ok {
		return 0, false, false
	}
	match := func(id hall.TicketID) (hall.TicketView, bool) {
		t, ok := h.Ticket(id)
		if !ok {
			return t, false
		}
		d, ok := ticketDigits(t.Number)
		return t, ok && d == n
	}
	for _, id := range w.Held {
		if _, ok := match(id); ok {
			return id, true, true
		}
	}
	for _, id := range w.Addressed {
		if _, ok := match(id); ok {
			return id, false, true
		}
	}
	for _, s := range w.Services {
		for _, t := range h.Queue(s) {
			if d, ok := ticketDigits(t.Number); ok && d == n {
				return t.ID, false, true
			}
		}
	}
	return 0, false, false
}

// outcomeText is what a window's bar shows after a press the hall refused,
// or after a rating: "" when the bar should just show the window's state.
func outcomeText(cmd hall.Command, err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.text
	}
	if cmd.Op == hall.OpRate {
		switch {
		case err == nil:
			return textThanks
		case errors.Is(err, hall.ErrNoRating):
			return "暂无待评价业务"
		case errors.Is(err, hall.ErrRatingClosed):
			return "已评价"
		case errors.Is(err, hall.ErrInvalid):
			return "原因编号无效"
		}
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, hall.ErrQueueEmpty):
		return "当前无人等候"
	case errors.Is(err, hall.ErrWindowPaused):
		return "暂停中，请先恢复"
	case errors.Is(err, hall.ErrWindowClosed):
		return "窗口未开放，请先签到"
	case errors.Is(err, hall.ErrWindowBusy):
		return "请先办结当前业务"
	case errors.Is(err, hall.ErrNoCurrent):
		return "当前没有叫号"
	case errors.Is(err, hall.ErrRecallLimit):
		return "重呼次数已满"
	case errors.Is(err, hall.ErrRecallTooSoon):
		return "重呼过快，请稍候"
	case errors.Is(err, hall.ErrUnknownTicket), errors.Is(err, hall.ErrUnknownService), errors.Is(err, hall.ErrUnknownWindow):
		return "无此目标"
	case errors.Is(err, hall.ErrBadState), errors.Is(err, hall.ErrInvalid):
		return "该操作不可用"
	}
	return "操作失败，请重试"
}
