package windowbus_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
)

// Fault tests run the real Master and link against the emulator on a pty,
// at 115200 baud to keep them short.

func fastBackoff(o *windowbus.Opts) {
	o.Backoff, o.MaxBackoff = 100*time.Millisecond, 200*time.Millisecond
}

func TestSilentTerminalIsBackedOff(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1, 2, 3}, master: fastBackoff})
			waitFor(t, "terminal 2 up", func() bool { return r.health(2).Up })
			if err := r.sim.SetFault(2, bussim.Fault{Mute: true}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "terminal 2 down", func() bool { return !r.health(2).Up })
			h2 := r.health(2)
			if h2.Timeouts < 3 || h2.Misses < 3 {
				t.Fatalf("health of the silent terminal = %+v, want 3 timeouts", h2)
			}
			// The others keep being polled and their presses go through.
			p0 := r.health(1).Polls
			seq, _, err := r.sim.Press(3, windowbus.KeySkip, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p := r.nextPress(t); p.Addr != 3 || p.Seq != seq {
				t.Fatalf("press = %v, want terminal 3 seq %d", p, seq)
			}
			waitFor(t, "100 polls of terminal 1", func() bool { return r.health(1).Polls >= p0+100 })
			// Polled every cycle, terminal 2 would have cost 100 more
			// timeouts; backed off, it is probed a few times.
			if probes := r.health(2).Timeouts - h2.Timeouts; probes > 20 {
				t.Errorf("silent terminal probed %d times during 100 cycles, want back-off", probes)
			}
			// A write queued while it is away goes out when it is back.
			if err := r.m.Show(2, "恢复"); err != nil {
				t.Fatal(err)
			}
			r.sim.SetFault(2, bussim.Fault{})
			r.waitShown(t, 2, "恢复")
			waitFor(t, "terminal 2 up again", func() bool { return r.health(2).Up })
		})
	}
}

func TestGarbledRepliesCountedAndRetried(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1, 2}, master: fastBackoff})
			waitFor(t, "terminal 2 up", func() bool { return r.health(2).Up })
			r.sim.SetFault(2, bussim.Fault{Garble: true})
			seq, _, err := r.sim.Press(2, windowbus.KeyCall, 0)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "checksum errors", func() bool { return r.health(2).ChecksumErrors >= 2 })
			r.noPress(t, 50*time.Millisecond)
			r.sim.SetFault(2, bussim.Fault{})
			if p := r.nextPress(t); p.Addr != 2 || p.Seq != seq {
				t.Fatalf("press = %v, want terminal 2 seq %d", p, seq)
			}
			waitFor(t, "press acknowledged", func() bool { st, _ := r.sim.State(2); return st.Pending == 0 })
			r.noPress(t, 200*time.Millisecond)
		})
	}
}

func TestNoiseCountedAsStrayBytes(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1, 2}})
			waitFor(t, "terminal 1 up", func() bool { return r.health(1).Up })
			r.sim.SetFault(1, bussim.Fault{Noise: 3})
			seq, _, _ := r.sim.Press(1, windowbus.KeyResume, 0)
			if p := r.nextPress(t); p.Seq != seq {
				t.Fatalf("press = %v, want seq %d", p, seq)
			}
			waitFor(t, "stray bytes counted", func() bool {
				return r.health(1).GarbledBytes+r.health(2).GarbledBytes >= 30
			})
			if s := r.m.Stats().StrayBytes; s < 30 {
				t.Errorf("stray bytes = %d, want at least 30", s)
			}
		})
	}
}

// TestPressSurvivesLostReplies drops the replies to the first requests
// after a press: the press stays in the FIFO and is delivered exactly once.
func TestPressSurvivesLostReplies(t *testing.T) {
	for _, proto := range protocols {
		for _, drop := range []int{1, 2, 3, 5} {
			t.Run(fmt.Sprintf("%s/drop%d", proto, drop), func(t *testing.T) {
				r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1, 2}, master: fastBackoff})
				waitFor(t, "terminal 1 up", func() bool { return r.health(1).Up })
				r.sim.SetFault(1, bussim.Fault{DropReplies: drop})
				seq, _, err := r.sim.Press(1, windowbus.KeyCall, 42)
				if err != nil {
					t.Fatal(err)
				}
				p := r.nextPress(t)
				if p.Addr != 1 || p.Seq != seq || p.Arg != 42 {
					t.Fatalf("press = %v, want terminal 1 seq %d arg 42", p, seq)
				}
				waitFor(t, "press acknowledged", func() bool { st, _ := r.sim.State(1); return st.Pending == 0 })
				r.noPress(t, 300*time.Millisecond)
				if h := r.health(1); h.Timeouts == 0 {
					t.Errorf("timeouts = 0, want the lost replies counted")
				}
			})
		}
	}
}

// TestLostAckReply loses the reply to the acknowledgement: the terminal
// applied it, the Master repeats it, nothing is delivered twice.
func TestLostAckReply(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1}})
			waitFor(t, "terminal 1 up", func() bool { return r.health(1).Up })
			seq, _, _ := r.sim.Press(1, windowbus.KeyFinish, 0)
			// The press waits for the consumer, so nothing is acknowledged.
			waitFor(t, "press read", func() bool { return r.health(1).Presses == 1 })
			r.sim.SetFault(1, bussim.Fault{DropReplies: 1})
			if p := r.nextPress(t); p.Seq != seq {
				t.Fatalf("press = %v, want seq %d", p, seq)
			}
			waitFor(t, "press acknowledged", func() bool { st, _ := r.sim.State(1); return st.Pending == 0 && st.Acked == seq })
			r.noPress(t, 300*time.Millisecond)
		})
	}
}

// TestRebootRestoresDisplay power-cycles a terminal: the Master notices the
// restart flag, writes the text back and numbers presses afresh.
func TestRebootRestoresDisplay(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1, 2}})
			r.m.Show(1, "A007 请到1号窗口")
			r.waitShown(t, 1, "A007 请到1号窗口")
			for i := 0; i < 3; i++ {
				r.sim.Press(1, windowbus.KeyCall, 0)
				r.nextPress(t)
			}
			waitFor(t, "acknowledged", func() bool { st, _ := r.sim.State(1); return st.Pending == 0 })
			r.sim.Reboot(1)
			waitFor(t, "text restored", func() bool { return r.sim.Text(1) == "A007 请到1号窗口" })
			seq, _, _ := r.sim.Press(1, windowbus.KeyRecall, 0)
			if p := r.nextPress(t); p.Seq != seq || p.Key != windowbus.KeyRecall {
				t.Fatalf("press after reboot = %v, want recall seq %d", p, seq)
			}
			if h := r.health(1); h.Reboots != 1 {
				t.Errorf("reboots = %d, want 1", h.Reboots)
			}
		})
	}
}

// TestPortVanishes closes the pty under a running Master: Run returns
// ErrDisconnected, and a new Master on a new port works, as the supervisor
// would do it.
func TestPortVanishes(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			r := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1}})
			waitFor(t, "terminal up", func() bool { return r.health(1).Up })
			r.pty.Close()
			select {
			case err := <-r.runErr:
				if !errors.Is(err, windowbus.ErrDisconnected) {
					t.Fatalf("Run = %v, want ErrDisconnected", err)
				}
				r.runErr <- err
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after the port vanished")
			}
			r2 := newRig(t, rigOpts{proto: proto, baud: 115200, terminals: []windowbus.Addr{1}})
			seq, _, _ := r2.sim.Press(1, windowbus.KeyCall, 0)
			if p := r2.nextPress(t); p.Seq != seq {
				t.Fatalf("press on the new port = %v, want seq %d", p, seq)
			}
		})
	}
}
