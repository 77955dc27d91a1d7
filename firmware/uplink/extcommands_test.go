package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"hallgw/firmware/daemon"
	"hallgw/firmware/mqttbroker"
)

// The commands these tests register, once for the test binary.
var (
	echoDaemon = make(chan *daemon.Daemon, 8)
	_          = func() bool {
		RegisterCommand("test_echo", func(ctx context.Context, d *daemon.Daemon, args json.RawMessage) (any, error) {
			echoDaemon <- d
			return map[string]any{"args": args, "in_daemon": d != nil}, nil
		})
		RegisterCommand("test_refuse", func(context.Context, *daemon.Daemon, json.RawMessage) (any, error) {
			return nil, &CommandError{Code: CodeRejected, Msg: "not now"}
		})
		RegisterCommand("test_fail", func(context.Context, *daemon.Daemon, json.RawMessage) (any, error) {
			return nil, errors.New("ups: no reply")
		})
		return true
	}()
)

func TestDecodeRegisteredCommand(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		code     string // "" = accepted
		wantArgs string
	}{
		{"no args", `{"v":1,"id":"e1","cmd":"test_echo"}`, "", ""},
		{"null args", `{"v":1,"id":"e2","cmd":"test_echo","args":null}`, "", ""},
		{"object args", `{"v":1,"id":"e3","cmd":"test_echo","args":{"minutes":40}}`, "", `{"minutes":40}`},
		{"array args", `{"v":1,"id":"e4","cmd":"test_echo","args":[1]}`, CodeInvalid, ""},
		{"scalar args", `{"v":1,"id":"e5","cmd":"test_echo","args":7}`, CodeInvalid, ""},
		{"unregistered", `{"v":1,"id":"e6","cmd":"test_nothing"}`, CodeUnknown, ""},
		{"built-ins still checked", `{"v":1,"id":"e7","cmd":"ping","args":{"x":1}}`, CodeInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeCommand([]byte(tt.payload))
			var ce *CommandError
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("DecodeCommand(%s) = %v, want it accepted", tt.payload, err)
			case tt.code != "" && (!errors.As(err, &ce) || ce.Code != tt.code):
				t.Fatalf("DecodeCommand(%s) = %v, want code %s", tt.payload, err, tt.code)
			case tt.code == "" && string(r.Args) != tt.wantArgs:
				t.Errorf("DecodeCommand(%s).Args = %s, want %s", tt.payload, r.Args, tt.wantArgs)
			}
		})
	}
	// EncodeCommand carries the arguments of a registered command.
	b, err := EncodeCommand(&Request{ID: "enc", Cmd: "test_echo", Args: json.RawMessage(`{"deep":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeCommand(b)
	if err != nil || string(r.Args) != `{"deep":true}` {
		t.Errorf("round trip = %+v, %v", r, err)
	}
}

func TestRegisterCommandRefusals(t *testing.T) {
	fn := func(context.Context, *daemon.Daemon, json.RawMessage) (any, error) { return nil, nil }
	tests := []struct {
		name string
		cmd  string
		fn   CommandFunc
	}{
		{"built in", CmdPing, fn},
		{"twice", "test_echo", fn},
		{"bad name", "two words", fn},
		{"empty name", "", fn},
		{"nil function", "test_nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterCommand(%q) did not panic", tt.cmd)
				}
			}()
			RegisterCommand(tt.cmd, tt.fn)
		})
	}
}

// TestExecuteRegisteredCommand runs registered commands through Execute
// outside a daemon: results, error codes and the journaled record.
func TestExecuteRegisteredCommand(t *testing.T) {
	j := openJournal(t, t.TempDir())
	defer j.Close()
	u, err := New(Options{Brokers: []string{"tcp://127.0.0.1:1"}, Journal: j, GatewayID: testGW, HallID: testHall})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, payload, code string
		journaled           bool
	}{
		{"accepted", `{"v":1,"id":"x1","cmd":"test_echo","args":{"n":1}}`, "", true},
		{"rejected", `{"v":1,"id":"x2","cmd":"test_refuse"}`, CodeRejected, false},
		{"failed", `{"v":1,"id":"x3","cmd":"test_fail"}`, CodeFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := j.Committed()
			r := u.Execute(context.Background(), []byte(tt.payload))
			if r.OK != (tt.code == "") || r.Code != tt.code {
				t.Fatalf("Execute(%s) = %+v, want code %q", tt.payload, r, tt.code)
			}
			if got := j.Committed() > before; got != tt.journaled {
				t.Errorf("journaled = %v, want %v", got, tt.journaled)
			}
		})
	}
	if d := <-echoDaemon; d != nil {
		t.Errorf("outside a daemon the command got daemon %p, want nil", d)
	}
	r := u.Execute(context.Background(), []byte(`{"v":1,"id":"x1","cmd":"test_echo","args":{"n":1}}`))
	if !r.OK || !bytes.Contains(r.Result, []byte(`"args":{"n":1}`)) {
		t.Errorf("repeated request = %+v, want the first reply again", r)
	}
	select {
	case <-echoDaemon:
		t.Error("a repeated request id ran the command again")
	default:
	}
	recs, err := j.Read(1, 0)
	if err != nil || len(recs) != 1 || recs[0].Kind != KindCommand || !bytes.Contains(recs[0].Data, []byte(`"test_echo accepted"`)) {
		t.Errorf("journal = %+v, %v, want one command record naming test_echo", recs, err)
	}
}

// TestExecuteRegisteredCommandInDaemon checks that a command run by the
// daemon's uplink is given that daemon.
func TestExecuteRegisteredCommandInDaemon(t *testing.T) {
	b := startBroker(t, mqttbroker.Options{})
	d, _ := runDaemon(t, b.URL())
	u := For(d)
	if u == nil {
		t.Fatal("the daemon runs no uplink")
	}
	r := u.Execute(context.Background(), []byte(`{"v":1,"id":"d1","cmd":"test_echo","token":"`+testToken+`"}`))
	if !r.OK || !bytes.Contains(r.Result, []byte(`"in_daemon":true`)) {
		t.Fatalf("Execute = %+v", r)
	}
	if got := <-echoDaemon; got != d {
		t.Errorf("command got daemon %p, want %p", got, d)
	}
}
