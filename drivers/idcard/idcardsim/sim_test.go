package idcardsim

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/idcard"
)

func request(t *testing.T, c idcard.Command, data ...byte) []byte {
	b, err := idcard.EncodeRequest(c, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func status(t *testing.T, frame []byte) idcard.Status {
	t.Helper()
	r, err := idcard.DecodeResponse(frame)
	if err != nil {
		t.Fatalf("emulator sent a broken frame % X: %v", frame, err)
	}
	return r.Status
}

func card() *idcard.Card {
	c, err := ParsePlace([]string{"王小明", "00000019850615002X", "19850615"})
	if err != nil {
		panic(err)
	}
	return c
}

func TestHandle(t *testing.T) {
	type exchange struct {
		cmd  idcard.Command
		data []byte
		want idcard.Status
	}
	tests := []struct {
		name  string
		setup func(s *Sim)
		seq   []exchange
	}{
		{"no card", func(s *Sim) {}, []exchange{
			{idcard.CmdSAMStatus, nil, idcard.StatusOK},
			{idcard.CmdFindCard, nil, idcard.StatusNoCard},
			{idcard.CmdSelectCard, nil, idcard.StatusSelectFailed},
			{idcard.CmdReadText, nil, idcard.StatusReadFailed},
		}},
		{"read once per placement", func(s *Sim) { s.Place(card()) }, []exchange{
			{idcard.CmdReadText, nil, idcard.StatusReadFailed}, // not selected
			{idcard.CmdSelectCard, nil, idcard.StatusSelectFailed},
			{idcard.CmdFindCard, nil, idcard.StatusCardFound},
			{idcard.CmdSelectCard, nil, idcard.StatusOK},
			{idcard.CmdReadAddress, nil, idcard.StatusEmpty},
			{idcard.CmdReadText, nil, idcard.StatusOK},
			{idcard.CmdFindCard, nil, idcard.StatusNoCard},
		}},
		{"repeat find", func(s *Sim) { s.o.RepeatFind = true; s.Place(card()) }, []exchange{
			{idcard.CmdFindCard, nil, idcard.StatusCardFound},
			{idcard.CmdSelectCard, nil, idcard.StatusOK},
			{idcard.CmdReadText, nil, idcard.StatusOK},
			{idcard.CmdFindCard, nil, idcard.StatusCardFound},
		}},
		{"mid-read removal", func(s *Sim) { s.Place(card()); s.Fail(FaultMidRead) }, []exchange{
			{idcard.CmdFindCard, nil, idcard.StatusCardFound},
			{idcard.CmdSelectCard, nil, idcard.StatusOK},
			{idcard.CmdReadText, nil, idcard.StatusReadFailed},
			{idcard.CmdFindCard, nil, idcard.StatusNoCard},
		}},
		{"SAM failure until cleared", func(s *Sim) { s.Place(card()); s.Fail(FaultSAM) }, []exchange{
			{idcard.CmdSAMStatus, nil, idcard.StatusSelfTest},
			{idcard.CmdFindCard, nil, idcard.StatusSelfTest},
			{idcard.CmdSAMReset, nil, idcard.StatusSelfTest},
		}},
		{"other commands", func(s *Sim) {}, []exchange{
			{idcard.CmdSetMaxRF, []byte{0x50}, idcard.StatusOK},
			{idcard.CmdSetMaxRF, nil, idcard.StatusLength},
			{idcard.CmdSAMID, nil, idcard.StatusOK},
			{idcard.CmdReadTextFinger, nil, idcard.StatusCommand},
			{0x6000, []byte{0}, idcard.StatusCommand},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(&Opts{})
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(s)
			for i, x := range tt.seq {
				if got := status(t, s.Handle(request(t, x.cmd, x.data...))); got != x.want {
					t.Errorf("step %d: %v = %v, want %v", i, x.cmd, got, x.want)
				}
			}
			if s.Requests() != len(tt.seq) {
				t.Errorf("Requests() = %d, want %d", s.Requests(), len(tt.seq))
			}
		})
	}
}

func TestHandleFrames(t *testing.T) {
	s, _ := New(nil)
	s.Place(card())
	bad := request(t, idcard.CmdFindCard)
	bad[len(bad)-1] ^= 1
	if got := status(t, s.Handle(bad)); got != idcard.StatusChecksum {
		t.Errorf("request with a bad CHK = %v, want %v", got, idcard.StatusChecksum)
	}
	short, _ := idcard.Encode([]byte{0x20})
	if got := status(t, s.Handle(short)); got != idcard.StatusLength {
		t.Errorf("one-byte request = %v, want %v", got, idcard.StatusLength)
	}
	s.Fail(FaultChecksum)
	out := s.Handle(request(t, idcard.CmdFindCard))
	if _, err := idcard.DecodeResponse(out); !errors.Is(err, idcard.ErrChecksum) {
		t.Errorf("reply under FaultChecksum decodes with %v, want ErrChecksum", err)
	}
	if got := status(t, s.Handle(request(t, idcard.CmdFindCard))); got != idcard.StatusCardFound {
		t.Errorf("the checksum fault hit twice: %v", got)
	}
	// The read reply is the real 1295-byte frame.
	status(t, s.Handle(request(t, idcard.CmdSelectCard)))
	out = s.Handle(request(t, idcard.CmdReadText))
	if len(out) != 1295 {
		t.Errorf("read reply is %d bytes, want 1295", len(out))
	}
	id := s.Handle(request(t, idcard.CmdSAMID))
	if r, _ := idcard.DecodeResponse(id); idcard.SAMID(r.Data).String() != "05.01-20101216-0012345678-0987654321" {
		t.Errorf("SAM ID reply % X", id)
	}
}

// pipe is a ReadWriter fed from a buffer, recording what is written.
type pipe struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (p *pipe) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *pipe) Write(b []byte) (int, error) { return p.out.Write(b) }

func TestServeResync(t *testing.T) {
	s, _ := New(&Opts{})
	var in []byte
	in = append(in, 0x00, 0xAA, 0xAA, 0x13)                   // noise
	in = append(in, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x10, 0x00) // absurd LEN
	in = append(in, 0xAA)                                     // an extra AA first
	in = append(in, request(t, idcard.CmdSAMStatus)...)       // an extra AA first
	in = append(in, request(t, idcard.CmdFindCard)...)        // back to back
	p := &pipe{in: bytes.NewReader(in)}
	if err := s.Serve(p); err == nil {
		t.Fatal("Serve returned nil at the end of input")
	}
	var got []idcard.Status
	for rest := p.out.Bytes(); len(rest) > 0; {
		n := idcard.HeaderLen + (int(rest[5])<<8 | int(rest[6]))
		got = append(got, status(t, rest[:n]))
		rest = rest[n:]
	}
	want := []idcard.Status{idcard.StatusLength, idcard.StatusOK, idcard.StatusNoCard}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Serve answered %v, want %v", got, want)
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    string // prefix of the reply
		wantErr bool
		check   func(t *testing.T, s *Sim)
	}{
		{"blank", "   ", "", false, nil},
		{"comment", "# nothing", "", false, nil},
		{"place", "place 王小明 000000198506150011 19850615", "placed 王*明 0000**********0011", false, func(t *testing.T, s *Sim) {
			c, _ := idcard.DecodeText(s.text)
			if c == nil || c.Sex != idcard.SexMale || c.Address != DefaultAddress || c.Name != "王小明" {
				t.Errorf("placed card = %+v", c)
			}
		}},
		{"place with sex and address", "place 李四 000000198506150011 19850615 女 湖南省 长沙市", "placed 李*", false, func(t *testing.T, s *Sim) {
			c, err := idcard.DecodeText(s.text)
			if err != nil || c.Sex != idcard.SexFemale || c.Address != "湖南省 长沙市" {
				t.Errorf("placed card = %+v, %v", c, err)
			}
		}},
		{"place, sex from the number", "place 李四 00000019850615002X 19850615", "placed", false, func(t *testing.T, s *Sim) {
			if c, _ := idcard.DecodeText(s.text); c == nil || c.Sex != idcard.SexFemale {
				t.Errorf("placed card = %+v", c)
			}
		}},
		{"place, bad check digit warns", "place 王小明 000000198506150021 19850615", "placed 王*明 0000**********0021 (invalid", false, nil},
		{"place, bad date", "place 王小明 00000019850615002X 1985-06-15", "", true, nil},
		{"place, too few", "place 王小明", "", true, nil},
		{"place, name too long", "place " + strings.Repeat("王", 16) + " 00000019850615002X 19850615", "", true, nil},
		{"remove", "remove", "removed", false, func(t *testing.T, s *Sim) {
			if s.text != nil {
				t.Error("card still placed")
			}
		}},
		{"fail sam", "fail sam", "fault sam", false, func(t *testing.T, s *Sim) {
			if !s.samFault {
				t.Error("no SAM fault")
			}
		}},
		{"fail none", "fail none", "fault none", false, nil},
		{"fail what", "fail power", "", true, nil},
		{"unknown", "launch", "", true, nil},
		{"help", "help", "place <name>", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := New(nil)
			got, err := s.Control(tt.line)
			if (err != nil) != tt.wantErr || !strings.HasPrefix(got, tt.want) {
				t.Fatalf("Control(%q) = %q, %v; want %q…, error %v", tt.line, got, err, tt.want, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestPacing(t *testing.T) {
	// 1295 bytes at 9600 baud take 1.35 s on the wire; the emulator must not
	// answer faster than that. (A lower bound only: no test asserts speed.)
	s, _ := New(&Opts{Baud: 9600})
	s.Place(card())
	in := append(request(t, idcard.CmdFindCard), request(t, idcard.CmdSelectCard)...)
	in = append(in, request(t, idcard.CmdReadText)...)
	p := &pipe{in: bytes.NewReader(in)}
	start := time.Now()
	s.Serve(p)
	if d := time.Since(start); d < 1350*time.Millisecond {
		t.Errorf("three exchanges took %v at 9600 baud, want at least 1.35 s", d)
	}
}
