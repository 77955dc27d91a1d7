package uplink_test

import (
	"fmt"
	"time"

	"hallgw/firmware/uplink"
)

// The platform side: build a command, and read what comes back.
func ExampleEncodeCommand() {
	b, err := uplink.EncodeCommand(&uplink.Request{
		ID: "req-77", Cmd: uplink.CmdOpenWindow, Token: "s3cret",
		Window: &uplink.WindowArgs{Window: "5", Staff: "S017"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// {"v":1,"id":"req-77","cmd":"open_window","token":"s3cret","args":{"window":"5","staff":"S017"}}
}

func ExampleDecodeCommand() {
	_, err := uplink.DecodeCommand([]byte(`{"v":1,"id":"req-78","cmd":"reboot"}`))
	fmt.Println(err)
	// Output:
	// uplink: command unknown_command: unknown command "reboot"
}

func ExampleDescribe() {
	line, _ := uplink.Describe("hallgw", uplink.WatchMessage{
		Topic:   "hallgw/hn-cs/gw-cs-01/events",
		Payload: []byte(`{"v":1,"kind":"hall","id":"gw-cs-01:48240","seq":48240,"type":"turn_near","at":"2026-03-02T01:51:02Z","number":"A042","service":"general","ahead":3}`),
	}, time.UTC)
	fmt.Println(line)
	// Output:
	// hn-cs/gw-cs-01 event     #48240 01:51:02 turn_near A042 service general 3 ahead
}
