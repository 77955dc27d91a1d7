package windowbus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hallgw/drivers/serialio"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/drivers/windowbus/vendor"
	"hallgw/firmware/serialport"
)

// The press-to-display benchmark: 40 terminals and one hall display on an
// emulated line with true wire timing, behind a real pty. Each press is made
// at the emulator, taken by a consumer that runs a handler (an fsync to a
// journal file, or nothing) and writes the answer to the terminal's bar and
// the hall display; its latency ends when the emulator has received both
// writes. The physical floor is one full poll cycle plus the two display
// frames, computed from frame sizes and baud (Protocol.Airtime). With
// burst set, every five cycles a broadcast rewrites all 40 bars while the
// presses go on; the floor then adds the 40 bar writes, which share the
// cycle with the polls.
//
// Run with scripts/bench-bus, or for example
//
//	go test -run '^$' -bench 'PressToDisplay/modbus/9600/fsync$' -benchtime 150x ./drivers/windowbus/
func BenchmarkPressToDisplay(b *testing.B) {
	for _, proto := range protocols {
		for _, baud := range []int{9600, 115200} {
			for _, handler := range []string{"fsync", "noop"} {
				b.Run(fmt.Sprintf("%s/%d/%s", proto, baud, handler), func(b *testing.B) {
					benchPress(b, proto, baud, handler, false)
				})
			}
			b.Run(fmt.Sprintf("%s/%d/fsync+burst40", proto, baud), func(b *testing.B) {
				benchPress(b, proto, baud, "fsync", true)
			})
		}
	}
}

const (
	benchTerminals = 40
	hallAddr       = windowbus.Addr(201)
	hallLines      = 4 // latest calls on the hall display
)

// pending is one press waiting for its displays.
type pending struct {
	addr          windowbus.Addr
	at            time.Time
	text          string
	barAt, hallAt time.Time
	done          chan struct{}
}

// tracker matches display writes seen by the emulator to presses.
type tracker struct {
	mu      sync.Mutex
	byPress map[[2]uint16]*pending // (addr, seq)
	byText  map[string]*pending
}

func (tr *tracker) shown(c bussim.Change) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if c.Addr == hallAddr {
		for _, line := range strings.Split(c.Text, "\n") {
			if p := tr.byText[line]; p != nil && p.hallAt.IsZero() {
				p.hallAt = c.At
				tr.check(p)
			}
		}
		return
	}
	if p := tr.byText[c.Text]; p != nil && p.addr == c.Addr && p.barAt.IsZero() {
		p.barAt = c.At
		tr.check(p)
	}
}

func (tr *tracker) check(p *pending) {
	if !p.barAt.IsZero() && !p.hallAt.IsZero() {
		delete(tr.byText, p.text)
		close(p.done)
	}
}

func benchPress(b *testing.B, proto string, baud int, handlerName string, burst bool) {
	tr := &tracker{byPress: map[[2]uint16]*pending{}, byText: map[string]*pending{}}
	var terms []windowbus.Addr
	for a := windowbus.Addr(1); a <= benchTerminals; a++ {
		terms = append(terms, a)
	}
	gaps := &pollGaps{last: map[windowbus.Addr]time.Time{}}
	r := newRig(b, rigOpts{proto: proto, baud: baud, terminals: terms, displays: []windowbus.Addr{hallAddr},
		// The emulator shares a loaded test machine: a reply it sends late
		// should cost its lateness, not a whole cycle as a timeout would.
		master: func(o *windowbus.Opts) { o.ReplyTimeout = 250 * time.Millisecond },
		sim: func(o *bussim.Opts) {
			o.OnShow = tr.shown
			o.Trace = func(rx bool, f []byte) { gaps.frame(proto, rx, f) }
		}})

	// The handler the daemon runs on each press: journal with fsync first.
	handler := func(windowbus.Press) {}
	if handlerName == "fsync" {
		f, err := os.Create(filepath.Join(b.TempDir(), "journal"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		handler = func(p windowbus.Press) {
			fmt.Fprintf(f, "%d %d %d %d %d\n", p.Addr, p.Seq, p.Key, p.Arg, p.At.UnixNano())
			if err := f.Sync(); err != nil {
				b.Error(err)
			}
		}
	}

	var delivered, unique atomic.Int64
	seen := map[[2]uint16]int{}
	var ticket atomic.Int64
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		var latest []string
		for p := range r.m.Presses() {
			handler(p)
			n := ticket.Add(1)
			text := fmt.Sprintf("%c%03d 请到%d号窗口", 'A'+rune(n/1000%26), n%1000, p.Window)
			tr.mu.Lock()
			key := [2]uint16{uint16(p.Addr), p.Seq}
			seen[key]++
			delivered.Add(1)
			if seen[key] == 1 {
				unique.Add(1)
			}
			if pp := tr.byPress[key]; pp != nil && pp.text == "" {
				pp.text = text
				tr.byText[text] = pp
			}
			tr.mu.Unlock()
			latest = append(latest, text)
			if len(latest) > hallLines {
				latest = latest[1:]
			}
			r.m.ShowNow(p.Addr, text)
			r.m.ShowNow(hallAddr, strings.Join(latest, "\n"))
		}
	}()

	// Warm up: every device identified, its display restored after the
	// emulator's power-up, then the idle cycle measured over 3 cycles.
	waitWithin(b, time.Minute, "all devices up", func() bool {
		for _, h := range r.m.Health() {
			if !h.Up {
				return false
			}
		}
		for _, a := range terms {
			if st, _ := r.sim.State(a); st.Restarted {
				return false
			}
		}
		return r.m.Stats().Cycles >= 2
	})
	s0 := r.m.Stats()
	waitWithin(b, time.Minute, "3 idle cycles", func() bool { return r.m.Stats().Cycles >= s0.Cycles+3 })
	s1 := r.m.Stats()
	idleCycle := (s1.CycleTime - s0.CycleTime) / time.Duration(s1.Cycles-s0.Cycles)

	// The burst leaves alone the bar whose press is being measured: a later
	// Show to the same address would replace the answer (latest text wins),
	// which the hall logic would never ask for.
	var busyMu sync.Mutex
	var busy windowbus.Addr
	stopBurst := make(chan struct{})
	var burstWG sync.WaitGroup
	if burst {
		burstWG.Add(1)
		go func() {
			defer burstWG.Done()
			tick := time.NewTicker(5 * r.m.Stats().CycleFloor)
			defer tick.Stop()
			for i := 0; i < 10000; i++ {
				select {
				case <-stopBurst:
					return
				case <-tick.C:
				}
				busyMu.Lock()
				for _, a := range terms {
					if a != busy {
						r.m.Show(a, fmt.Sprintf("窗口%d 暂停服务 %02d", a, i%100))
					}
				}
				busyMu.Unlock()
			}
		}()
	}

	faults0 := faults(r.m.Health())
	gaps.start()
	rng := rand.New(rand.NewPCG(uint64(baud), uint64(len(proto))))
	lat := make([]time.Duration, 0, b.N)
	var in int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := terms[rng.IntN(len(terms))]
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		busyMu.Lock()
		busy = a
		busyMu.Unlock()
		tr.mu.Lock()
		seq, at, err := r.sim.Press(a, windowbus.KeyCall, 0)
		if err != nil {
			tr.mu.Unlock()
			b.Fatal(err)
		}
		in++
		p := &pending{addr: a, at: at, done: make(chan struct{})}
		tr.byPress[[2]uint16{uint16(a), seq}] = p
		tr.mu.Unlock()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			b.Fatalf("press %d at terminal %d never reached its displays", seq, a)
		}
		end := p.barAt
		if p.hallAt.After(end) {
			end = p.hallAt
		}
		lat = append(lat, end.Sub(p.at))
	}
	b.StopTimer()
	close(stopBurst)
	burstWG.Wait()

	// Every press acknowledged, exactly once.
	waitFor(b, "FIFOs empty", func() bool {
		for _, a := range terms {
			if st, _ := r.sim.State(a); st.Pending != 0 {
				return false
			}
		}
		return true
	})
	stats := r.m.Stats()
	maxGap := gaps.stop()
	timeouts := faults(r.m.Health()) - faults0
	r.close()
	<-consumerDone
	lost := int64(in) - unique.Load()
	dups := delivered.Load() - unique.Load()
	if lost != 0 || dups != 0 {
		b.Errorf("presses in %d, delivered %d (unique %d): lost %d, duplicated %d", in, delivered.Load(), unique.Load(), lost, dups)
	}

	pr := protocolOf(proto)
	bar := len(mustEncode(b, "A000 请到40号窗口"))
	hall := hallLines*bar + hallLines - 1
	floor := stats.CycleFloor + pr.Airtime(windowbus.OpShow, bar, baud) + pr.Airtime(windowbus.OpShow, hall, baud)
	if burst {
		// The burst's 40 bar writes share the cycle with the polls.
		floor += benchTerminals * pr.Airtime(windowbus.OpShow, len(mustEncode(b, "窗口40 暂停服务 00")), baud)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := quantile(lat, 0.50), quantile(lat, 0.99)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(ms(floor), "floor-ms")
	b.ReportMetric(float64(p50)/float64(floor), "p50/floor")
	b.ReportMetric(float64(p99)/float64(floor), "p99/floor")
	b.ReportMetric(ms(idleCycle), "cycle-ms")
	b.ReportMetric(ms(stats.CycleFloor), "cyclefloor-ms")
	b.ReportMetric(float64(idleCycle)/float64(stats.CycleFloor), "cycle/floor")
	b.ReportMetric(ms(maxGap), "maxgap-ms")
	b.ReportMetric(float64(in), "presses")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dups), "dups")
	b.ReportMetric(float64(timeouts), "faults")
}

// faults sums the failed transactions of all devices.
func faults(hs []windowbus.Health) uint64 {
	var n uint64
	for _, h := range hs {
		n += h.Timeouts + h.ChecksumErrors + h.Garbled
	}
	return n
}

// pollGaps measures, at the emulator, the longest interval between two
// key polls of the same terminal while the presses run.
type pollGaps struct {
	mu   sync.Mutex
	on   bool
	last map[windowbus.Addr]time.Time
	max  time.Duration
}

func (g *pollGaps) frame(proto string, rx bool, f []byte) {
	if !rx {
		return
	}
	var a windowbus.Addr
	switch proto {
	case "modbus":
		req, _, err := modbusrtu.DecodeRequest(f)
		if err != nil || req.Func != modbusrtu.FuncReadInput || req.Addr != modbusrtu.RegKeyCount || req.Count != 1 {
			return
		}
		a = windowbus.Addr(req.Unit)
	default:
		fr, _, err := vendor.Decode(f)
		if err != nil || fr.Cmd != vendor.CmdPoll {
			return
		}
		a = windowbus.Addr(fr.Addr)
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if last, ok := g.last[a]; ok && g.on && now.Sub(last) > g.max {
		g.max = now.Sub(last)
	}
	g.last[a] = now
}

func (g *pollGaps) start() {
	g.mu.Lock()
	g.on = true
	g.mu.Unlock()
}

func (g *pollGaps) stop() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.on = false
	return g.max
}

// quantile returns the nearest-rank q-quantile of sorted d.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

func mustEncode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := windowbus.EncodeText(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkRawPollCycle is the baseline for the cycle figures: a minimal
// master (the package's own codec, direct port reads, no scheduler, no
// library) polling the same 40 emulated terminals through the same pty. Its
// cycle/floor shows what the emulator and pty cost; BenchmarkPressToDisplay's
// cycle over this one shows what the Master adds.
func BenchmarkRawPollCycle(b *testing.B) {
	for _, baud := range []int{9600, 115200} {
		b.Run(fmt.Sprintf("modbus/%d", baud), func(b *testing.B) {
			p, err := simwire.OpenPTY()
			if err != nil {
				b.Fatal(err)
			}
			var terms []windowbus.Addr
			for a := windowbus.Addr(1); a <= benchTerminals; a++ {
				terms = append(terms, a)
			}
			sim, err := bussim.New(p, bussim.Opts{Baud: baud, Terminals: terms})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go sim.Run(ctx)
			port, err := serialport.Open(p.Path, serialport.Mode{Baud: baud, ReadTimeout: 20 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { cancel(); port.Close(); p.Close() }()
			reqs := make([][]byte, len(terms))
			for i, a := range terms {
				reqs[i], _ = modbusrtu.Request{Unit: byte(a), Func: modbusrtu.FuncReadInput, Addr: modbusrtu.RegKeyCount, Count: 1}.Encode()
			}
			reply := make([]byte, 7)
			gap := modbusrtu.Silence(baud)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for _, req := range reqs {
					if _, err := port.Write(req); err != nil {
						b.Fatal(err)
					}
					if _, err := serialio.ReadFull(port, reply, time.Now().Add(time.Second), nil); err != nil {
						b.Fatal(err)
					}
					simwire.SleepUntil(time.Now().Add(gap))
				}
			}
			cycle := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			floor := time.Duration(benchTerminals) * modbusrtu.Protocol{}.Airtime(windowbus.OpPoll, 0, baud)
			b.ReportMetric(float64(cycle)/float64(time.Millisecond), "cycle-ms")
			b.ReportMetric(float64(floor)/float64(time.Millisecond), "cyclefloor-ms")
			b.ReportMetric(float64(cycle)/float64(floor), "cycle/floor")
		})
	}
}
