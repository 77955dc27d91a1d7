package ups_test

import (
	"bytes"
	"testing"
	"time"

	"hallgw/drivers/ups"
	"hallgw/drivers/ups/upssim"
)

// FuzzEncodeCommand checks that EncodeCommand never panics and that every
// command it encodes is one the emulated UPS accepts (no echo).
func FuzzEncodeCommand(f *testing.F) {
	for _, c := range ups.Commands {
		f.Add(c, "", int64(30), int64(180))
	}
	f.Add(ups.CmdTest, "600", int64(30), int64(180))
	f.Add(ups.CmdShutdownReturn, "", int64(600), int64(0))
	f.Add("beeper.enable", "", int64(12), int64(60))
	f.Fuzz(func(t *testing.T, name, arg string, off, on int64) {
		d := ups.Delays{OffDelay: time.Duration(off) * time.Second, OnDelay: time.Duration(on) * time.Second}
		b, err := ups.EncodeCommand(name, arg, d)
		if err != nil {
			return
		}
		if len(b) < 2 || len(b) > 10 || b[len(b)-1] != '\r' || bytes.Count(b, []byte("\r")) != 1 {
			t.Fatalf("EncodeCommand(%q, %q, %+v) = %q", name, arg, d, b)
		}
		sim, err := upssim.New(upssim.Config{Now: func() time.Time { return time.Unix(0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		if reply, ok := sim.Handle(string(b[:len(b)-1])); ok {
			t.Fatalf("emulator answered %q to %q (%s): refused", reply, b, name)
		}
	})
}
