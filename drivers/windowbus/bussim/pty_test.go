package bussim_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/serialio"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
	"hallgw/firmware/testkit"
)

// served starts a Sim on a new pty and returns it with the slave path.
func served(t *testing.T, o bussim.Opts) (*bussim.Sim, string) {
	t.Helper()
	p, err := simwire.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bussim.New(p, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
	return sim, p.Path
}

func openSlave(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestWireTiming: an exchange takes at least the request, the silence and
// the reply at the configured baud.
func TestWireTiming(t *testing.T) {
	tests := []struct {
		proto   string
		baud    int
		req     []byte
		reply   int
		minimum time.Duration
	}{
		{"modbus", 9600, mustEncode(modbusrtu.Request{Unit: 1, Func: 4, Addr: 0x10, Count: 1}), 7,
			modbusrtu.Protocol{}.Airtime(windowbus.OpPoll, 0, 9600) - modbusrtu.Silence(9600)},
		{"vendor", 9600, mustVendor(vendor.Frame{Addr: 1, Cmd: vendor.CmdPoll}), 10,
			vendor.Protocol{}.Airtime(windowbus.OpPoll, 0, 9600) - vendor.Turnaround(9600)},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			_, path := served(t, bussim.Opts{Baud: tt.baud, Protocol: tt.proto, Terminals: []windowbus.Addr{1}})
			f := openSlave(t, path)
			buf := make([]byte, tt.reply)
			for i := 0; i < 5; i++ {
				start := time.Now()
				if _, err := f.Write(tt.req); err != nil {
					t.Fatal(err)
				}
				if _, err := serialio.ReadFull(f, buf, time.Now().Add(10*time.Second), nil); err != nil {
					t.Fatal(err)
				}
				if took := time.Since(start); took < tt.minimum {
					t.Errorf("exchange %d took %v, faster than the wire allows (%v)", i, took, tt.minimum)
				}
				time.Sleep(5 * time.Millisecond) // the master's silence
			}
		})
	}
}

// TestResyncAfterNoise: garbage on the line is dropped after a silence and
// the next request is answered.
func TestResyncAfterNoise(t *testing.T) {
	sim, path := served(t, bussim.Opts{Baud: 115200, Terminals: []windowbus.Addr{1}})
	f := openSlave(t, path)
	f.Write([]byte{0x01, 0x10, 0x00, 0x00, 0x00, 0x01, 0x7F})
	time.Sleep(50 * time.Millisecond)
	f.Write(mustEncode(modbusrtu.Request{Unit: 1, Func: 4, Addr: 0, Count: 1}))
	buf := make([]byte, 7)
	if _, err := serialio.ReadFull(f, buf, time.Now().Add(10*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if resp, _, err := modbusrtu.DecodeResponse(buf); err != nil || resp.Values[0] != bussim.Vendor {
		t.Errorf("reply after noise = %+v, %v", resp, err)
	}
	if sim.Junk() != 7 {
		t.Errorf("junk = %d, want 7", sim.Junk())
	}
}

func mustEncode(r modbusrtu.Request) []byte {
	b, err := r.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

func mustVendor(f vendor.Frame) []byte {
	b, err := f.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

var mbpollLine = regexp.MustCompile(`(?m)^\[(\d+)\]:\s+(\d+)`)

// mbpoll runs Debian's mbpoll once and returns the registers it printed.
func mbpoll(t *testing.T, tool string, args ...string) map[int]int {
	t.Helper()
	base := []string{"-m", "rtu", "-b", "9600", "-P", "none", "-1", "-o", "0.5"}
	out, err := exec.Command(tool, append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mbpoll %v: %v\n%s", args, err, out)
	}
	regs := map[int]int{}
	for _, m := range mbpollLine.FindAllStringSubmatch(string(out), -1) {
		r, _ := strconv.Atoi(m[1])
		v, _ := strconv.Atoi(m[2])
		regs[r] = v
	}
	return regs
}

// TestMbpollCrossCheck reads and writes the emulator with an independent
// Modbus master: identity, a key FIFO read, an FC06 acknowledge and an FC16
// text write that the emulator then shows.
func TestMbpollCrossCheck(t *testing.T) {
	tool := testkit.Tool(t, "mbpoll")
	var mu sync.Mutex
	var funcs []byte
	sim, path := served(t, bussim.Opts{Baud: 9600, Terminals: []windowbus.Addr{1, 2}, Displays: []windowbus.Addr{201},
		Trace: func(rx bool, b []byte) {
			if rx && len(b) > 1 {
				mu.Lock()
				funcs = append(funcs, b[1])
				mu.Unlock()
			}
		}})

	// Identity, 1-based references: vendor, model, firmware, type.
	id := mbpoll(t, tool, "-a", "1", "-r", "1", "-c", "4", "-t", "3", path)
	want := map[int]int{1: int(bussim.Vendor), 2: int(bussim.ModelWindow), 3: int(bussim.Firmware), 4: int(windowbus.KindWindow)}
	for r, v := range want {
		if id[r] != v {
			t.Errorf("identity register %d = %d, want %d (all: %v)", r, id[r], v, id)
		}
	}

	// The key FIFO, 0-based: status, acknowledged, boot, entry 0.
	seq, _, err := sim.Press(1, windowbus.KeyTransfer, windowbus.ArgService|3)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := sim.State(1)
	fifo := mbpoll(t, tool, "-a", "1", "-0", "-r", "16", "-c", "7", "-t", "3", path)
	wantFIFO := map[int]int{16: 0x8001, 17: 0, 18: int(st.Identity.Boot), 19: int(windowbus.KeyTransfer), 20: 0x8003, 21: int(seq)}
	for r, v := range wantFIFO {
		if fifo[r] != v {
			t.Errorf("FIFO register %d = %d, want %d (all: %v)", r, fifo[r], v, fifo)
		}
	}
	if _, ok := fifo[22]; !ok {
		t.Errorf("no age register in %v", fifo)
	}

	// FC06: acknowledge the press.
	mbpoll(t, tool, "-a", "1", "-0", "-r", "256", "-t", "4", path, strconv.Itoa(int(seq)))
	if st, _ := sim.State(1); st.Pending != 0 || st.Acked != seq {
		t.Errorf("after the FC06 ack: pending %d acked %d, want 0, %d", st.Pending, st.Acked, seq)
	}

	// FC16: length 2 and "OK" on the hall display.
	mbpoll(t, tool, "-a", "201", "-0", "-r", "272", "-t", "4", path, "2", "0x4F4B")
	if got := sim.Text(201); got != "OK" {
		t.Errorf("hall display shows %q after the FC16 write, want OK", got)
	}
	// FC03 reads it back.
	back := mbpoll(t, tool, "-a", "201", "-0", "-r", "272", "-c", "2", "-t", "4", path)
	if back[272] != 2 || back[273] != 0x4F4B {
		t.Errorf("text registers read back = %v, want 272: 2, 273: 0x4F4B", back)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []byte{0x04, 0x04, 0x06, 0x10, 0x03}; string(funcs) != string(want) {
		t.Errorf("function codes seen = % X, want % X", funcs, want)
	}
}
