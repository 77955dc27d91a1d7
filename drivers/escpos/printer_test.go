package escpos

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3"
)

var _ conn.Resource = (*Printer)(nil)

func queries(n int) []byte {
	var out []byte
	for range n {
		for q := byte(1); q <= 4; q++ {
			out = append(out, 0x10, 0x04, q)
		}
	}
	return out
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		o    Opts
	}{
		{"width 76", Opts{Width: 76}},
		{"baud 100", Opts{Baud: 100}},
		{"encoding", Opts{Encoding: 7}},
		{"negative timeout", Opts{StatusTimeout: -time.Second}},
		{"huge timeout", Opts{StatusTimeout: time.Hour}},
		{"retries 6", Opts{Retries: 6}},
		{"negative retries", Opts{Retries: -1}},
		{"negative drain", Opts{DrainTime: -1}},
		{"huge chunk", Opts{WriteChunk: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := New(newFakeDev(), &tt.o); !errors.Is(err, ErrInvalid) || p != nil {
				t.Errorf("New(%+v) = %v, %v; want nil, ErrInvalid", tt.o, p, err)
			}
		})
	}
	if _, err := New(nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(nil) error = %v, want ErrInvalid", err)
	}
	p, err := New(newFakeDev(), &Opts{Width: Width58})
	if err != nil {
		t.Fatal(err)
	}
	if p.opts.StatusTimeout != DefaultOpts.StatusTimeout || p.opts.WriteChunk != DefaultOpts.WriteChunk || p.opts.Retries != 0 {
		t.Errorf("New(&Opts{Width58}) opts = %+v, want zero fields defaulted and Retries 0", p.opts)
	}
}

func TestString(t *testing.T) {
	p, _ := newFakePrinter(t, Opts{Width: Width58})
	q, err := New(struct{ io.ReadWriter }{newFakeDev()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    *Printer
		want string
	}{
		{p, "escpos printer on /dev/fake0 (58 mm)"},
		{q, "escpos printer (80 mm)"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestPrinterStatus(t *testing.T) {
	tests := []struct {
		name   string
		status [4]byte
		want   Status
	}{
		{"ready", [4]byte{0x12, 0x12, 0x12, 0x12}, Status{Online: true}},
		{"near end", [4]byte{0x12, 0x12, 0x12, 0x1E}, Status{Online: true, PaperNearEnd: true}},
		{"paper end", [4]byte{0x1A, 0x32, 0x12, 0x72}, Status{PaperEnd: true}},
		{"cover open", [4]byte{0x1A, 0x16, 0x12, 0x12}, Status{CoverOpen: true}},
		{"cutter", [4]byte{0x1A, 0x52, 0x1A, 0x12}, Status{CutterError: true, Error: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, d := newFakePrinter(t, DefaultOpts)
			d.status = tt.status
			got, err := p.Status(context.Background())
			if err != nil || got != tt.want {
				t.Fatalf("Status() = %+v, %v; want %+v", got, err, tt.want)
			}
			if !bytes.Equal(d.written, queries(1)) {
				t.Errorf("wrote % X, want DLE EOT 1–4", d.written)
			}
			if last, at := p.LastStatus(); last != tt.want || !at.Equal(d.clock.t) {
				t.Errorf("LastStatus() = %+v, %v; want %+v, %v", last, at, tt.want, d.clock.t)
			}
		})
	}
}

func TestPrinterStatusFaults(t *testing.T) {
	tests := []struct {
		name     string
		opts     Opts
		script   [][]byte
		silent   bool
		wantErr  error
		want     Status
		counters Counters
	}{
		{"garbled reply retried", DefaultOpts, [][]byte{{0xFF}}, false, nil, Status{Online: true},
			Counters{StatusQueries: 5, Garbled: 1, Timeouts: 1, BytesWritten: 15}},
		{"noise before the reply", DefaultOpts, [][]byte{{0x00, 0x80, 0x12}}, false, nil, Status{Online: true},
			Counters{StatusQueries: 4, Garbled: 2, BytesWritten: 12}},
		{"ASB block before the reply", DefaultOpts, [][]byte{{0x18, 0x00, 0x0C, 0x00, 0x12}}, false, nil, Status{Online: true},
			Counters{StatusQueries: 4, ASBBlocks: 1, BytesWritten: 12}},
		{"garbled ASB block", DefaultOpts, [][]byte{{0x10, 0x80, 0x00, 0x00}}, false, nil, Status{Online: true},
			Counters{StatusQueries: 5, Garbled: 4, Timeouts: 1, BytesWritten: 15}},
		{"garbled twice", DefaultOpts, [][]byte{{0xFF}, {0xFE}}, false, ErrGarbled, Status{},
			Counters{StatusQueries: 2, Garbled: 2, Timeouts: 2, BytesWritten: 6}},
		{"garbled without retries", Opts{Retries: 0}, [][]byte{{0xFF}}, false, ErrGarbled, Status{},
			Counters{StatusQueries: 1, Garbled: 1, Timeouts: 1, BytesWritten: 3}},
		{"silent", DefaultOpts, nil, true, ErrTimeout, Status{},
			Counters{StatusQueries: 2, Timeouts: 2, BytesWritten: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, d := newFakePrinter(t, tt.opts)
			d.script = tt.script
			if tt.silent {
				d.script = [][]byte{{}, {}, {}, {}, {}, {}, {}, {}}
			}
			start := d.clock.t
			got, err := p.Status(context.Background())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || got != tt.want {
				t.Fatalf("Status() = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
			if c := p.Counters(); c != tt.counters {
				t.Errorf("Counters() = %+v, want %+v", c, tt.counters)
			}
			// Bounded on the injected clock: at most (1+retries) timeouts and drains per query.
			limit := 4 * time.Duration(1+p.opts.Retries) * (p.opts.StatusTimeout + p.opts.DrainTime + 20*time.Millisecond)
			if spent := d.clock.t.Sub(start); spent > limit {
				t.Errorf("Status() took %v of fake time, want at most %v", spent, limit)
			}
		})
	}
}

func TestLateReplyDrained(t *testing.T) {
	p, d := newFakePrinter(t, DefaultOpts)
	d.status = [4]byte{0x12, 0x12, 0x12, 0x12}
	d.script = [][]byte{{}} // DLE EOT 1 goes unanswered in time...
	// ...and its reply ("offline") turns up once the driver has given up.
	d.late, d.lateAt = []byte{0x1A}, d.clock.t.Add(p.opts.StatusTimeout+5*time.Millisecond)
	got, err := p.Status(context.Background())
	if err != nil || got != (Status{Online: true}) {
		t.Errorf("Status() = %+v, %v; want online: the late reply must be drained, not read as the answer", got, err)
	}
	if c := p.Counters(); c.Timeouts != 1 || c.StatusQueries != 5 {
		t.Errorf("Counters() = %+v, want 1 timeout, 5 queries", c)
	}
}

func TestPrintTicketRefuses(t *testing.T) {
	tests := []struct {
		name   string
		status [4]byte
		want   []error
	}{
		{"paper end", [4]byte{0x1A, 0x32, 0x12, 0x72}, []error{ErrPaperEnd, ErrOffline}},
		{"cover open", [4]byte{0x1A, 0x16, 0x12, 0x12}, []error{ErrCoverOpen, ErrOffline}},
		{"offline", [4]byte{0x1A, 0x12, 0x12, 0x12}, []error{ErrOffline}},
		{"cutter", [4]byte{0x1A, 0x52, 0x1A, 0x12}, []error{ErrCutter, ErrOffline}},
		{"overheat", [4]byte{0x12, 0x12, 0x52, 0x12}, []error{ErrRecoverable}},
		{"unrecoverable", [4]byte{0x1A, 0x52, 0x32, 0x12}, []error{ErrUnrecoverable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, d := newFakePrinter(t, DefaultOpts)
			d.status = tt.status
			err := p.PrintTicket(context.Background(), SampleTicket(testTime))
			var se *StatusError
			if !errors.As(err, &se) || se.AfterPrint {
				t.Fatalf("PrintTicket() error = %v, want a *StatusError before printing", err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("PrintTicket() error = %v, want it to match %v", err, w)
				}
			}
			if errors.Is(err, ErrIncomplete) {
				t.Errorf("PrintTicket() error = %v matches ErrIncomplete, want not", err)
			}
			if !bytes.Equal(d.written, queries(1)) {
				t.Errorf("wrote % X, want only DLE EOT 1–4", d.written)
			}
		})
	}
}

func TestPrintTicket(t *testing.T) {
	p, d := newFakePrinter(t, Opts{Width: Width58, WriteChunk: 64})
	d.status[3] = 0x1E // near end: still prints
	tk := SampleTicket(testTime)
	tk.Holder = "𠀀*" // a four-byte character is substituted and counted
	if err := p.PrintTicket(context.Background(), tk); err != nil {
		t.Fatalf("PrintTicket() = %v, want nil", err)
	}
	want, _ := NewBuilder(GB18030).Ticket(tk, Width58).Bytes()
	wantWire := append(append(queries(1), want...), queries(1)...)
	if !bytes.Equal(d.written, wantWire) {
		t.Errorf("wire =\n%swant\n%s", hexdump(d.written), hexdump(wantWire))
	}
	c := p.Counters()
	if c.Tickets != 1 || c.Substituted != 1 || c.BytesWritten != uint64(len(wantWire)) {
		t.Errorf("Counters() = %+v, want 1 ticket, 1 substituted, %d bytes", c, len(wantWire))
	}
	if s, _ := p.LastStatus(); !s.PaperNearEnd {
		t.Errorf("LastStatus() = %+v, want paper near end reported", s)
	}
}

func TestPrintTicketPaperRunsOut(t *testing.T) {
	p, d := newFakePrinter(t, DefaultOpts)
	d.onWrite = func(d *fakeDev, b []byte) {
		if bytes.Contains(b, []byte{0x1D, 0x56, 0x42}) {
			d.status = [4]byte{0x1A, 0x32, 0x12, 0x72}
		}
	}
	err := p.PrintTicket(context.Background(), SampleTicket(testTime))
	var se *StatusError
	if !errors.As(err, &se) || !se.AfterPrint || !errors.Is(err, ErrIncomplete) || !errors.Is(err, ErrPaperEnd) {
		t.Fatalf("PrintTicket() error = %v, want AfterPrint *StatusError matching ErrIncomplete and ErrPaperEnd", err)
	}
	if c := p.Counters(); c.Tickets != 0 {
		t.Errorf("Counters().Tickets = %d, want 0", c.Tickets)
	}
}

func TestPrintTicketInvalidSendsNothing(t *testing.T) {
	p, d := newFakePrinter(t, DefaultOpts)
	err := p.PrintTicket(context.Background(), Ticket{IssuedAt: testTime})
	if !errors.Is(err, ErrInvalid) || len(d.written) != 0 {
		t.Errorf("PrintTicket(no number) = %v after writing %d bytes; want ErrInvalid, nothing written", err, len(d.written))
	}
}

func TestDisconnected(t *testing.T) {
	tests := []struct {
		name     string
		writeErr error
		readErr  error
		op       func(p *Printer) error
		wantInc  bool
	}{
		{"write EIO", syscall.EIO, nil, func(p *Printer) error { return p.Print(context.Background(), []byte("x")) }, false},
		{"read EOF", nil, io.EOF, func(p *Printer) error { _, err := p.Status(context.Background()); return err }, false},
		{"read EIO", nil, syscall.EIO, func(p *Printer) error { _, err := p.Status(context.Background()); return err }, false},
		{"vanishes mid-ticket", nil, nil, func(p *Printer) error {
			return p.PrintTicket(context.Background(), SampleTicket(testTime))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, d := newFakePrinter(t, Opts{WriteChunk: 16})
			d.writeErr, d.readErr = tt.writeErr, tt.readErr
			if tt.wantInc {
				d.onWrite = func(d *fakeDev, b []byte) { d.writeErr = syscall.EIO }
			}
			err := tt.op(p)
			if !errors.Is(err, ErrDisconnected) || errors.Is(err, ErrIncomplete) != tt.wantInc {
				t.Fatalf("error = %v, want ErrDisconnected (incomplete %v)", err, tt.wantInc)
			}
			// The Printer stays failed without touching the port again.
			d.writeErr, d.readErr = nil, nil
			n := len(d.written)
			if _, err := p.Status(context.Background()); !errors.Is(err, ErrDisconnected) || len(d.written) != n {
				t.Errorf("Status() after failure = %v (wrote %d bytes), want ErrDisconnected and no traffic", err, len(d.written)-n)
			}
			if c := p.Counters(); c.Disconnects != 1 {
				t.Errorf("Counters().Disconnects = %d, want 1", c.Disconnects)
			}
		})
	}
}

func TestHaltStopsPrint(t *testing.T) {
	p, d := newFakePrinter(t, Opts{WriteChunk: 8})
	d.onWrite = func(d *fakeDev, b []byte) {
		if len(d.written) == 8 {
			p.Halt()
		}
	}
	data := bytes.Repeat([]byte("A"), 64)
	if err := p.Print(context.Background(), data); !errors.Is(err, ErrHalted) {
		t.Fatalf("Print() = %v, want ErrHalted", err)
	}
	if len(d.written) != 8 {
		t.Errorf("wrote %d bytes before halting, want 8", len(d.written))
	}
	d.onWrite = nil
	if err := p.Print(context.Background(), data); err != nil || len(d.written) != 72 {
		t.Errorf("Print() after Halt = %v with %d bytes written, want nil, 72", err, len(d.written))
	}
}

func TestContextCancelled(t *testing.T) {
	p, d := newFakePrinter(t, DefaultOpts)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.PrintTicket(ctx, SampleTicket(testTime)); !errors.Is(err, context.Canceled) || len(d.written) != 0 {
		t.Errorf("PrintTicket(cancelled) = %v after %d bytes, want context.Canceled and nothing sent", err, len(d.written))
	}
}

func TestASB(t *testing.T) {
	p, d := newFakePrinter(t, DefaultOpts)
	if err := p.EnableASB(context.Background(), ASBOnline|ASBError|ASBPaper); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x1D, 0x61, 0x0E}; !bytes.Equal(d.written, want) {
		t.Errorf("EnableASB wrote % X, want % X", d.written, want)
	}
	if err := p.EnableASB(context.Background(), 0x10); !errors.Is(err, ErrInvalid) {
		t.Errorf("EnableASB(0x10) = %v, want ErrInvalid", err)
	}
	d.in = []byte{0x12, 0xFF, 0x18, 0x00, 0x0C, 0x00}
	got, err := p.ReadASB(context.Background(), time.Second)
	if want := (Status{PaperEnd: true}); err != nil || got != want {
		t.Errorf("ReadASB() = %+v, %v; want %+v", got, err, want)
	}
	if c := p.Counters(); c.Garbled != 2 || c.ASBBlocks != 1 {
		t.Errorf("Counters() = %+v, want 2 garbled, 1 ASB block", c)
	}
	if _, err := p.ReadASB(context.Background(), time.Second); !errors.Is(err, ErrTimeout) {
		t.Errorf("ReadASB() on a quiet line = %v, want ErrTimeout", err)
	}
}

func TestErrorsArePrefixed(t *testing.T) {
	for _, err := range []error{ErrOffline, ErrCoverOpen, ErrPaperEnd, ErrCutter, ErrUnrecoverable, ErrRecoverable,
		ErrIncomplete, ErrGarbled, ErrTimeout, ErrDisconnected, ErrHalted, ErrInvalid} {
		if msg := err.Error(); !strings.HasPrefix(msg, "escpos: ") || strings.ToLower(msg) != msg {
			t.Errorf("error %q: want lower case with the escpos: prefix", msg)
		}
	}
}

func TestReplyWaitsForTheWire(t *testing.T) {
	p, d := newFakePrinter(t, Opts{Baud: 9600, StatusTimeout: 500 * time.Millisecond})
	data := bytes.Repeat([]byte("A"), 960) // one second on a 9600-baud line
	if err := p.Print(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	// The printer answers DLE EOT 1 only once the data ahead of it has
	// arrived: 1 s plus the query itself.
	d.script = [][]byte{{}}
	d.late, d.lateAt = []byte{0x12}, d.clock.t.Add(time.Second+100*time.Millisecond)
	if _, err := p.Status(context.Background()); err != nil {
		t.Fatalf("Status() after a long print = %v", err)
	}
	if c := p.Counters(); c.Timeouts != 0 || c.StatusQueries != 4 {
		t.Errorf("Counters() = %+v, want no timeout and 4 queries", c)
	}
}
