package windowbus_test

import (
	"fmt"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
)

var protocols = []string{"modbus", "vendor"}

// TestPressToDisplay runs the real Master against the emulator on a pty in
// both protocols: a press is delivered once with its key and argument, the
// answer reaches the bar and the hall display, and the press is
// acknowledged (gone from the terminal's FIFO).
func TestPressToDisplay(t *testing.T) {
	for _, proto := range protocols {
		for _, baud := range []int{9600, 115200} {
			t.Run(fmt.Sprintf("%s/%d", proto, baud), func(t *testing.T) {
				r := newRig(t, rigOpts{proto: proto, baud: baud, terminals: []windowbus.Addr{1, 2, 3}, displays: []windowbus.Addr{201}})
				seq, _, err := r.sim.Press(2, windowbus.KeyTransfer, windowbus.ArgService|7)
				if err != nil {
					t.Fatal(err)
				}
				p := r.nextPress(t)
				want := windowbus.Press{Addr: 2, Window: 2, Key: windowbus.KeyTransfer, Arg: windowbus.ArgService | 7, Seq: seq}
				if p.Addr != want.Addr || p.Window != want.Window || p.Key != want.Key || p.Arg != want.Arg || p.Seq != want.Seq {
					t.Fatalf("press = %v, want %v", p, want)
				}
				text := "A012 请到2号窗口"
				if err := r.m.ShowNow(2, text); err != nil {
					t.Fatal(err)
				}
				if err := r.m.ShowNow(201, text); err != nil {
					t.Fatal(err)
				}
				r.waitShown(t, 2, text)
				r.waitShown(t, 201, text)
				waitFor(t, "press acknowledged", func() bool {
					st, _ := r.sim.State(2)
					return st.Pending == 0 && st.Acked == seq
				})
				r.noPress(t, 300*time.Millisecond)
				if got := r.sim.Text(2); got != text {
					t.Errorf("bar text = %q, want %q", got, text)
				}
			})
		}
	}
}
