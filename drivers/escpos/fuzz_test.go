package escpos

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hallgw/drivers/escpos/escpossim"
)

func FuzzDecodeStatus(f *testing.F) {
	for _, s := range [][]byte{
		{0x12, 0x12, 0x12, 0x12}, {0x1A, 0x32, 0x12, 0x72}, {0x12, 0x16, 0x1A, 0x1E},
		{0x12, 0x12, 0x12, 0x16}, {0xFF, 0x12, 0x12, 0x12}, {0x10, 0x00, 0x00, 0x00},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		r := [4]byte(data[:4])
		s, err := DecodeStatus(r)
		valid := ValidReply(r[0]) && ValidReply(r[1]) && ValidReply(r[2]) && ValidReply(r[3])
		if !valid {
			if !errors.Is(err, ErrGarbled) || s != (Status{}) {
				t.Fatalf("DecodeStatus(% X) = %+v, %v; want zero status, ErrGarbled", r, s, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeStatus(% X) error %v for valid replies", r, err)
		}
		if s.Online != (r[0]&0x08 == 0) || s.PaperEnd != (r[1]&0x20 != 0 || r[3]&0x60 != 0) ||
			s.PaperNearEnd != (r[3]&0x0C != 0) || s.CoverOpen != (r[1]&0x04 != 0) || s.CutterError != (r[2]&0x08 != 0) {
			t.Fatalf("DecodeStatus(% X) = %+v: a condition does not follow its bit", r, s)
		}
		checkStatus(t, s)
	})
}

func FuzzDecodeASB(f *testing.F) {
	for _, s := range [][]byte{
		{0x10, 0, 0, 0}, {0x18, 0, 0x0C, 0}, {0x38, 0x08, 0x03, 0}, {0x12, 0, 0, 0}, {0x10, 0x10, 0, 0},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		b := [4]byte(data[:4])
		s, err := DecodeASB(b)
		valid := IsASBStart(b[0]) && b[1]&0x90 == 0 && b[2]&0x90 == 0 && b[3]&0x90 == 0
		if !valid {
			if !errors.Is(err, ErrGarbled) || s != (Status{}) {
				t.Fatalf("DecodeASB(% X) = %+v, %v; want zero status, ErrGarbled", b, s, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeASB(% X) error %v for a valid block", b, err)
		}
		if ValidReply(b[0]) {
			t.Fatalf("% X passes both the ASB and the DLE EOT check", b[0])
		}
		if s.PaperEnd != (b[2]&0x0C != 0) || s.PaperNearEnd != (b[2]&0x03 != 0) || s.Online != (b[0]&0x08 == 0) {
			t.Fatalf("DecodeASB(% X) = %+v: a condition does not follow its bit", b, s)
		}
		checkStatus(t, s)
	})
}

// checkStatus checks what must hold for any decoded status.
func checkStatus(t *testing.T, s Status) {
	t.Helper()
	if s.CanPrint() && (!s.Online || s.PaperEnd || s.CoverOpen || s.CutterError || s.Error) {
		t.Fatalf("%+v.CanPrint() = true", s)
	}
	if s.String() == "" {
		t.Fatalf("%+v.String() is empty", s)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Status
	if err := json.Unmarshal(js, &back); err != nil || back != s {
		t.Fatalf("JSON round trip %s = %+v, %v; want %+v", js, back, err, s)
	}
}

// FuzzStatusStream feeds arbitrary printer output to Status: it must end
// with a decoded status or a typed error, in bounded (fake) time.
func FuzzStatusStream(f *testing.F) {
	f.Add([]byte{0x12, 0x12, 0x12, 0x12})
	f.Add([]byte{0xFF, 0x12, 0x1A, 0x32, 0x12, 0x72})
	f.Add([]byte{0x10, 0x00, 0x0C, 0x00, 0x12, 0x12, 0x12, 0x12})
	f.Add([]byte{0x10, 0x12, 0x12, 0x12, 0x12})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stream []byte) {
		p, d := newFakePrinter(t, DefaultOpts)
		d.script = [][]byte{stream, {}, {}, {}, {}, {}, {}, {}}
		start := d.clock.t
		s, err := p.Status(context.Background())
		if err != nil && !errors.Is(err, ErrGarbled) && !errors.Is(err, ErrTimeout) {
			t.Fatalf("Status() error %v, want ErrGarbled or ErrTimeout", err)
		}
		if err == nil {
			checkStatus(t, s)
		}
		if c := p.Counters(); c.Garbled > uint64(len(stream)) || c.StatusQueries > 8 {
			t.Fatalf("Counters() = %+v for %d bytes", c, len(stream))
		}
		if spent := d.clock.t.Sub(start); spent > 8*(time.Second) {
			t.Fatalf("Status() spent %v of fake time", spent)
		}
	})
}

// FuzzText checks that no text becomes a command: every byte is printable
// ASCII, LF, or part of a two-byte GB code, and decoding gives back the
// text with only substitutions.
func FuzzText(f *testing.F) {
	for _, s := range []string{"A012", "请到3号窗口办理", "张𠀀", "\x1b@\x1dV\x00", "a\xffb\n", "€丂\ue000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, enc := range []Encoding{GB18030, GB2312} {
			b := NewBuilder(enc).Text(s)
			out, err := b.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(out); i++ {
				c := out[i]
				switch {
				case c == '\n' || (c >= 0x20 && c < 0x7F):
				case c >= 0x81 && c <= 0xFE && i+1 < len(out) && out[i+1] >= 0x40 && out[i+1] != 0x7F && out[i+1] <= 0xFE:
					i++
				default:
					t.Fatalf("Text(%q) byte %d is % X", s, i, out[i:])
				}
			}
			dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(out)
			if err != nil {
				t.Fatal(err)
			}
			var want []rune // one rune per character or per invalid byte, as Text sees s
			for _, r := range s {
				want = append(want, r)
			}
			got := []rune(string(dec))
			if len(want) != len(got) {
				t.Fatalf("Text(%q) decodes to %q: %d characters, want %d", s, dec, len(got), len(want))
			}
			subs := 0
			for i := range got {
				if got[i] != want[i] {
					if got[i] != Substitute {
						t.Fatalf("Text(%q) decodes to %q", s, dec)
					}
					subs++
				}
			}
			if subs > b.Substituted() {
				t.Fatalf("Text(%q): %d characters replaced, %d counted", s, subs, b.Substituted())
			}
		}
	})
}

// FuzzEncodeTicket checks that any ticket either fails validation or
// encodes to a stream the emulator prints as exactly one ticket with no
// unknown command and no garbled character.
func FuzzEncodeTicket(f *testing.F) {
	f.Add("政务服务中心", "A012", "社保", "张*", "过号请重新取号", 3, "https://hall.example/t/A012", true)
	f.Add("", "𠀀", "\x1dV\x00", "李四", "", 0, "", false)
	f.Add(strings.Repeat("长", 40), "VIP-2026-00012345", "a\nb", "", "\n\n", 1000, "\x10\x04\x01", true)
	f.Fuzz(func(t *testing.T, hall, number, service, holder, notice string, ahead int, qr string, w58 bool) {
		w := Width80
		if w58 {
			w = Width58
		}
		tk := Ticket{HallName: hall, Number: number, ServiceName: service, Holder: holder, Notice: notice,
			Ahead: ahead, QRData: qr, IssuedAt: testTime, Windows: []string{service, notice}, Lines: []string{hall}}
		data, err := EncodeTicket(tk, w)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("EncodeTicket error %v, want ErrInvalid", err)
			}
			return
		}
		ts, c := escpossim.Render(data, int(w))
		if len(ts) != 1 || c.Unknown != 0 || c.Garbled != 0 {
			t.Fatalf("emulator: %d tickets, counters %+v; want 1 ticket, nothing unknown or garbled", len(ts), c)
		}
		if qr != "" && (len(ts[0].QR) != 1 || len(ts[0].QR[0]) == 0) {
			t.Fatalf("QR %q printed as %q", qr, ts[0].QR)
		}
		if h := MaskName(holder); h != "" && !strings.ContainsAny(h, "*＊") {
			t.Fatalf("MaskName(%q) = %q, not masked", holder, h)
		}
	})
}
