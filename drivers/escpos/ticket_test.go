package escpos

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hallgw/drivers/escpos/escpossim"
)

// goldenTicket is the full ticket of the golden files.
func goldenTicket() Ticket {
	t := SampleTicket(testTime.UTC())
	t.Location = testTime.Location()
	t.Holder = "张*"
	t.Windows = []string{"3", "5", "7", "综合受理 12"}
	t.Lines = []string{"请留意叫号屏幕和语音提示", "扫码查看排队进度，办结后请评价"}
	return t
}

func TestEncodeTicketGolden(t *testing.T) {
	for _, w := range []Width{Width58, Width80} {
		t.Run(w.String(), func(t *testing.T) {
			data, err := EncodeTicket(goldenTicket(), w)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.ReplaceAll(w.String(), " ", "")
			golden(t, "ticket_"+name+".hex", hexdump(data))
			tickets, c := escpossim.Render(data, int(w))
			if len(tickets) != 1 || c.Unknown != 0 || c.Garbled != 0 {
				t.Fatalf("emulator cut %d tickets (%d unknown, %d garbled commands), want 1, 0, 0", len(tickets), c.Unknown, c.Garbled)
			}
			golden(t, "ticket_"+name+".txt", tickets[0].Text())
		})
	}
}

// gb returns s in GB18030, to look for it in encoded bytes.
func gb(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeTicketContent(t *testing.T) {
	base := Ticket{Number: "B007", ServiceName: "不动产登记", Ahead: 12, IssuedAt: testTime}
	tests := []struct {
		name    string
		edit    func(t *Ticket)
		want    []string // must appear (GB18030-encoded)
		notWant []string
	}{
		{"wait unknown", func(t *Ticket) {}, []string{"预计等待 暂无法估计", "您前面还有 12 人等待"}, []string{"约"}},
		{"wait range", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, 5*time.Minute, 10*time.Minute },
			[]string{"预计等待 约 5-10 分钟"}, nil},
		{"wait rounded outwards", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, 270*time.Second, 550*time.Second },
			[]string{"预计等待 约 4-10 分钟"}, nil},
		{"wait under a minute", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, 0, 40*time.Second },
			[]string{"预计等待 约 1 分钟内"}, nil},
		{"wait exact", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, 15*time.Minute, 15*time.Minute },
			[]string{"预计等待 约 15 分钟"}, nil},
		{"windows", func(t *Ticket) { t.Windows = []string{"3", " ", "5", "7"} }, []string{"办理窗口: 3, 5, 7"}, nil},
		{"no windows", func(t *Ticket) {}, nil, []string{"办理窗口"}},
		{"masked holder kept", func(t *Ticket) { t.Holder = "王*女士" }, []string{"取号人: 王*女士"}, nil},
		{"unmasked holder masked", func(t *Ticket) { t.Holder = "王小明" }, []string{"取号人: 王**"}, []string{"小明"}},
		{"issue time in hall zone", func(t *Ticket) { t.IssuedAt = testTime.UTC(); t.Location = testTime.Location() },
			[]string{"取号时间: 2026-11-03 09:15:02"}, nil},
		{"issue time own zone", func(t *Ticket) { t.IssuedAt = testTime.UTC() }, []string{"取号时间: 2026-11-03 01:15:02"}, nil},
		{"notice", func(t *Ticket) { t.Notice = "过号请重新取号" }, []string{"过号请重新取号"}, nil},
		{"qr", func(t *Ticket) { t.QRData = "https://hall.example/t/B007" },
			[]string{"\x1d(k\x1e\x001P0https://hall.example/t/B007", "\x1d(k\x03\x001Q0"}, nil},
		{"no qr", func(t *Ticket) {}, nil, []string{"\x1d(k"}},
		{"number large and bold", func(t *Ticket) {}, []string{"\x1d!\x22\x1bE\x01B007\n\x1bE\x00\x1d!\x00"}, nil},
		{"starts with init and chinese mode", func(t *Ticket) {}, []string{"\x1b@\x1c&\x1ba\x01"}, nil},
		{"ends with feed and partial cut", func(t *Ticket) {}, []string{"\x1bd\x03\x1dVB\x00"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := base
			tt.edit(&tk)
			data, err := EncodeTicket(tk, Width80)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !bytes.Contains(data, gb(t, s)) {
					t.Errorf("EncodeTicket lacks %q:\n%s", s, hexdump(data))
				}
			}
			for _, s := range tt.notWant {
				if bytes.Contains(data, gb(t, s)) {
					t.Errorf("EncodeTicket contains %q", s)
				}
			}
			if tt.name == "ends with feed and partial cut" && !bytes.HasSuffix(data, []byte("\x1bd\x03\x1dVB\x00")) {
				t.Errorf("EncodeTicket ends % X, want feed and partial cut", data[len(data)-7:])
			}
		})
	}
}

func TestEncodeTicketNumberSize(t *testing.T) {
	tests := []struct {
		name   string
		w      Width
		number string
		want   string
	}{
		{"80 mm triple", Width80, "A012", "\x1d!\x22"},
		{"58 mm double", Width58, "A012", "\x1d!\x11"},
		{"58 mm long number falls back", Width58, "VIP-2026-00012345", "\x1d!\x00"},
		{"80 mm long number double", Width80, "VIP-2026-00012345", "\x1d!\x11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := EncodeTicket(Ticket{Number: tt.number, IssuedAt: testTime}, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(tt.want+"\x1bE\x01"+tt.number+"\n")) {
				t.Errorf("EncodeTicket(%q, %v) does not print it with GS ! % X", tt.number, tt.w, tt.want[2])
			}
		})
	}
}

func TestEncodeTicketErrors(t *testing.T) {
	ok := Ticket{Number: "A001", IssuedAt: testTime}
	tests := []struct {
		name string
		edit func(t *Ticket)
		w    Width
	}{
		{"no number", func(t *Ticket) { t.Number = " " }, Width80},
		{"number wider than paper", func(t *Ticket) { t.Number = strings.Repeat("9", 33) }, Width58},
		{"negative ahead", func(t *Ticket) { t.Ahead = -1 }, Width80},
		{"no issue time", func(t *Ticket) { t.IssuedAt = time.Time{} }, Width80},
		{"wait lo above hi", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, 10*time.Minute, 5*time.Minute }, Width80},
		{"negative wait", func(t *Ticket) { t.WaitKnown, t.WaitLo, t.WaitHi = true, -time.Minute, 5*time.Minute }, Width80},
		{"wait over a day", func(t *Ticket) { t.WaitKnown, t.WaitHi = true, 25*time.Hour }, Width80},
		{"QR too long", func(t *Ticket) { t.QRData = strings.Repeat("x", MaxQRData+1) }, Width80},
		{"unknown width", func(t *Ticket) {}, Width(76)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ok
			tt.edit(&tk)
			if got, err := EncodeTicket(tk, tt.w); !errors.Is(err, ErrInvalid) || got != nil {
				t.Errorf("EncodeTicket = %d bytes, %v; want nil, ErrInvalid", len(got), err)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"李", "李*"},
		{"张三", "张*"},
		{"张三丰", "张**"},
		{"欧阳娜娜", "欧***"},
		{"张*", "张*"},
		{"张＊女士", "张＊女士"},
		{" 王五 ", "王*"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWidth(t *testing.T) {
	tests := []struct {
		w    Width
		cols int
		s    string
	}{
		{Width58, 32, "58 mm"},
		{Width80, 48, "80 mm"},
		{Width(76), 0, "76 mm"},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := tt.w.Columns(); got != tt.cols || tt.w.String() != tt.s {
				t.Errorf("Width(%d).Columns() = %d, String() = %q; want %d, %q", int(tt.w), got, tt.w.String(), tt.cols, tt.s)
			}
		})
	}
}
