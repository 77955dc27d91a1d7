package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"hallgw/firmware/daemon"
)

// CommandFunc carries out a platform command that a component of the
// gateway provides (the power component's "ups_battery_test", …). d is the
// daemon the uplink runs in, nil outside one (tests, tools); args is the
// command's "args" object as sent, nil when it had none. The result is
// marshalled into the reply. A *CommandError chooses the reply's code; any
// other error is reported as "failed". The function runs on the command
// worker, one command at a time, within a one-minute deadline: work that
// takes longer (a battery test) is started and reported on elsewhere.
type CommandFunc func(ctx context.Context, d *daemon.Daemon, args json.RawMessage) (any, error)

var (
	extMu   sync.RWMutex
	extCmds = map[string]CommandFunc{}
)

var builtinCommands = []string{CmdPing, CmdStatus, CmdConfig, CmdBroadcast, CmdOpenWindow, CmdCloseWindow,
	CmdAppointments, CmdCloseFault}

// RegisterCommand adds the platform command name, normally from a
// component's init function. Its arguments are checked by fn, not by
// DecodeCommand: any JSON object (or none) is accepted and handed over.
// Registering a built-in or already registered name, an invalid name or a
// nil fn panics.
func RegisterCommand(name string, fn CommandFunc) {
	if fn == nil || !identRE.MatchString(name) {
		panic(fmt.Sprintf("uplink: RegisterCommand(%q): bad name or nil function", name))
	}
	for _, b := range builtinCommands {
		if b == name {
			panic("uplink: RegisterCommand: " + name + " is built in")
		}
	}
	extMu.Lock()
	defer extMu.Unlock()
	if _, dup := extCmds[name]; dup {
		panic("uplink: command registered twice: " + name)
	}
	extCmds[name] = fn
}

func extCommand(name string) CommandFunc {
	extMu.RLock()
	defer extMu.RUnlock()
	return extCmds[name]
}

// decodeExt finishes DecodeCommand for a command that is not built in: a
// registered one keeps its arguments (an object, or none) for its function.
func decodeExt(r *Request, args []byte) (*Request, error) {
	if extCommand(r.Cmd) == nil {
		return nil, cmdErr(CodeUnknown, "unknown command %q", clip(r.Cmd, 40))
	}
	if len(args) > 0 {
		if args[0] != '{' || !json.Valid(args) {
			return nil, cmdErr(CodeInvalid, "%s: args: want a JSON object", r.Cmd)
		}
		r.Args = json.RawMessage(append([]byte(nil), args...))
	}
	return r, nil
}

// runExt runs a registered command for run1; the summary journaled with
// it names the command.
func (u *Uplink) runExt(ctx context.Context, req *Request) (any, string, error) {
	fn := extCommand(req.Cmd)
	if fn == nil {
		return nil, "", cmdErr(CodeUnknown, "unknown command %q", req.Cmd)
	}
	res, err := fn(ctx, u.daemon(), req.Args)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) {
			return nil, "", ce
		}
		return nil, "", &CommandError{Code: CodeFailed, Msg: err.Error(), Err: err}
	}
	return res, req.Cmd + " accepted", nil
}

// daemon returns the daemon this uplink runs in, nil when none.
func (u *Uplink) daemon() *daemon.Daemon {
	var d *daemon.Daemon
	running.Range(func(k, v any) bool {
		if v == u {
			d = k.(*daemon.Daemon)
			return false
		}
		return true
	})
	return d
}
