package escpos

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/escpos/escpossim"
	"hallgw/firmware/serialport"
)

// startSim runs an emulated printer on a pty for the length of the test.
func startSim(t *testing.T, o escpossim.Opts) *escpossim.Printer {
	t.Helper()
	sim, err := escpossim.NewPTY(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		sim.Close()
		if err := <-done; err != nil {
			t.Errorf("emulator Run() = %v", err)
		}
	})
	return sim
}

// openPrinter opens path as the supervisor does and makes a Printer on it.
func openPrinter(t *testing.T, path string, o *Opts) (*Printer, error) {
	t.Helper()
	port, err := serialport.Open(path, serialport.Mode{Baud: 9600})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { port.Close() })
	return New(port, o)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // only against hanging
	t.Cleanup(cancel)
	return ctx
}

func TestPTYPrintTicket(t *testing.T) {
	for _, w := range []Width{Width58, Width80} {
		t.Run(w.String(), func(t *testing.T) {
			sim := startSim(t, escpossim.Opts{Baud: 9600, Width: int(w)})
			p, err := openPrinter(t, sim.Path(), &Opts{Width: w})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			tk := SampleTicket(testTime)
			tk.Holder = "张三"
			if err := p.PrintTicket(ctx, tk); err != nil {
				t.Fatalf("PrintTicket() = %v", err)
			}
			// The status read after printing went behind the ticket on the
			// wire, so the emulator has cut it already.
			ts := sim.Tickets()
			if len(ts) != 1 {
				t.Fatalf("emulator has %d tickets, want 1", len(ts))
			}
			got := ts[0]
			var number *escpossim.Run
			for i, l := range got.Lines {
				for j, r := range l.Runs {
					if r.Text == "A012" {
						number = &got.Lines[i].Runs[j]
					}
				}
			}
			wantSize := 3
			if w == Width58 {
				wantSize = 2
			}
			if number == nil || !number.Bold || number.Width != wantSize || number.Height != wantSize {
				t.Errorf("number run = %+v, want bold A012 at %d×", number, wantSize)
			}
			text := got.Text()
			for _, want := range []string{"社保医保综合窗口", "您前面还有 3 人等待", "预计等待 约 5-10 分钟", "办理窗口: 3, 5, 7",
				"取号人: 张*", "[QR: https://hall.example/t/A012]"} {
				if !strings.Contains(text, want) {
					t.Errorf("printed ticket lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "张三") {
				t.Errorf("printed ticket shows the unmasked name:\n%s", text)
			}
			if !got.Complete || got.Cut != escpossim.PartialCut || len(got.QR) != 1 || got.QR[0] != tk.QRData {
				t.Errorf("ticket complete %v, cut %v, QR %q; want complete partial cut with %q", got.Complete, got.Cut, got.QR, tk.QRData)
			}
			if c := sim.Counters(); c.Unknown != 0 || c.Garbled != 0 || c.StatusReplies != 8 {
				t.Errorf("emulator counters %+v, want nothing unknown or garbled and 8 status replies", c)
			}
		})
	}
}

func TestPTYStates(t *testing.T) {
	sim := startSim(t, escpossim.Opts{})
	p, err := openPrinter(t, sim.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	reset := func() {
		sim.SetPaper(escpossim.PaperOK)
		sim.SetCoverOpen(false)
		sim.SetOffline(false)
		sim.SetCutterError(false)
	}
	tests := []struct {
		name    string
		set     func()
		want    Status
		wantErr error // from PrintTicket
	}{
		{"ready", func() {}, Status{Online: true}, nil},
		{"paper near end prints", func() { sim.SetPaper(escpossim.PaperNearEnd) }, Status{Online: true, PaperNearEnd: true}, nil},
		{"paper end", func() { sim.SetPaper(escpossim.PaperEnd) }, Status{PaperEnd: true}, ErrPaperEnd},
		{"cover open", func() { sim.SetCoverOpen(true) }, Status{CoverOpen: true}, ErrCoverOpen},
		{"offline", func() { sim.SetOffline(true) }, Status{}, ErrOffline},
		{"cutter", func() { sim.SetCutterError(true) }, Status{CutterError: true, Error: true}, ErrCutter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset()
			tt.set()
			before := len(sim.Tickets())
			got, err := p.Status(ctx)
			if err != nil || got != tt.want {
				t.Errorf("Status() = %+v, %v; want %+v", got, err, tt.want)
			}
			err = p.PrintTicket(ctx, SampleTicket(testTime))
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("PrintTicket() = %v, want %v", err, tt.wantErr)
			}
			printed := len(sim.Tickets()) - before
			if want := map[bool]int{true: 1, false: 0}[tt.wantErr == nil]; printed != want {
				t.Errorf("emulator cut %d tickets, want %d", printed, want)
			}
		})
	}
	if c := sim.Counters(); c.Dropped != 0 {
		t.Errorf("emulator dropped %d lines: a ticket was sent to a printer that could not print it", c.Dropped)
	}
}

func TestPTYPaperRunsOutMidPrint(t *testing.T) {
	sim := startSim(t, escpossim.Opts{})
	p, err := openPrinter(t, sim.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	sim.RunOutAfter(5)
	err = p.PrintTicket(ctx, SampleTicket(testTime))
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, ErrPaperEnd) {
		t.Fatalf("PrintTicket() = %v, want ErrIncomplete and ErrPaperEnd", err)
	}
	if ts := sim.Tickets(); len(ts) != 1 || ts[0].Complete || len(ts[0].Lines) != 5 {
		t.Fatalf("emulator tickets = %+v, want one incomplete ticket of 5 lines", ts)
	}
	// Staff change the roll and reprint the kept ticket.
	sim.SetPaper(escpossim.PaperOK)
	if err := p.PrintTicket(ctx, SampleTicket(testTime)); err != nil {
		t.Fatalf("reprint = %v", err)
	}
	if ts := sim.Tickets(); len(ts) != 2 || !ts[1].Complete {
		t.Errorf("after reprint the emulator has %d tickets (last complete: %v), want 2, true", len(ts), ts[len(ts)-1].Complete)
	}
}

func TestPTYUnplugReplug(t *testing.T) {
	sim := startSim(t, escpossim.Opts{Baud: 9600})
	p, err := openPrinter(t, sim.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := p.PrintTicket(ctx, SampleTicket(testTime)); err != nil {
		t.Fatalf("PrintTicket() before unplug = %v", err)
	}
	old := sim.Path()
	if err := sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	if err := p.PrintTicket(ctx, SampleTicket(testTime)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("PrintTicket() on an unplugged printer = %v, want ErrDisconnected", err)
	}
	if _, err := p.Status(ctx); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Status() afterwards = %v, want ErrDisconnected", err)
	}
	path, err := sim.Replug()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unplugged %s, replugged as %s", old, path)

	// What the supervisor does: reopen the port and make a new Printer,
	// retrying until one ticket prints; the requirement is within 2 s.
	deadline, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	for {
		p2, err := openPrinter(t, path, nil)
		if err == nil {
			err = p2.PrintTicket(deadline, SampleTicket(testTime))
		}
		if err == nil {
			break
		}
		if deadline.Err() != nil {
			t.Fatalf("no ticket printed on the replugged port within 2 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("printed on the new port %v after replug", time.Since(start).Round(time.Millisecond))
	if ts := sim.Tickets(); len(ts) != 2 || !ts[1].Complete {
		t.Errorf("emulator has %d tickets, want 2 complete", len(ts))
	}
}

func TestPTYNoise(t *testing.T) {
	sim := startSim(t, escpossim.Opts{Baud: 9600})
	p, err := openPrinter(t, sim.Path(), &Opts{StatusTimeout: 200 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	sim.Garble(1)
	if s, err := p.Status(ctx); err != nil || s != (Status{Online: true}) {
		t.Errorf("Status() with one garbled reply = %+v, %v; want online", s, err)
	}
	if c := p.Counters(); c.Garbled != 1 {
		t.Errorf("Counters().Garbled = %d, want 1", c.Garbled)
	}
	sim.SetSilent(true)
	if _, err := p.Status(ctx); !errors.Is(err, ErrTimeout) {
		t.Errorf("Status() of a silent printer = %v, want ErrTimeout", err)
	}
	sim.SetSilent(false)
	if s, err := p.Status(ctx); err != nil || !s.CanPrint() {
		t.Errorf("Status() once the printer answers again = %+v, %v; want ready", s, err)
	}
	if c := p.Counters(); c.Timeouts < 2 {
		t.Errorf("Counters().Timeouts = %d, want at least 2", c.Timeouts)
	}
}

func TestPTYASB(t *testing.T) {
	sim := startSim(t, escpossim.Opts{})
	p, err := openPrinter(t, sim.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := p.EnableASB(ctx, ASBOnline|ASBError|ASBPaper); err != nil {
		t.Fatal(err)
	}
	if s, err := p.ReadASB(ctx, 5*time.Second); err != nil || s != (Status{Online: true}) {
		t.Errorf("first ASB block = %+v, %v; want online", s, err)
	}
	sim.SetPaper(escpossim.PaperNearEnd)
	if s, err := p.ReadASB(ctx, 5*time.Second); err != nil || s != (Status{Online: true, PaperNearEnd: true}) {
		t.Errorf("ASB block after near end = %+v, %v; want online, near end", s, err)
	}
	// A block that arrives while Status waits for a reply is noted, not misread.
	sim.SetCoverOpen(true)
	s, err := p.Status(ctx)
	if err != nil || !s.CoverOpen {
		t.Errorf("Status() = %+v, %v; want cover open", s, err)
	}
}
