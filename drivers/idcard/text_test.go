package idcard

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"pgregory.net/rapid"
)

func goodCard() *Card {
	return &Card{
		Name: "李四", Sex: SexFemale, Nation: "03", Birth: date(1985, 6, 15),
		Address: "湖南省长沙市岳麓区测试路1号", Number: "00000019850615002X", Authority: "测试市公安局",
		ValidFrom: date(2015, 3, 1), ValidTo: date(2035, 3, 1),
	}
}

// setField overwrites one field of a block with s, padded with spaces.
func setField(b []byte, f field, s string) {
	u := utf16.Encode([]rune(s))
	for i := 0; i < f.size/2; i++ {
		c := uint16(' ')
		if i < len(u) {
			c = u[i]
		}
		b[f.off+2*i], b[f.off+2*i+1] = byte(c), byte(c>>8)
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(b []byte)
		field  string // "" when the block is valid
		digit  bool   // the error is ErrCheckDigit
		verify func(c *Card) bool
	}{
		{"valid", func([]byte) {}, "", false, func(c *Card) bool { return equalCard(c, goodCard()) }},
		{"lower-case x", func(b []byte) { setField(b, fNumber, "00000019850615002x") }, "", false,
			func(c *Card) bool { return c.Number == "00000019850615002X" }},
		{"long-term", func(b []byte) { setField(b, fValidTo, "长期") }, "", false,
			func(c *Card) bool { return c.LongTerm && c.ValidTo.IsZero() }},
		{"NUL padding", func(b []byte) { b[fName.off+4], b[fName.off+5] = 0, 0 }, "", false,
			func(c *Card) bool { return c.Name == "李四" }},
		{"empty name", func(b []byte) { setField(b, fName, "") }, "name", false, nil},
		{"control char in name", func(b []byte) { setField(b, fName, "李\x07四") }, "name", false, nil},
		{"lone surrogate", func(b []byte) { b[fAddress.off], b[fAddress.off+1] = 0x00, 0xD8 }, "address", false, nil},
		{"sex 3", func(b []byte) { setField(b, fSex, "3") }, "sex", false, nil},
		{"sex letter", func(b []byte) { setField(b, fSex, "M") }, "sex", false, nil},
		{"nation 57", func(b []byte) { setField(b, fNation, "57") }, "nation", false, nil},
		{"30 February", func(b []byte) { setField(b, fBirth, "19850230") }, "birth date", false, nil},
		{"short birth", func(b []byte) { setField(b, fBirth, "198506") }, "birth date", false, nil},
		{"empty address", func(b []byte) { setField(b, fAddress, "") }, "address", false, nil},
		{"17-char number", func(b []byte) { setField(b, fNumber, "00000019850615002") }, "id number", false, nil},
		{"letter in number", func(b []byte) { setField(b, fNumber, "0000001985061500AX") }, "id number", false, nil},
		{"wrong check digit", func(b []byte) { setField(b, fNumber, "000000198506150021") }, "id number", true, nil},
		{"empty authority", func(b []byte) { setField(b, fAuthority, "") }, "issuing authority", false, nil},
		{"bad start", func(b []byte) { setField(b, fValidFrom, "2015-3-1") }, "validity start", false, nil},
		{"end before start", func(b []byte) { setField(b, fValidTo, "20100101") }, "validity end", false, nil},
		{"end is words", func(b []byte) { setField(b, fValidTo, "永久") }, "validity end", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeText(goodCard())
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(b)
			c, err := DecodeText(b)
			if tt.field == "" {
				if err != nil || !tt.verify(c) {
					t.Fatalf("DecodeText = %+v, %v; want a valid card", c, err)
				}
				return
			}
			var te *TextError
			if c != nil || !errors.As(err, &te) || te.Field != tt.field || !errors.Is(err, ErrInvalidText) {
				t.Fatalf("DecodeText = %v, %v; want a TextError on %q", c, err, tt.field)
			}
			if errors.Is(err, ErrCheckDigit) != tt.digit {
				t.Errorf("errors.Is(%v, ErrCheckDigit) = %v, want %v", err, !tt.digit, tt.digit)
			}
			if strings.Contains(err.Error(), goodCard().Number[:17]) || strings.Contains(err.Error(), "李四") {
				t.Errorf("error %q quotes personal data", err)
			}
		})
	}
	if _, err := DecodeText(make([]byte, 255)); !errors.Is(err, ErrInvalidText) {
		t.Errorf("DecodeText(255 bytes) error = %v, want ErrInvalidText", err)
	}
}

func TestEncodeTextErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *Card)
		field string
	}{
		{"16-character name", func(c *Card) { c.Name = strings.Repeat("李", 16) }, "name"},
		{"character outside UCS-2", func(c *Card) { c.Name = "李𠀀" }, "name"},
		{"36-character address", func(c *Card) { c.Address = strings.Repeat("路", 36) }, "address"},
		{"sex 5", func(c *Card) { c.Sex = 5 }, "sex"},
		{"nation 00", func(c *Card) { c.Nation = "00" }, "nation"},
		{"no birth date", func(c *Card) { c.Birth = time.Time{} }, "birth date"},
		{"no validity end", func(c *Card) { c.ValidTo = time.Time{} }, "validity end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodCard()
			tt.edit(c)
			_, err := EncodeText(c)
			var te *TextError
			if !errors.As(err, &te) || te.Field != tt.field {
				t.Errorf("EncodeText error = %v, want a TextError on %q", err, tt.field)
			}
		})
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		name, number string
		want         error
	}{
		{"GB 11643 example", "11010519491231002X", nil},
		{"digit check", "440524188001010014", nil},
		{"synthetic", "00000019900101000X", nil},
		{"leap day", "000000200002290010", nil},
		{"protocol notes' vector", "000000199001010000", ErrCheckDigit},
		{"one digit off", "11010519491231003X", ErrCheckDigit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidNumber(tt.number); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidNumber(%s) = %v, want %v", tt.number, err, tt.want)
			}
		})
	}
	bad := []string{"", "11010519491231002", "11010519491231002XX", "1101051949123100AX", "11010519491231002Y", "11010519491231002x"}
	for _, n := range bad {
		if err := ValidNumber(n); err == nil || errors.Is(err, ErrCheckDigit) {
			t.Errorf("ValidNumber(%q) = %v, want a format error", n, err)
		}
	}
}

// genCard draws a valid card.
func genCard(t *rapid.T) *Card {
	han := rapid.SampledFrom([]rune("张李王赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施"))
	chars := func(label string, min, max int) string {
		return string(rapid.SliceOfN(han, min, max).Draw(t, label))
	}
	day := func(label string) time.Time {
		return date(rapid.IntRange(1900, 2099).Draw(t, label+"y"), time.Month(rapid.IntRange(1, 12).Draw(t, label+"m")), rapid.IntRange(1, 28).Draw(t, label+"d"))
	}
	birth := day("birth")
	first17 := rapid.StringMatching(`[0-9]{6}`).Draw(t, "area") + birth.Format("20060102") + rapid.StringMatching(`[0-9]{3}`).Draw(t, "seq")
	cd, err := CheckDigit(first17)
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 0, len(nations))
	for k := range nations {
		codes = append(codes, k)
	}
	c := &Card{
		Name:      chars("name", 1, 15),
		Sex:       rapid.SampledFrom([]Sex{SexUnknown, SexMale, SexFemale, SexUnstated}).Draw(t, "sex"),
		Nation:    rapid.SampledFrom(codes).Draw(t, "nation"),
		Birth:     birth,
		Address:   chars("address", 1, 35),
		Number:    first17 + string(cd),
		Authority: chars("authority", 1, 15),
		ValidFrom: day("from"),
		LongTerm:  rapid.Bool().Draw(t, "long"),
	}
	if !c.LongTerm {
		c.ValidTo = c.ValidFrom.AddDate(rapid.IntRange(0, 20).Draw(t, "years"), 0, 0)
	}
	return c
}

func TestTextRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCard(t)
		b, err := EncodeText(c)
		if err != nil {
			t.Fatalf("EncodeText: %v", err)
		}
		got, err := DecodeText(b)
		if err != nil || !equalCard(got, c) {
			t.Fatalf("DecodeText(EncodeText(c)) = %+v, %v; want %+v", got, err, c)
		}
	})
}
