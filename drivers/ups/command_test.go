package ups_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hallgw/drivers/ups"
)

func TestEncodeCommand(t *testing.T) {
	d := ups.DefaultDelays
	tests := []struct {
		name, cmd, arg string
		delays         ups.Delays
		want           string
		wantErr        bool
	}{
		// protocols.md §1.6, NUT 2.8.0 with offdelay 30 s, ondelay 180 s.
		{"beeper", ups.CmdBeeperToggle, "", d, "Q\r", false},
		{"quick test", ups.CmdTestQuick, "", d, "T\r", false},
		{"deep test", ups.CmdTestDeep, "", d, "TL\r", false},
		{"stop test", ups.CmdTestStop, "", d, "CT\r", false},
		{"test 600 s", ups.CmdTest, "600", d, "T10\r", false},
		{"test 60 s", ups.CmdTest, "60", d, "T01\r", false},
		{"test default", ups.CmdTest, "", d, "T10\r", false},
		{"test 5940 s", ups.CmdTest, "5940", d, "T99\r", false},
		{"test truncated to minutes", ups.CmdTest, "119", d, "T01\r", false},
		{"shutdown return", ups.CmdShutdownReturn, "", d, "S.5R0003\r", false},
		{"shutdown stay off", ups.CmdShutdownStayOff, "", d, "S.5R0000\r", false},
		{"shutdown stop", ups.CmdShutdownStop, "", d, "C\r", false},
		{"load off", ups.CmdLoadOff, "", d, "S00R0000\r", false},
		{"load on", ups.CmdLoadOn, "", d, "C\r", false},
		// Delay encoding (blazer_process_command).
		{"off 12 s", ups.CmdShutdownStayOff, "", ups.Delays{OffDelay: 12 * time.Second}, "S.2R0000\r", false},
		{"off 59 s truncates", ups.CmdShutdownStayOff, "", ups.Delays{OffDelay: 59 * time.Second}, "S.9R0000\r", false},
		{"off 2 min", ups.CmdShutdownReturn, "", ups.Delays{OffDelay: 2 * time.Minute, OnDelay: 5 * time.Minute}, "S02R0005\r", false},
		{"off 10 min", ups.CmdShutdownReturn, "", ups.Delays{OffDelay: 10 * time.Minute, OnDelay: 9999 * time.Minute}, "S10R9999\r", false},
		{"on delay under a minute leaves R out", ups.CmdShutdownReturn, "", ups.Delays{OffDelay: 30 * time.Second, OnDelay: 59 * time.Second}, "S.5\r", false},
		{"no on delay", ups.CmdShutdownReturn, "", ups.Delays{OffDelay: 3 * time.Minute}, "S03\r", false},
		{"test too short", ups.CmdTest, "59", d, "", true},
		{"test too long", ups.CmdTest, "5941", d, "", true},
		{"test bad argument", ups.CmdTest, "ten", d, "", true},
		{"argument where none is taken", ups.CmdTestQuick, "5", d, "", true},
		{"off delay too short", ups.CmdShutdownReturn, "", ups.Delays{OffDelay: 6 * time.Second}, "", true},
		{"off delay too long", ups.CmdShutdownStayOff, "", ups.Delays{OffDelay: 11 * time.Minute}, "", true},
		{"unknown", "beeper.enable", "", d, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ups.EncodeCommand(tt.cmd, tt.arg, tt.delays)
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Errorf("EncodeCommand(%q, %q, %+v) = %q, %v; want %q, err %v", tt.cmd, tt.arg, tt.delays, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// fakePort answers each request with a scripted reply; reads find nothing
// ((0, nil), like go.bug.st/serial on timeout) when no reply is waiting.
type fakePort struct {
	mu      sync.Mutex
	replies map[string]string
	out     bytes.Buffer
	sent    []string
}

func (p *fakePort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := strings.TrimRight(string(b), "\r")
	p.sent = append(p.sent, req)
	p.out.WriteString(p.replies[req])
	return len(b), nil
}

func (p *fakePort) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() == 0 {
		return 0, nil
	}
	return p.out.Read(b)
}

// steppingClock advances 10 ms per call, so deadlines pass without sleeping.
func steppingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(10 * time.Millisecond)
		return t
	}
}

func TestInstantReplies(t *testing.T) {
	tests := []struct {
		name    string
		reply   string
		wantErr error
	}{
		{"silence is success", "", nil},
		{"ACK is success", "ACK\r", nil},
		{"echo is failure", "T\r", ups.ErrRejected},
		{"NAK is failure", "(NAK\r", ups.ErrRejected},
		{"half a line is no reply (NUT reads whole lines)", "T", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePort{replies: map[string]string{"T": tt.reply}}
			d, err := ups.New(p, &ups.Opts{WireNow: steppingClock()})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Instant(ups.CmdTestQuick, "")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Instant with reply %q = %v, want %v", tt.reply, err, tt.wantErr)
			}
			if len(p.sent) != 1 || p.sent[0] != "T" {
				t.Errorf("sent %q, want [T]", p.sent)
			}
		})
	}
}

// TestStatusFlushesStaleInput: a late reply waiting in the port is thrown
// away before Q1 is sent, as NUT flushes before each command.
func TestStatusFlushesStaleInput(t *testing.T) {
	p := &fakePort{replies: map[string]string{"Q1": "(230.0 230.0 230.0 015 50.0 27.2 25.0 00001001\r"}}
	p.out.WriteString("(000.0 000.0 000.0 000 00.0 00.0 00.0 10000000\r")
	d, err := ups.New(p, &ups.Opts{WireNow: steppingClock()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Status()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.UPSStatus(); got != "OL" {
		t.Errorf("Status() after stale input = %q, want OL", got)
	}
}

func TestStatusGarbledCountsAsFailure(t *testing.T) {
	tests := []struct {
		name    string
		reply   string
		wantErr error
	}{
		{"short", "(230.0 230\r", ups.ErrGarbled},
		{"wrong lead", "#230.0 230.0 230.0 015 50.0 27.2 25.0 00001001\r", ups.ErrGarbled},
		{"no CR within 128 bytes", strings.Repeat("x", 200), nil},
		{"silence", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePort{replies: map[string]string{"Q1": tt.reply}}
			d, err := ups.New(p, &ups.Opts{WireNow: steppingClock(), StaleAfter: 2})
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Status()
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Status() with reply %q = %v, want %v", tt.reply, err, tt.wantErr)
			}
			_, err = d.Status()
			if !errors.Is(err, ups.ErrStale) {
				t.Errorf("second failed Status() = %v, want ErrStale (StaleAfter 2)", err)
			}
		})
	}
}
