package idcard

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// hexb turns "AA AA 96" into bytes.
func hexb(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestEncodeRequestVectors(t *testing.T) {
	// Every request of the SAM protocol.
	tests := []struct {
		name string
		cmd  Command
		data []byte
		want string
	}{
		{"SAM reset", CmdSAMReset, nil, "AA AA AA 96 69 00 03 10 FF EC"},
		{"SAM status", CmdSAMStatus, nil, "AA AA AA 96 69 00 03 11 FF ED"},
		{"read SAM ID", CmdSAMID, nil, "AA AA AA 96 69 00 03 12 FF EE"},
		{"find card", CmdFindCard, nil, "AA AA AA 96 69 00 03 20 01 22"},
		{"select card", CmdSelectCard, nil, "AA AA AA 96 69 00 03 20 02 21"},
		{"read text+photo", CmdReadText, nil, "AA AA AA 96 69 00 03 30 01 32"},
		{"read text+photo+fingerprint", CmdReadTextFinger, nil, "AA AA AA 96 69 00 03 30 10 23"},
		{"read appended address", CmdReadAddress, nil, "AA AA AA 96 69 00 03 30 03 30"},
		{"set max RF frame", CmdSetMaxRF, []byte{0x50}, "AA AA AA 96 69 00 04 61 FF 50 CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeRequest(tt.cmd, tt.data)
			if want := hexb(t, tt.want); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("EncodeRequest(%v) = % X, %v; want % X", tt.cmd, got, err, want)
			}
			req, err := DecodeRequest(got)
			if err != nil || req.Cmd != tt.cmd || !bytes.Equal(req.Data, tt.data) {
				t.Errorf("DecodeRequest(% X) = %v % X, %v; want %v % X", got, req.Cmd, req.Data, err, tt.cmd, tt.data)
			}
			if tt.cmd.String() != tt.name {
				t.Errorf("String() = %q, want %q", tt.cmd.String(), tt.name)
			}
		})
	}
}

func TestResponseVectors(t *testing.T) {
	// The responses the protocol notes give.
	tests := []struct {
		name   string
		frame  string
		status Status
		data   string
	}{
		{"OK", "AA AA AA 96 69 00 04 00 00 90 94", StatusOK, ""},
		{"SAM self-test failed", "AA AA AA 96 69 00 04 00 00 60 64", StatusSelfTest, ""},
		{"card found", "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", StatusCardFound, "00 00 00 00"},
		{"no card", "AA AA AA 96 69 00 04 00 00 80 84", StatusNoCard, ""},
		{"select OK", "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", StatusOK, "00 00 00 00 00 00 00 00"},
		{"select failed", "AA AA AA 96 69 00 04 00 00 81 85", StatusSelectFailed, ""},
		{"read failed", "AA AA AA 96 69 00 04 00 00 41 45", StatusReadFailed, ""},
		{"SAM ID", "AA AA AA 96 69 00 14 00 00 90 05 00 01 00 60 B8 32 01 4E 61 BC 00 B1 68 DE 3A C5", StatusOK,
			"05 00 01 00 60 B8 32 01 4E 61 BC 00 B1 68 DE 3A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := hexb(t, tt.frame)
			resp, err := DecodeResponse(frame)
			if err != nil || resp.Status != tt.status || !bytes.Equal(resp.Data, hexb(t, tt.data)) || resp.SW1 != 0 || resp.SW2 != 0 {
				t.Fatalf("DecodeResponse(% X) = %+v, %v; want status %v data %s", frame, resp, err, tt.status, tt.data)
			}
			got, err := EncodeResponse(tt.status, hexb(t, tt.data))
			if err != nil || !bytes.Equal(got, frame) {
				t.Errorf("EncodeResponse(%v) = % X, %v; want % X", tt.status, got, err, frame)
			}
		})
	}
}

func TestSAMIDVector(t *testing.T) {
	var id SAMID
	copy(id[:], hexb(t, "05 00 01 00 60 B8 32 01 4E 61 BC 00 B1 68 DE 3A"))
	if got, want := id.String(), "05.01-20101216-0012345678-0987654321"; got != want {
		t.Errorf("SAMID.String() = %q, want %q", got, want)
	}
}

// vectorText is the synthetic text block of the protocol notes written out
// by hand: every field in UCS-2 LE, padded with 20 00.
func vectorText(t *testing.T, end string) []byte {
	t.Helper()
	var b []byte
	put := func(hexUCS2 string, size int) {
		f := hexb(t, hexUCS2)
		for len(f) < size {
			f = append(f, 0x20, 0x00)
		}
		b = append(b, f...)
	}
	ascii := func(s string) string {
		var sb strings.Builder
		for _, c := range []byte(s) {
			sb.WriteString(hex.EncodeToString([]byte{c, 0}))
		}
		return sb.String()
	}
	put("20 5F 09 4E", 30)                         // 张三
	put(ascii("1"), 2)                             // sex
	put(ascii("01"), 4)                            // nation
	put(ascii("19900101"), 16)                     // birth
	put("4B 6D D5 8B 30 57 40 57", 70)             // 测试地址
	put(ascii("000000199001010000"), 36)           // number
	put("4B 6D D5 8B 7E 7B D1 53 3A 67 73 51", 30) // 测试签发机关
	put(ascii("20200101"), 16)                     // valid from
	put(end, 16)                                   // valid to
	put("", 36)                                    // reserved
	if len(b) != TextLen {
		t.Fatalf("vector text is %d bytes", len(b))
	}
	return b
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func vectorCard() *Card {
	return &Card{
		Name: "张三", Sex: SexMale, Nation: "01", Birth: date(1990, 1, 1),
		Address: "测试地址", Number: "000000199001010000", Authority: "测试签发机关",
		ValidFrom: date(2020, 1, 1), ValidTo: date(2040, 1, 1),
	}
}

func TestReadFrameVector(t *testing.T) {
	long := vectorCard()
	long.ValidTo, long.LongTerm = time.Time{}, true
	tests := []struct {
		name string
		card *Card
		end  string // UCS-2 of the validity end
		chk  byte
	}{
		{"dated", vectorCard(), "32 00 30 00 34 00 30 00 30 00 31 00 30 00 31 00", 0x3E},
		{"long-term", long, "7F 95 1F 67", 0xAA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := vectorText(t, tt.end)
			text, err := EncodeText(tt.card)
			if err != nil || !bytes.Equal(text, want) {
				t.Fatalf("EncodeText = % X, %v; want % X", text, err, want)
			}
			data, err := JoinRead(text, make([]byte, PhotoLen))
			if err != nil {
				t.Fatal(err)
			}
			frame, err := EncodeResponse(StatusOK, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(frame) != 1295 {
				t.Fatalf("frame is %d bytes, want 1295", len(frame))
			}
			if hdr := hexb(t, "AA AA AA 96 69 05 08 00 00 90 01 00 04 00"); !bytes.Equal(frame[:14], hdr) {
				t.Errorf("header = % X, want % X", frame[:14], hdr)
			}
			if got := frame[len(frame)-1]; got != tt.chk {
				t.Errorf("CHK = %02X, want %02X", got, tt.chk)
			}
			resp, err := DecodeResponse(frame)
			if err != nil {
				t.Fatal(err)
			}
			gotText, photo, err := SplitRead(resp.Data)
			if err != nil || !bytes.Equal(gotText, want) || len(photo) != PhotoLen || &gotText[0] != &frame[14] || &photo[0] != &frame[270] {
				t.Fatalf("SplitRead: text at %d, photo %d bytes, %v", len(gotText), len(photo), err)
			}
			// The notes' number ends in 0 where GB 11643 wants X: the block
			// must be refused, and recognisably so.
			_, err = DecodeText(gotText)
			if !errors.Is(err, ErrCheckDigit) || !errors.Is(err, ErrInvalidText) {
				t.Errorf("DecodeText(vector) error = %v, want ErrCheckDigit", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.card.Number) {
				t.Errorf("error %q quotes the number", err)
			}
			// With the right check digit it decodes to the card.
			fixed := *tt.card
			fixed.Number = "00000019900101000X"
			text, _ = EncodeText(&fixed)
			got, err := DecodeText(text)
			if err != nil || !equalCard(got, &fixed) {
				t.Errorf("DecodeText(fixed vector) = %#v, %v; want the card", got, err)
			}
		})
	}
}

// equalCard compares the clear fields.
func equalCard(a, b *Card) bool {
	return a.Name == b.Name && a.Sex == b.Sex && a.Nation == b.Nation && a.Birth.Equal(b.Birth) &&
		a.Address == b.Address && a.Number == b.Number && a.Authority == b.Authority &&
		a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo) && a.LongTerm == b.LongTerm &&
		bytes.Equal(a.Photo, b.Photo)
}

func TestDecodeFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  error
	}{
		{"empty", "", ErrShortFrame},
		{"header only", "AA AA AA 96 69 00 04", ErrShortFrame},
		{"truncated", "AA AA AA 96 69 00 04 00 00 90", ErrShortFrame},
		{"bad preamble", "AA AA AB 96 69 00 04 00 00 90 94", ErrFrame},
		{"LEN zero", "AA AA AA 96 69 00 00 00", ErrFrame},
		{"trailing byte", "AA AA AA 96 69 00 04 00 00 90 94 00", ErrFrame},
		{"bad checksum", "AA AA AA 96 69 00 04 00 00 90 95", ErrChecksum},
		{"response payload too short", "AA AA AA 96 69 00 03 00 00 03", ErrShortFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeResponse(hexb(t, tt.frame))
			if !errors.Is(err, tt.want) {
				t.Errorf("DecodeResponse(%s) error = %v, want %v", tt.frame, err, tt.want)
			}
		})
	}
}

func TestSplitReadErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"no lengths", []byte{1, 0}, ErrShortFrame},
		{"text cut", append([]byte{1, 0, 4, 0}, make([]byte, 1000)...), ErrFrame},
		{"extra byte", append([]byte{0, 1, 0, 1}, 1, 2, 3), ErrFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := SplitRead(tt.data); !errors.Is(err, tt.want) {
				t.Errorf("SplitRead error = %v, want %v", err, tt.want)
			}
		})
	}
	// Lengths other than 256/1024 are taken from the frame.
	text, photo, err := SplitRead([]byte{0, 2, 0, 1, 'a', 0, 'p'})
	if err != nil || string(text) != "a\x00" || string(photo) != "p" {
		t.Errorf("SplitRead(2+1) = %q %q %v", text, photo, err)
	}
}

func TestEncodeTooLong(t *testing.T) {
	if _, err := Encode(make([]byte, 0xFFFF)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Encode(65535 bytes) error = %v, want ErrTooLong", err)
	}
	if b, err := Encode(make([]byte, 0xFFFE)); err != nil || b[5] != 0xFF || b[6] != 0xFF {
		t.Errorf("Encode(65534 bytes) = LEN % X, %v; want FF FF", b[5:7], err)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  *StatusError
		is   error
		want bool
		msg  string
	}{
		{"find no card", &StatusError{CmdFindCard, StatusNoCard}, ErrNoCard, true, "idcard: find card: card not found (80)"},
		{"read failed is removal", &StatusError{CmdReadText, StatusReadFailed}, ErrCardRemoved, true, "idcard: read text+photo: card read failed (41)"},
		{"select failed is removal", &StatusError{CmdSelectCard, StatusSelectFailed}, ErrCardRemoved, true, "idcard: select card: card select failed (81)"},
		{"find 80 is not removal", &StatusError{CmdFindCard, StatusNoCard}, ErrCardRemoved, false, ""},
		{"self-test", &StatusError{CmdFindCard, StatusSelfTest}, ErrSAM, true, "idcard: find card: SAM self-test failed (60)"},
		{"status not 90", &StatusError{CmdSAMStatus, StatusUnrecognised}, ErrSAM, true, ""},
		{"unknown code", &StatusError{CmdSAMID, 0x5A}, ErrSAM, false, "idcard: read SAM ID: unknown status (5A)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.is); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.is, got, tt.want)
			}
			if tt.msg != "" && tt.err.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.msg)
			}
		})
	}
}
