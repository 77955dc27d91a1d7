package upssim

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/serialio"
	"hallgw/firmware/serialport"
)

// clock is a manual model clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSim(t *testing.T, cfg Config) (*Sim, *clock) {
	t.Helper()
	c := newClock()
	cfg.Now = c.now
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestQ1Lines(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		controls []string
		requests []string
		want     string
	}{
		{"default on mains", Config{}, nil, nil, "(230.0 230.0 230.0 020 50.0 27.2 26.0 00001001"},
		{"on battery latches the fault voltage", Config{}, []string{"mains off"}, nil, "(000.0 230.0 220.0 020 00.0 25.3 26.0 10001001"},
		{"pinned low battery", Config{}, []string{"load 45", "mains off", "battery 21.1"}, nil, "(000.0 230.0 220.0 045 00.0 21.1 27.2 11001001"},
		{"trim", Config{}, []string{"input 250"}, nil, "(250.0 250.0 220.0 020 50.0 27.2 26.0 00101001"},
		{"boost", Config{}, []string{"input 190"}, nil, "(190.0 190.0 218.5 020 50.0 27.2 26.0 00101001"},
		{"per cell, on-line", Config{PerCell: true, Online: true}, nil, nil, "(230.0 230.0 230.0 020 50.0 2.27 26.0 00000001"},
		{"failed", Config{}, []string{"fail"}, nil, "(230.0 230.0 230.0 020 50.0 27.2 26.0 00011001"},
		{"failed cleared", Config{}, []string{"fail", "fail off"}, nil, "(230.0 230.0 230.0 020 50.0 27.2 26.0 00001001"},
		{"test in progress", Config{}, nil, []string{"T"}, "(230.0 230.0 220.0 020 50.0 25.3 26.0 00001101"},
		{"shutdown pending, beeper off", Config{}, nil, []string{"S05R0003", "Q"}, "(230.0 230.0 230.0 020 50.0 27.2 26.0 00001010"},
		{"output off at once", Config{}, nil, []string{"S00R0000"}, "(230.0 230.0 000.0 000 50.0 27.2 25.0 00001011"},
		{"36 V pack", Config{Nominal: 36}, nil, nil, "(230.0 230.0 230.0 020 50.0 40.9 26.0 00001001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSim(t, tt.cfg)
			for _, c := range tt.controls {
				if _, err := s.Control(c); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range tt.requests {
				if reply, ok := s.Handle(r); ok {
					t.Fatalf("Handle(%q) = %q, want no reply", r, reply)
				}
			}
			if got := s.Q1(); got != tt.want {
				t.Errorf("Q1() = %q, want %q", got, tt.want)
			}
			if len(s.Q1())+1 != 47 {
				t.Errorf("Q1() is %d bytes with CR, want 47", len(s.Q1())+1)
			}
		})
	}
}

func TestFaultVoltageLatch(t *testing.T) {
	s, _ := newSim(t, Config{})
	s.SetMains(false)
	first, second := s.Q1(), s.Q1()
	if got := first[7:12]; got != "230.0" {
		t.Errorf("first Q1 after the outage: fault %q, want 230.0", got)
	}
	if got := second[7:12]; got != "000.0" {
		t.Errorf("second Q1: fault %q, want 000.0", got)
	}
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name      string
		mainsOff  bool
		req       string
		wantReply string
		wantOK    bool
	}{
		{"status", false, "Q1", "(230.0 230.0 230.0 020 50.0 27.2 26.0 00001001", true},
		{"ratings", false, "F", "#220.0 005 024.0 50.0", true},
		{"info", false, "I", "#HALLGW SIM      Q1-1000    V1.0      ", true},
		{"quick test", false, "T", "", false},
		{"deep test", false, "TL", "", false},
		{"timed test", false, "T10", "", false},
		{"zero-minute test echoed", false, "T00", "T00", true},
		{"test on battery echoed", true, "T", "T", true},
		{"cancel test", false, "CT", "", false},
		{"beeper", false, "Q", "", false},
		{"shutdown tenths", false, "S.5", "", false},
		{"shutdown and return", false, "S.5R0003", "", false},
		{"shutdown minutes", false, "S10R0000", "", false},
		{"shutdown too long echoed", false, "S11", "S11", true},
		{"shutdown .1 echoed", false, "S.1", "S.1", true},
		{"shutdown bad restore echoed", false, "S01R12", "S01R12", true},
		{"cancel shutdown", false, "C", "", false},
		{"old D query echoed", false, "D", "D", true},
		{"Voltronic query echoed", false, "QPI", "QPI", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSim(t, Config{})
			if tt.mainsOff {
				s.SetMains(false)
			}
			reply, ok := s.Handle(tt.req)
			if reply != tt.wantReply || ok != tt.wantOK {
				t.Errorf("Handle(%q) = %q, %v; want %q, %v", tt.req, reply, ok, tt.wantReply, tt.wantOK)
			}
		})
	}
}

func TestFIModes(t *testing.T) {
	tests := []struct {
		name   string
		mode   FIMode
		want   string
		wantOK bool
	}{
		{"answer", FIAnswer, "#220.0 005 024.0 50.0", true},
		{"echo", FIEcho, "F", true},
		{"silent", FISilent, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSim(t, Config{FI: tt.mode})
			if got, ok := s.Handle("F"); got != tt.want || ok != tt.wantOK {
				t.Errorf("Handle(F) = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestTimers(t *testing.T) {
	type step struct {
		after time.Duration
		ctl   string // control line, or a request when it starts with '>'
		want  string // bits b7..b0 and load, e.g. "00001001 020"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"quick test lasts 10 s", []step{
			{0, ">T", "00001101 020"}, {9 * time.Second, "", "00001101 020"}, {time.Second, "", "00001001 020"}}},
		{"timed test and cancel", []step{
			{0, ">T05", "00001101 020"}, {4 * time.Minute, "", "00001101 020"}, {0, ">CT", "00001001 020"}}},
		{"shutdown and return after m minutes", []step{
			{0, ">S.5R0001", "00001011 020"}, {29 * time.Second, "", "00001011 020"},
			{time.Second, "", "00001011 000"}, {time.Minute, "", "00001001 020"}}},
		{"shutdown stays off until C", []step{
			{0, ">S.2R0000", "00001011 020"}, {time.Hour, "", "00001011 000"}, {0, ">C", "00001001 020"}}},
		{"shutdown on battery returns 10 s after mains", []step{
			{0, "mains off", "10001001 020"}, {0, ">S.2", "10001011 020"}, {12 * time.Second, "", "10001011 000"},
			{time.Minute, "mains on", "00001011 000"}, {10 * time.Second, "", "00001001 020"}}},
		{"cancel before the off delay", []step{
			{0, ">S01", "00001011 020"}, {30 * time.Second, ">C", "00001001 020"}, {time.Hour, "", "00001001 020"}}},
		{"deep test ends at low battery", []step{
			{0, ">TL", "00001101 020"}, {time.Hour, "", "00001101 020"}, {time.Hour, "", "00001001 020"}}},
		{"exhausted battery drops the output, mains restores it", []step{
			{0, "mains off", "10001001 020"}, {3 * time.Hour, "", "11001001 000"},
			{0, "mains on", "00001001 020"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newSim(t, Config{})
			for i, st := range tt.steps {
				c.advance(st.after)
				switch {
				case strings.HasPrefix(st.ctl, ">"):
					if reply, ok := s.Handle(st.ctl[1:]); ok {
						t.Fatalf("step %d: Handle(%q) = %q", i, st.ctl[1:], reply)
					}
				case st.ctl != "":
					if _, err := s.Control(st.ctl); err != nil {
						t.Fatal(err)
					}
				}
				q := s.Q1()
				if got := q[38:46] + " " + q[19:22]; got != st.want {
					t.Errorf("step %d (%s after %v): bits and load %q, want %q (%s)", i, st.ctl, st.after, got, st.want, q)
				}
			}
		})
	}
}

func TestDischarge(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		minH, maxH float64
	}{
		{"9 Ah at 20 %", Config{CapacityAh: 9}, 1.2, 1.9},
		{"9 Ah at 10 %", Config{CapacityAh: 9, Load: 10}, 2.6, 3.8},
		{"40 Ah at 20 %", Config{CapacityAh: 40}, 5.5, 8},
		{"100 Ah at 50 %", Config{CapacityAh: 100, Load: 50}, 5.5, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newSim(t, tt.cfg)
			s.SetMains(false)
			var h float64
			for ; h < 24; h += 1.0 / 60 {
				if s.Q1()[39] == '1' {
					break
				}
				c.advance(time.Minute)
			}
			if h < tt.minH || h > tt.maxH {
				t.Errorf("time to low battery = %.2f h, want %.1f–%.1f h", h, tt.minH, tt.maxH)
			}
			s.SetMains(true)
			c.advance(20 * time.Hour)
			if got := s.Charge(); got != 1 {
				t.Errorf("charge after 20 h on mains = %.3f, want 1", got)
			}
		})
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		line    string
		wantErr bool
	}{
		{"mains off", false}, {"mains on", false}, {"load 45", false}, {"load 45.5", false},
		{"battery 21.1", false}, {"battery auto", false}, {"input 250", false}, {"fail", false},
		{"fail on", false}, {"fail off", false}, {"silent on", false}, {"silent off", false},
		{"echo-fi on", false}, {"echo-fi off", false}, {"status", false},
		{"", true}, {"mains", true}, {"mains maybe", true}, {"load", true}, {"load x", true},
		{"load 200", true}, {"load -1", true}, {"load NaN", true}, {"battery 0", true}, {"battery -3", true},
		{"battery 5000", true}, {"input", true}, {"fail later", true}, {"status now", true}, {"reboot", true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			s, _ := newSim(t, Config{})
			q, err := s.Control(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Control(%q) error = %v, wantErr %v", tt.line, err, tt.wantErr)
			}
			if err == nil && len(q) != 46 {
				t.Errorf("Control(%q) = %q, want a 46-byte Q1 line", tt.line, q)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"odd nominal", Config{Nominal: 25}},
		{"pack too big for SS.S", Config{Nominal: 96}},
		{"load too high", Config{Load: 200}},
		{"efficiency above 1", Config{Efficiency: 1.5}},
		{"low threshold absurd", Config{LowCell: 3}},
		{"FI mode", Config{FI: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
	if _, err := New(Config{Nominal: 96, PerCell: true}); err != nil {
		t.Errorf("New(96 V per cell) error %v", err)
	}
}

// TestServeOnPTY talks to the emulator through a real serial port opened on
// its pty, at 2400 baud, with a request split across writes and an LF.
func TestServeOnPTY(t *testing.T) {
	s, _ := newSim(t, Config{})
	l, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := serialport.Open(l.Path(), serialport.Mode{Baud: 2400})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, chunk := range []string{"Q", "1\r\n", "F\r"} {
		if _, err := p.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"(230.0 230.0 230.0 020 50.0 27.2 26.0 00001001\r", "#220.0 005 024.0 50.0\r"} {
		got, err := serialio.ReadUntil(p, '\r', 64, time.Now().Add(10*time.Second), nil)
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	s.SetSilent(true)
	p.Write([]byte("Q1\r"))
	if got, err := serialio.ReadUntil(p, '\r', 64, time.Now().Add(300*time.Millisecond), nil); err == nil {
		t.Errorf("silent emulator answered %q", got)
	}
}

// TestServeEndsWithContext: Serve returns when its context ends and the
// reader reports an error.
func TestServeEndsWithContext(t *testing.T) {
	s, _ := newSim(t, Config{Baud: -1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rw := struct {
		io.Reader
		io.Writer
	}{strings.NewReader("Q1\r"), io.Discard}
	if err := s.Serve(ctx, rw); err == nil {
		t.Error("Serve with a cancelled context returned nil")
	}
}
