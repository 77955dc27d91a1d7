package frontdesk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/drivers/simwire"
	"hallgw/drivers/windowbus"
	"hallgw/drivers/windowbus/bussim"
	"hallgw/drivers/windowbus/modbusrtu"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/hall"
)

// The ticket latency benchmark (issue 4 §3): from the kiosk page's
// request (POST api/tickets through the daemon's web server) to the first
// byte of the ticket arriving at the printer emulator, the journal's fsync
// included. The path is the paper policy of docs/printer.md: the
// printer's status (four DLE EOT queries), the ticket through the gateway
// (journaled and fsynced), then PrintTicket, which reads the status again
// before it sends the ticket.
//
// Loads: idle (the baseline: the bus polls, nobody presses), bus40 (40
// windows pressing call and finish continuously on a 9600-baud window bus,
// each press through the daemon and the journal: as many as the bus
// carries), gateway40 (40 windows pressing call or finish every 250 ms
// straight on the gateway, as fast as staff can press: some thirty times
// what the bus carries) and flood40 (the same back to back, as fast as the
// journal takes them: a stress case no hall produces). Tickets are issued
// meanwhile to keep the queues full; load-ops/s counts the journaled calls
// and finishes. The target is 20 ms on
// two cores; floor-ms is the wire time of the status read the paper policy
// makes before a ticket is issued, at the printer's baud, which no
// implementation of the policy can beat.
//
// Run with scripts/bench-ticket, or for example
//
//	go test -run '^$' -bench 'TicketLatency/bus40/115200' -benchtime 200x ./firmware/frontdesk/
func BenchmarkTicketLatency(b *testing.B) {
	for _, load := range []string{"idle", "bus40", "gateway40", "flood40"} {
		for _, baud := range []int{9600, 115200} {
			b.Run(fmt.Sprintf("%s/%d", load, baud), func(b *testing.B) { benchTicket(b, load, baud) })
		}
	}
}

const benchWindows = 40

// benchConfig is the default hall with 40 general windows.
func benchConfig(c *config.Config) {
	c.Windows = nil
	for i := 1; i <= benchWindows; i++ {
		c.Windows = append(c.Windows, config.Window{ID: fmt.Sprint(i), Number: i, Name: fmt.Sprintf("综合%d", i),
			Kind: "intake", Services: []string{"general", "social"}})
	}
	for i := range c.Services {
		c.Services[i].DailyCap = 0
	}
}

// tap watches what the printer emulator receives: the first ESC after it is
// armed is the first byte of a ticket (status queries are DLE EOT n and
// hold no ESC).
type tap struct {
	*simwire.PTY
	mu    sync.Mutex
	armed bool
	first time.Time
	got   chan struct{}
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.PTY.Read(p)
	if n > 0 {
		now := time.Now()
		t.mu.Lock()
		if t.armed && slices.Contains(p[:n], 0x1B) {
			t.armed, t.first = false, now
			close(t.got)
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *tap) arm() chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed, t.got = true, make(chan struct{})
	return t.got
}

func benchTicket(b *testing.B, load string, baud int) {
	h := newHall(b, benchConfig)
	pt, err := simwire.OpenPTY()
	if err != nil {
		b.Fatal(err)
	}
	tp := &tap{PTY: pt}
	printer := escpossim.New(tp, escpossim.Opts{Baud: baud, Width: 80})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		printer.Run(ctx)
	}()
	defer func() {
		cancel()
		pt.Close()
		wg.Wait()
	}()
	var terms []windowbus.Addr
	for i := 1; i <= benchWindows; i++ {
		terms = append(terms, windowbus.Addr(i))
	}
	bus := newTestBus(b, 9600, terms, []windowbus.Addr{201})
	bc := busConfig(bus.path(), 9600)
	for i := 1; i <= benchWindows; i++ {
		bc.Terminals = append(bc.Terminals, config.Terminal{Address: i, Window: fmt.Sprint(i)})
	}
	f := h.start(Options{Devices: config.Devices{
		Kiosks: []config.Kiosk{{ID: "1", PaperWidth: 80, Printer: &config.Port{Port: pt.Path, Baud: baud}}},
		Buses:  []config.Bus{bc},
	}})
	waitFor(b, "the printer up", func() bool { d, _ := h.d.Health.Get("kiosk-1/printer"); return d.State == health.Up })
	waitFor(b, "every terminal up", func() bool { return f.buses[0].Status().Up && allUp(h, terms) })
	ids := make([]string, benchWindows)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	h.open(ids...)
	refill := func(n int) {
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n / 20 {
					h.d.Gateway.Do(ctx, hall.Command{Op: hall.OpIssue, Service: "social", Source: "bench"})
				}
			}()
		}
		wg.Wait()
	}
	refill(400)

	// The load.
	stop := make(chan struct{})
	var loadWG sync.WaitGroup
	var loadOps atomic.Int64
	switch load {
	case "bus40":
		seen := newPressWaiter(b, f)
		for _, a := range terms {
			loadWG.Add(1)
			go func() {
				defer loadWG.Done()
				for k := windowbus.KeyCall; ; {
					select {
					case <-stop:
						return
					default:
					}
					seq, _, err := bus.sim.Press(a, k, 0)
					if err != nil {
						continue
					}
					seen.wait(a, seq, stop)
					loadOps.Add(1)
					if k == windowbus.KeyCall {
						k = windowbus.KeyFinish
					} else {
						k = windowbus.KeyCall
					}
				}
			}()
		}
	case "gateway40", "flood40":
		// gateway40: every window presses a key every 250 ms, as fast as
		// staff can, a hundred times what a hall does; flood40: back to
		// back, as fast as the journal takes them.
		pause := 250 * time.Millisecond
		if load == "flood40" {
			pause = 0
		}
		for _, w := range ids {
			loadWG.Add(1)
			go func() {
				defer loadWG.Done()
				for op := hall.OpCallNext; ; {
					select {
					case <-stop:
						return
					case <-time.After(pause):
					}
					if _, err := h.d.Gateway.Do(ctx, hall.Command{Op: op, Window: w, Source: "bench"}); err != nil {
						time.Sleep(10 * time.Millisecond) // the queue is empty: look again a little later
						continue
					}
					loadOps.Add(1)
					if op == hall.OpCallNext {
						op = hall.OpFinish
					} else {
						op = hall.OpCallNext
					}
				}
			}()
		}
	}
	loadWG.Add(1)
	go func() { // keep the queues full, one ticket at a time
		defer loadWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var waiting int
			h.d.Gateway.View(ctx, func(hl *hall.Hall) { waiting = hl.Services()[2].Waiting })
			if waiting >= 300 {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			h.d.Gateway.Do(ctx, hall.Command{Op: hall.OpIssue, Service: "social", Source: "bench"})
		}
	}()
	time.Sleep(time.Second) // the load settles

	lat := make([]time.Duration, 0, b.N)
	start := time.Now()
	ops0 := loadOps.Load()
	b.ResetTimer()
	for range b.N {
		got := tp.arm()
		t0 := time.Now()
		var t IssuedTicket
		if code := h.post("/kiosk/1/api/tickets", map[string]string{"service": "general"}, &t); code != http.StatusCreated || !t.Printed {
			b.Fatalf("POST api/tickets = %d %+v", code, t)
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			b.Fatal("no ticket byte reached the printer")
		}
		tp.mu.Lock()
		first := tp.first
		tp.mu.Unlock()
		// The read returns once the byte is in the pty; on the line it
		// has arrived one character time after it was sent.
		lat = append(lat, first.Add(simwire.CharTime(baud, simwire.F8N1)).Sub(t0))
	}
	b.StopTimer()
	rate := float64(loadOps.Load()-ops0) / time.Since(start).Seconds()
	close(stop)
	loadWG.Wait()

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	// One status read of four DLE EOT queries: 3 bytes out, 1 back.
	floor := 4 * simwire.FrameTime(4, baud, simwire.F8N1)
	b.ReportMetric(ms(quantile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(quantile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(20, "target-ms")
	b.ReportMetric(ms(floor), "floor-ms")
	b.ReportMetric(rate, "load-ops/s")
}

func allUp(h *testHall, terms []windowbus.Addr) bool {
	b := &Bus{dev: serialDev{id: "bus-1"}}
	for _, a := range terms {
		if d, _ := h.d.Health.Get(b.termID(a)); d.State != health.Up {
			return false
		}
	}
	return true
}

// pressWaiter hands press outcomes to the goroutines waiting for them.
type pressWaiter struct {
	mu    sync.Mutex
	ch    map[[2]uint16]chan PressResult
	early map[[2]uint16]PressResult
}

func newPressWaiter(t testing.TB, f *Frontdesk) *pressWaiter {
	w := &pressWaiter{ch: map[[2]uint16]chan PressResult{}, early: map[[2]uint16]PressResult{}}
	t.Cleanup(f.OnPress(func(r PressResult) {
		k := [2]uint16{uint16(r.Addr), r.Seq}
		w.mu.Lock()
		defer w.mu.Unlock()
		if ch, ok := w.ch[k]; ok {
			delete(w.ch, k)
			ch <- r
			return
		}
		w.early[k] = r
	}))
	return w
}

// wait returns the outcome of the press seq at a, or false at stop.
func (w *pressWaiter) wait(a windowbus.Addr, seq uint16, stop chan struct{}) (PressResult, bool) {
	k := [2]uint16{uint16(a), seq}
	w.mu.Lock()
	if r, ok := w.early[k]; ok {
		delete(w.early, k)
		w.mu.Unlock()
		return r, true
	}
	ch := make(chan PressResult, 1)
	w.ch[k] = ch
	w.mu.Unlock()
	select {
	case r := <-ch:
		return r, true
	case <-stop:
		return PressResult{}, false
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// BenchmarkPressToDisplayDaemon is the window bus's press-to-display
// benchmark (drivers/windowbus BenchmarkPressToDisplay) through the whole
// daemon: a call pressed at the emulator travels the bus, becomes a hall
// command journaled with fsync, and its answer is written to the window's
// bar and the hall display; the latency ends when the emulator has received
// both. 40 terminals and a hall display, Modbus RTU; each call is pressed
// at a random terminal at a random moment, after the bus has written the
// bars of the sign-ins (a window still serving is finished on the gateway
// first). The floor is the driver benchmark's: one full poll cycle plus the
// two display frames.
//
//	go test -run '^$' -bench 'PressToDisplayDaemon/9600' -benchtime 100x ./firmware/frontdesk/
func BenchmarkPressToDisplayDaemon(b *testing.B) {
	for _, baud := range []int{9600, 115200} {
		b.Run(fmt.Sprint(baud), func(b *testing.B) { benchPressDaemon(b, baud) })
	}
}

func benchPressDaemon(b *testing.B, baud int) {
	h := newHall(b, benchConfig)
	var terms []windowbus.Addr
	for i := 1; i <= benchWindows; i++ {
		terms = append(terms, windowbus.Addr(i))
	}
	type shown struct {
		addr windowbus.Addr
		text string
		at   time.Time
	}
	var mu sync.Mutex
	var changes []shown
	p, err := simwire.OpenPTY()
	if err != nil {
		b.Fatal(err)
	}
	sim, err := bussim.New(p.Master, bussim.Opts{Baud: baud, Terminals: terms, Displays: []windowbus.Addr{201}, Seed: 1,
		OnShow: func(c bussim.Change) {
			mu.Lock()
			changes = append(changes, shown{c.Addr, c.Text, c.At})
			mu.Unlock()
		}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.Run(ctx)
	}()
	defer func() {
		cancel()
		p.Close()
		<-done
	}()
	bc := busConfig(p.Path, baud)
	for i := 1; i <= benchWindows; i++ {
		bc.Terminals = append(bc.Terminals, config.Terminal{Address: i, Window: fmt.Sprint(i)})
	}
	f := h.start(Options{Devices: config.Devices{Buses: []config.Bus{bc}}})
	seen := watchPresses(b, f)
	waitFor(b, "every terminal up", func() bool { return allUp(h, terms) })
	ids := make([]string, benchWindows)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	h.open(ids...)
	for range 2*b.N + 10 {
		h.d.Gateway.Do(ctx, hall.Command{Op: hall.OpIssue, Service: "general", Source: "bench"})
	}
	// The sign-ins rewrite every bar and its mode, one queued write between
	// two polls: measure once they are all out, over an idle bus.
	waitFor(b, "every bar written after the sign-ins", func() bool {
		for _, a := range terms {
			st, _ := sim.State(a)
			if st.Text != fmt.Sprintf("%d号窗口 综合%d", a, a) || st.Settings != (windowbus.Settings{Mode: windowbus.ModeServing, Brightness: 100}) {
				return false
			}
		}
		return true
	})
	c0 := f.buses[0].master().Stats().Cycles
	waitFor(b, "two idle cycles", func() bool { return f.buses[0].master().Stats().Cycles >= c0+2 })

	rng := rand.New(rand.NewPCG(uint64(baud), 1))
	lat := make([]time.Duration, 0, b.N)
	faults0 := f.buses[0].Status().Faults
	busy := map[windowbus.Addr]bool{}
	b.ResetTimer()
	for range b.N {
		a := terms[rng.IntN(len(terms))]
		if busy[a] {
			// Finish first, on the gateway: a finish pressed on the keypad
			// would make the call wait a whole cycle for the next poll of
			// the same terminal.
			if _, err := h.d.Gateway.Do(ctx, hall.Command{Op: hall.OpFinish, Window: fmt.Sprint(a), Source: "bench"}); err != nil {
				b.Fatal(err)
			}
			busy[a] = false
		}
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		seq, at, err := sim.Press(a, windowbus.KeyCall, 0)
		if err != nil {
			b.Fatal(err)
		}
		r := seen.wait(b, a, seq)
		if r.Err != nil {
			b.Fatalf("call at %d: %v", a, r.Err)
		}
		busy[a] = true
		var barAt, hallAt time.Time
		waitFor(b, "both displays", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range changes {
				if c.at.Before(at) {
					continue
				}
				if c.addr == a && c.text == r.Text && barAt.IsZero() {
					barAt = c.at
				}
				if c.addr == 201 && strings.Contains(c.text, r.Text) && hallAt.IsZero() {
					hallAt = c.at
				}
			}
			return !barAt.IsZero() && !hallAt.IsZero()
		})
		end := barAt
		if hallAt.After(end) {
			end = hallAt
		}
		lat = append(lat, end.Sub(at))
		mu.Lock()
		changes = changes[:0]
		mu.Unlock()
	}
	b.StopTimer()
	faults := f.buses[0].Status().Faults
	slices.Sort(lat)
	pr := modbusrtu.Protocol{}
	bar := gbLen("A000 请到40号窗口")
	hallBytes := 4*bar + 3
	floor := time.Duration(benchWindows)*pr.Airtime(windowbus.OpPoll, 0, baud) +
		pr.Airtime(windowbus.OpShow, bar, baud) + pr.Airtime(windowbus.OpShow, hallBytes, baud)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p50, p99 := quantile(lat, 0.50), quantile(lat, 0.99)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(ms(floor), "floor-ms")
	b.ReportMetric(float64(p50)/float64(floor), "p50/floor")
	b.ReportMetric(float64(p99)/float64(floor), "p99/floor")
	b.ReportMetric(float64(faults-faults0), "faults")
}
