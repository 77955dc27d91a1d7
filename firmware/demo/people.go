package demo

import (
	"context"
	"errors"

	"hallgw/firmware/gateway"
	"hallgw/hall"
)

// Key is a key on a window terminal's keypad (or its equivalent on the API).
type Key int

// Keys a member of staff presses.
const (
	KeyOpen Key = iota + 1
	KeyCallNext
	KeyRecall
	KeyStart
	KeySkip
	KeyTransfer
	KeyHold
	KeyResume
	KeyPause
	KeyUnpause
	KeyFinish
	KeyClose
)

var keyOps = map[Key]hall.Op{
	KeyOpen: hall.OpOpenWindow, KeyCallNext: hall.OpCallNext, KeyRecall: hall.OpRecall,
	KeyStart: hall.OpStart, KeySkip: hall.OpSkip, KeyTransfer: hall.OpTransfer, KeyHold: hall.OpHold,
	KeyResume: hall.OpResume, KeyPause: hall.OpPause, KeyUnpause: hall.OpUnpause,
	KeyFinish: hall.OpFinish, KeyClose: hall.OpCloseWindow,
}

// Press is one key press with its argument.
type Press struct {
	Window string
	Key    Key
	Staff  string        // KeyOpen
	Ticket hall.TicketID // KeyResume
	To     string        // KeyTransfer: target service
	Reason string        // KeyPause
}

// Outcome is what the window shows after a press.
type Outcome struct {
	Ticket  hall.TicketID // the window's current ticket, 0 if none
	Number  string
	Service string // the service it is served in, when known
}

// People is how simulated citizens and staff act on the hall. Direct acts on
// the gateway; a device-backed implementation presses keys on emulated
// terminals and touches emulated kiosks, so the same simulation drives the
// real drivers.
type People interface {
	TakeTicket(ctx context.Context, service string, green bool) error
	Press(ctx context.Context, p Press) (Outcome, error)
	// Rate is the citizen at window rating the service just finished:
	// grade 1 非常满意 … 5 非常不满意, reason the 1-based reason number
	// for a 差评 (0 = none given).
	Rate(ctx context.Context, window string, grade, reason int) error
}

// Direct acts on the gateway's commands, as the local API does.
type Direct struct{ GW *gateway.Gateway }

// TakeTicket issues a ticket as a kiosk would.
func (d Direct) TakeTicket(ctx context.Context, service string, green bool) error {
	cmd := hall.Command{Op: hall.OpIssue, Service: service, Source: "sim"}
	if green {
		cmd.Priority, cmd.GreenReason = hall.Green, "elderly"
	}
	_, err := d.GW.Do(ctx, cmd)
	return err
}

// Rate rates the window's pending service as the tablet pad does.
func (d Direct) Rate(ctx context.Context, window string, grade, reason int) error {
	_, err := d.GW.Do(ctx, hall.Command{Op: hall.OpRate, Window: window, Grade: hall.Grade(grade),
		ReasonNumber: reason, Source: hall.PadKeys})
	return err
}

// Press performs the key's operation.
func (d Direct) Press(ctx context.Context, p Press) (Outcome, error) {
	op, ok := keyOps[p.Key]
	if !ok {
		return Outcome{}, errors.New("demo: unknown key")
	}
	cmd := hall.Command{Op: op, Window: p.Window, Staff: p.Staff, Ticket: p.Ticket, ToService: p.To, Reason: p.Reason, Source: "sim"}
	if _, err := d.GW.Do(ctx, cmd); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err := d.GW.View(ctx, func(h *hall.Hall) {
		if w, ok := h.Window(p.Window); ok {
			out = Outcome{Ticket: w.Current, Number: w.CurrentNumber}
			if t, ok := h.Ticket(w.Current); ok {
				out.Service = t.Service
			}
		}
	})
	return out, err
}
