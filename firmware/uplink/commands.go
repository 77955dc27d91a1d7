package uplink

import (
	"container/list"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// cmdMsg is a command taken off the wire, waiting for the command worker.
type cmdMsg struct {
	payload []byte
	topic   string
}

// onCommand is paho's handler for the command topic. It only queues: the
// client's goroutines are never held up by a command.
func (u *Uplink) onCommand(c mqtt.Client, m mqtt.Message) {
	if m.Retained() {
		// A retained command would run again on every reconnect.
		u.log.Warn("uplink: retained command ignored", "topic", m.Topic(), "bytes", len(m.Payload()))
		return
	}
	msg := cmdMsg{payload: append([]byte(nil), m.Payload()...), topic: m.Topic()}
	select {
	case u.cmds <- msg:
	default:
		id := RequestID(msg.payload)
		u.log.Warn("uplink: command refused: too many waiting", "request", id)
		u.sendReply(Reply{V: SchemaVersion, ID: id, OK: false, At: u.o.Now().UTC(), Code: CodeBusy,
			Error: "too many commands waiting; send it again later"})
	}
}

// commandLoop runs commands one at a time, so that no two act on the
// gateway at once.
func (u *Uplink) commandLoop(ctx context.Context) {
	defer u.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-u.cmds:
			u.cmdMu.Lock()
			// A command under way finishes even when the uplink stops.
			r := u.Execute(context.WithoutCancel(ctx), m.payload)
			u.sendReply(r)
			u.cmdMu.Unlock()
		}
	}
}

func (u *Uplink) sendReply(r Reply) {
	b, err := json.Marshal(r)
	if err != nil {
		u.log.Error("uplink: encode reply", "request", r.ID, "err", err)
		return
	}
	b, _ = MaskIDNumbers(b)
	c := u.currentClient()
	if c == nil {
		u.log.Warn("uplink: reply not sent: not connected", "request", r.ID)
		return
	}
	c.Publish(u.o.Topics.Reply(), 1, false, b)
}

// Execute decodes, authorises and runs one command message and returns the
// reply to publish. Malformed, unknown and unauthorised commands are
// answered with an error and logged; nothing is half-applied: every command
// is a single durable hall command, a validated atomic configuration, or
// one fault closure. A request id seen recently gets the same reply again,
// without running twice.
func (u *Uplink) Execute(ctx context.Context, payload []byte) Reply {
	now := u.o.Now().UTC()
	req, err := DecodeCommand(payload)
	if err != nil {
		var ce *CommandError
		errors.As(err, &ce)
		id := RequestID(payload)
		u.log.Warn("uplink: command refused", "request", id, "code", ce.Code, "err", ce.Msg)
		return errorReply(id, "", now, ce)
	}
	if tok := u.o.CommandToken; tok != "" && subtle.ConstantTimeCompare([]byte(req.Token), []byte(tok)) != 1 {
		u.log.Warn("uplink: command refused: bad token", "request", req.ID, "cmd", req.Cmd)
		return errorReply(req.ID, req.Cmd, now, cmdErr(CodeUnauthorised, "missing or wrong token"))
	}
	if r, ok := u.replies.get(req.ID); ok {
		u.log.Info("uplink: repeated command answered again", "request", req.ID, "cmd", req.Cmd)
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	result, summary, err := u.run1(ctx, req)
	var r Reply
	if err != nil {
		var ce *CommandError
		if !errors.As(err, &ce) {
			ce = &CommandError{Code: CodeFailed, Msg: err.Error(), Err: err}
		}
		u.log.Warn("uplink: command failed", "request", req.ID, "cmd", req.Cmd, "code", ce.Code, "err", ce.Msg)
		r = errorReply(req.ID, req.Cmd, now, ce)
	} else {
		r = Reply{V: SchemaVersion, ID: req.ID, Cmd: req.Cmd, OK: true, At: now}
		if result != nil {
			b, err := json.Marshal(result)
			if err != nil {
				return errorReply(req.ID, req.Cmd, now, cmdErr(CodeFailed, "encode result: %v", err))
			}
			r.Result = b
		}
		if summary != "" {
			// The effect is journaled (hall events are already); the record
			// says who asked for it.
			rec := CommandRecord{Type: "command_applied", Request: req.ID, Cmd: req.Cmd, Summary: summary}
			b, _ := json.Marshal(rec)
			if _, err := u.j.Append(ctx, journal.Record{Kind: KindCommand, At: now, Data: b}); err != nil {
				u.log.Error("uplink: journal command record", "request", req.ID, "err", err)
			}
			u.log.Info("uplink: command applied", "request", req.ID, "cmd", req.Cmd, "summary", summary)
		}
	}
	if r.OK {
		u.replies.put(req.ID, r)
	}
	return r
}

func errorReply(id, cmd string, at time.Time, ce *CommandError) Reply {
	return Reply{V: SchemaVersion, ID: id, Cmd: cmd, OK: false, At: at, Code: ce.Code, Error: ce.Msg, Errors: ce.Details}
}

// run1 carries out a decoded command. It returns the reply's result and,
// for commands that changed something, a one-line summary for the journal.
func (u *Uplink) run1(ctx context.Context, req *Request) (any, string, error) {
	switch req.Cmd {
	case CmdPing:
		return map[string]any{"pong": true, "session": u.State().Session}, "", nil
	case CmdStatus:
		ls := u.State()
		return StatusResult{Status: u.birth(ls.Session), Gateway: u.GatewayHealth(), Faults: u.faultList()}, "", nil
	case CmdConfig:
		return u.applyConfig(ctx, req)
	case CmdBroadcast:
		lv, _ := hall.ParseNoticeLevel(req.Broadcast.Level)
		evs, err := u.doHall(ctx, hall.Command{Op: hall.OpNotice, Notice: lv, Reason: req.Broadcast.Text, Source: "platform"})
		if err != nil {
			return nil, "", err
		}
		return eventsResult(evs), fmt.Sprintf("%s notice on every display", lv), nil
	case CmdOpenWindow:
		evs, err := u.doHall(ctx, hall.Command{Op: hall.OpOpenWindow, Window: req.Window.Window, Staff: req.Window.Staff, Source: "platform"})
		if err != nil {
			return nil, "", err
		}
		return eventsResult(evs), "window " + req.Window.Window + " opened", nil
	case CmdCloseWindow:
		evs, err := u.doHall(ctx, hall.Command{Op: hall.OpCloseWindow, Window: req.Window.Window, Source: "platform"})
		if err != nil {
			return nil, "", err
		}
		return eventsResult(evs), "window " + req.Window.Window + " closed", nil
	case CmdAppointments:
		list := make([]hall.Appointment, len(req.Appointments.Appointments))
		for i, a := range req.Appointments.Appointments {
			list[i] = hall.Appointment{ID: a.ID, Service: a.Service, Start: a.Start.UTC(), End: a.End.UTC(), HolderHash: a.HolderHash}
		}
		evs, err := u.doHall(ctx, hall.Command{Op: hall.OpLoadAppointments, Appointments: list, Source: "platform"})
		if err != nil {
			return nil, "", err
		}
		return eventsResult(evs), fmt.Sprintf("%d appointments loaded", len(list)), nil
	case CmdCloseFault:
		f, err := u.faults.Close(req.Fault.Fault, req.Fault.Note, req.ID)
		switch {
		case errors.Is(err, health.ErrUnknownFault), errors.Is(err, health.ErrFaultOngoing):
			return nil, "", &CommandError{Code: CodeRejected, Msg: err.Error(), Err: err}
		case err != nil && f.ID == "":
			return nil, "", &CommandError{Code: CodeInvalid, Msg: err.Error(), Err: err}
		case err != nil:
			return nil, "", err
		}
		return f, "fault " + f.ID + " closed", nil
	}
	return u.runExt(ctx, req)
}

// StatusResult is the result of the status command.
type StatusResult struct {
	Status  Status         `json:"status"`
	Gateway health.Gateway `json:"gateway"`
	Faults  FaultList      `json:"faults"`
}

// EventsResult lists the events a command caused.
type EventsResult struct {
	Events []string `json:"events"` // event ids
}

func eventsResult(evs []gateway.Committed) EventsResult {
	r := EventsResult{Events: make([]string, len(evs))}
	for i, e := range evs {
		r.Events[i] = e.ID
	}
	return r
}

func (u *Uplink) doHall(ctx context.Context, cmd hall.Command) ([]gateway.Committed, error) {
	if u.o.Hall == nil {
		return nil, cmdErr(CodeUnavailable, "this gateway runs no hall")
	}
	evs, err := u.o.Hall.Do(ctx, cmd)
	var he *hall.Error
	if errors.As(err, &he) {
		return nil, &CommandError{Code: CodeRejected, Msg: err.Error(), Err: err}
	}
	return evs, err
}

// ConfigResult is the result of an applied configuration.
type ConfigResult struct {
	Version string `json:"version"`
	// Restart is true when the gateway restarts on the new file (devices
	// or connections changed).
	Restart bool `json:"restart"`
}

func (u *Uplink) applyConfig(ctx context.Context, req *Request) (any, string, error) {
	if u.o.ApplyConfig == nil {
		return nil, "", cmdErr(CodeUnavailable, "this gateway takes no configuration pushes")
	}
	res, err := u.o.ApplyConfig(ctx, []byte(req.Config.YAML), "platform request "+req.ID)
	if err != nil {
		ce := &CommandError{Code: CodeRejected, Msg: "configuration rejected, the running one is unchanged", Err: err}
		var fes config.Errors
		if errors.As(err, &fes) {
			for _, fe := range fes {
				ce.Details = append(ce.Details, fe.Error())
			}
		} else {
			ce.Details = []string{err.Error()}
		}
		return nil, "", ce
	}
	u.mu.Lock()
	u.configVersion = res.Version
	u.mu.Unlock()
	sum := "configuration " + res.Version + " applied"
	if res.Restart {
		sum += "; restarting"
	}
	return ConfigResult(res), sum, nil
}

// replyCache remembers the replies to recent request ids.
type replyCache struct {
	mu  sync.Mutex
	max int
	ll  *list.List
	m   map[string]*list.Element
}

type replyEntry struct {
	id string
	r  Reply
}

func newReplyCache(max int) *replyCache {
	return &replyCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *replyCache) get(id string) (Reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return Reply{}, false
	}
	return e.Value.(replyEntry).r, true
}

func (c *replyCache) put(id string, r Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		e.Value = replyEntry{id, r}
		return
	}
	c.m[id] = c.ll.PushFront(replyEntry{id, r})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(replyEntry).id)
	}
}
