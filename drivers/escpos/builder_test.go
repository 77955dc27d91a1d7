package escpos

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// qrA012 is the QR block of protocol notes §2.3 (model 2, module 6, EC M).
const qrA012 = `1D 28 6B 04 00 31 41 32 00
1D 28 6B 03 00 31 43 06
1D 28 6B 03 00 31 45 31
1D 28 6B 07 00 31 50 30 41 30 31 32
1D 28 6B 03 00 31 51 30`

func TestBuilderVectors(t *testing.T) {
	qr6M := QROpts{Model: QRModel2, ModuleSize: 6, Level: QRLevelM}
	tests := []struct {
		name  string
		build func(b *Builder) *Builder
		want  string
	}{
		{"init", func(b *Builder) *Builder { return b.Init() }, "1B 40"},
		{"chinese on and off", func(b *Builder) *Builder { return b.ChineseOn().ChineseOff() }, "1C 26 1C 2E"},
		{"align centre", func(b *Builder) *Builder { return b.Align(Center) }, "1B 61 01"},
		{"align right", func(b *Builder) *Builder { return b.Align(Right) }, "1B 61 02"},
		{"bold on off", func(b *Builder) *Builder { return b.Bold(true).Bold(false) }, "1B 45 01 1B 45 00"},
		{"size normal", func(b *Builder) *Builder { return b.Size(1, 1) }, "1D 21 00"},
		{"size double", func(b *Builder) *Builder { return b.Size(2, 2) }, "1D 21 11"},
		{"size 8x", func(b *Builder) *Builder { return b.Size(8, 8) }, "1D 21 77"},
		{"size double height only", func(b *Builder) *Builder { return b.Size(1, 2) }, "1D 21 01"},
		{"feed 3", func(b *Builder) *Builder { return b.Feed(3) }, "1B 64 03"},
		{"full cut", func(b *Builder) *Builder { return b.Cut(false) }, "1D 56 00"},
		{"partial cut", func(b *Builder) *Builder { return b.Cut(true) }, "1D 56 01"},
		{"feed and partial cut", func(b *Builder) *Builder { return b.FeedCut(true, 0) }, "1D 56 42 00"},
		{"feed and full cut", func(b *Builder) *Builder { return b.FeedCut(false, 16) }, "1D 56 41 10"},
		{"text 您好", func(b *Builder) *Builder { return b.Text("您好") }, "C4 FA BA C3"},
		{"text 请到3号窗口办理", func(b *Builder) *Builder { return b.Text("请到3号窗口办理") },
			"C7 EB B5 BD 33 BA C5 B4 B0 BF DA B0 EC C0 ED"},
		{"line", func(b *Builder) *Builder { return b.Line("A012") }, "41 30 31 32 0A"},
		{"QR A012 (§2.3)", func(b *Builder) *Builder { return b.QR("A012", qr6M) }, qrA012},
		{"escpos-php qrCode 1234 defaults", func(b *Builder) *Builder {
			return b.Init().QR("1234", QROpts{Model: QRModel2, ModuleSize: 3, Level: QRLevelL})
		}, `1B 40 | 1D 28 6B 04 00 31 41 32 00 | 1D 28 6B 03 00 31 43 03 | 1D 28 6B 03 00 31 45 30 |
			1D 28 6B 07 00 31 50 30 31 32 33 34 | 1D 28 6B 03 00 31 51 30`},
		{"CODE128 A012 (§2.4)", func(b *Builder) *Builder { return b.Code128("A012") }, "1D 6B 49 06 7B 42 41 30 31 32"},
		{"ticket vector (§2.7)", func(b *Builder) *Builder {
			return b.Init().ChineseOn().Align(Center).Size(2, 2).Bold(true).Line("A012").Bold(false).Size(1, 1).
				Line("请到3号窗口办理").QR("A012", qr6M).Feed(3).FeedCut(true, 0)
		}, `1B 40  1C 26  1B 61 01  1D 21 11  1B 45 01  41 30 31 32 0A  1B 45 00  1D 21 00
			C7 EB B5 BD 33 BA C5 B4 B0 BF DA B0 EC C0 ED 0A ` + qrA012 + ` 1B 64 03  1D 56 42 00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build(NewBuilder(GB18030)).Bytes()
			if err != nil {
				t.Fatalf("Bytes() error %v", err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("Bytes() =\n%swant\n%s", hexdump(got), hexdump(want))
			}
		})
	}
}

func TestTicketVectorIs92Bytes(t *testing.T) {
	b := NewBuilder(GB18030).Init().ChineseOn().Align(Center).Size(2, 2).Bold(true).Line("A012").
		Bold(false).Size(1, 1).Line("请到3号窗口办理").
		QR("A012", QROpts{Model: QRModel2, ModuleSize: 6, Level: QRLevelM}).Feed(3).FeedCut(true, 0)
	got, err := b.Bytes()
	if err != nil || len(got) != 92 {
		t.Errorf("len(Bytes()) = %d, %v; want 92, nil", len(got), err)
	}
}

func TestBuilderErrors(t *testing.T) {
	qr := QROpts{Model: QRModel2, ModuleSize: 6, Level: QRLevelM}
	tests := []struct {
		name  string
		build func(b *Builder) *Builder
	}{
		{"size 0", func(b *Builder) *Builder { return b.Size(0, 1) }},
		{"size 9", func(b *Builder) *Builder { return b.Size(1, 9) }},
		{"align 3", func(b *Builder) *Builder { return b.Align(3) }},
		{"feed 256", func(b *Builder) *Builder { return b.Feed(256) }},
		{"feed -1", func(b *Builder) *Builder { return b.Feed(-1) }},
		{"cut feed 300", func(b *Builder) *Builder { return b.FeedCut(true, 300) }},
		{"QR empty", func(b *Builder) *Builder { return b.QR("", qr) }},
		{"QR too long", func(b *Builder) *Builder { return b.QR(strings.Repeat("x", MaxQRData+1), qr) }},
		{"QR module 0", func(b *Builder) *Builder { return b.QR("x", QROpts{Model: QRModel2, ModuleSize: 0, Level: QRLevelM}) }},
		{"QR module 17", func(b *Builder) *Builder { return b.QR("x", QROpts{Model: QRModel2, ModuleSize: 17, Level: QRLevelM}) }},
		{"QR bad model", func(b *Builder) *Builder { return b.QR("x", QROpts{Model: 0x35, ModuleSize: 3, Level: QRLevelM}) }},
		{"QR bad level", func(b *Builder) *Builder { return b.QR("x", QROpts{Model: QRModel2, ModuleSize: 3, Level: 0x34}) }},
		{"CODE128 empty", func(b *Builder) *Builder { return b.Code128("") }},
		{"CODE128 hanzi", func(b *Builder) *Builder { return b.Code128("号") }},
		{"error sticks", func(b *Builder) *Builder { return b.Size(0, 0).Init().Text("x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build(NewBuilder(GB18030)).Bytes()
			if !errors.Is(err, ErrInvalid) || got != nil {
				t.Errorf("Bytes() = %x, %v; want nil, ErrInvalid", got, err)
			}
		})
	}
	if _, err := NewBuilder(Encoding(9)).Init().Bytes(); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewBuilder(9).Bytes() error = %v, want ErrInvalid", err)
	}
}

func TestQRMaxData(t *testing.T) {
	data := strings.Repeat("9", MaxQRData)
	got, err := NewBuilder(GB18030).QR(data, QROpts{Model: QRModel2, ModuleSize: 3, Level: QRLevelL}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	store := got[9+8+8:]
	// pL pH = 7092 = 0x1BB4
	if want := []byte{0x1D, 0x28, 0x6B, 0xB4, 0x1B, 0x31, 0x50, 0x30}; !bytes.Equal(store[:8], want) {
		t.Errorf("store header = % X, want % X", store[:8], want)
	}
}

func TestTextSubstitution(t *testing.T) {
	tests := []struct {
		name string
		enc  Encoding
		in   string
		want string
		subs int
	}{
		{"ascii", GB18030, "A012", "41 30 31 32", 0},
		{"newline is LF", GB18030, "a\nb", "61 0A 62", 0},
		{"euro in two-byte area", GB18030, "€", "A2 E3", 0},
		{"four-byte ext B", GB18030, "张𠀀", "D5 C5 3F", 1},
		{"four-byte ext A start", GB18030, "㐀", "3F", 1},
		{"four-byte latin", GB18030, "\u0080", "3F", 1},
		{"private use", GB18030, "\ue000", "3F", 1},
		{"control ESC", GB18030, "\x1b@", "3F 40", 1},
		{"control GS in name", GB18030, "李\x1dV\x00", "C0 EE 3F 56 3F", 2},
		{"DEL", GB18030, "\x7f", "3F", 1},
		{"invalid utf-8", GB18030, "a\xffb", "61 3F 62", 1},
		{"GBK-only hanzi kept", GB18030, "丂", "81 40", 0},
		{"GBK-only hanzi in GB2312", GB2312, "丂", "3F", 1},
		{"GB2312 hanzi", GB2312, "您好", "C4 FA BA C3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(tt.enc).Text(tt.in)
			got, err := b.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) || b.Substituted() != tt.subs {
				t.Errorf("Text(%q) = % X (%d substituted), want % X (%d)", tt.in, got, b.Substituted(), want, tt.subs)
			}
		})
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"A012", 4},
		{"您前面还有 3 人等待", 8*2 + 3},
		{"张𠀀", 3},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Columns(tt.in, GB18030); got != tt.want {
				t.Errorf("Columns(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cols int
		want []string
	}{
		{"fits", "办理窗口: 3, 5", 32, []string{"办理窗口: 3, 5"}},
		{"hanzi never split", "一二三四五", 5, []string{"一二", "三四", "五"}},
		{"break at space", "办理窗口: 10, 11, 12, 13", 20, []string{"办理窗口: 10, 11,", "12, 13"}},
		{"long word hard break", "https://hall.example/t/A012", 10, []string{"https://ha", "ll.example", "/t/A012"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.in, tt.cols, GB18030)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.cols, got, tt.want)
			}
			for _, l := range got {
				if c := Columns(l, GB18030); c > tt.cols {
					t.Errorf("line %q is %d columns, want at most %d", l, c, tt.cols)
				}
			}
		})
	}
}
