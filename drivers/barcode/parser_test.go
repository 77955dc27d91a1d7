package barcode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 6, 9, 0, 0, 0, time.UTC)

// chunk is bytes arriving at an offset from t0.
type chunk struct {
	after time.Duration
	b     string
}

// run feeds chunks and describes what came out: "scan:<sym>|<data>" or
// "err:<reason>".
func run(t *testing.T, o *Opts, chunks []chunk, expireAt time.Duration) []string {
	t.Helper()
	p, err := NewParser(o)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	emit := func(s Scan, err error) {
		var le *LineError
		switch {
		case errors.As(err, &le):
			out = append(out, "err:"+strings.TrimPrefix(le.Err.Error(), "barcode: ")+fmt.Sprintf("/%d/%d", le.Len, le.Bad))
		case err != nil:
			t.Fatalf("emit got a %T error %v", err, err)
		default:
			if s.At.IsZero() {
				t.Errorf("scan %q has no time", s.Data)
			}
			out = append(out, "scan:"+s.Symbology+"|"+s.Data)
		}
	}
	for _, c := range chunks {
		p.Feed([]byte(c.b), t0.Add(c.after), emit)
	}
	if expireAt > 0 {
		p.Expire(t0.Add(expireAt), emit)
	}
	return out
}

func TestParser(t *testing.T) {
	long := strings.Repeat("A", 1025)
	tests := []struct {
		name   string
		o      *Opts
		chunks []chunk
		expire time.Duration
		want   []string
	}{
		{"CR", nil, []chunk{{0, "ABC123\r"}}, 0, []string{"scan:|ABC123"}},
		{"LF", nil, []chunk{{0, "ABC123\n"}}, 0, []string{"scan:|ABC123"}},
		{"CRLF, two scans", nil, []chunk{{0, "A1\r\nB2\r\n"}}, 0, []string{"scan:|A1", "scan:|B2"}},
		{"split across reads", nil, []chunk{{0, "HALLGW-"}, {time.Millisecond, "APPT:X1"}, {2 * time.Millisecond, "\r"}}, 0,
			[]string{"scan:|HALLGW-APPT:X1"}},
		{"empty lines skipped", nil, []chunk{{0, "\r\r\n\nA\r"}}, 0, []string{"scan:|A"}},
		{"UTF-8 text", nil, []chunk{{0, "办件 2024\r"}}, 0, []string{"scan:|办件 2024"}},
		{"control byte rejected, next line fine", nil, []chunk{{0, "AB\x07C\x1b\rGOOD\r"}}, 0,
			[]string{"err:non-printable bytes in scan/5/2", "scan:|GOOD"}},
		{"invalid UTF-8 rejected", nil, []chunk{{0, "A\xff\xfeB\r"}}, 0, []string{"err:non-printable bytes in scan/4/2"}},
		{"GBK bytes rejected", nil, []chunk{{0, "\xb0\xec\xbc\xfe\r"}}, 0, []string{"err:non-printable bytes in scan/4/4"}},
		{"too long, then resync", nil, []chunk{{0, long + "\rOK\r"}}, 0, []string{"err:scan too long/1025/0", "scan:|OK"}},
		{"exactly MaxLen", &Opts{MaxLen: 4}, []chunk{{0, "ABCD\rABCDE\rZ\r"}}, 0,
			[]string{"scan:|ABCD", "err:scan too long/5/0", "scan:|Z"}},
		{"one over MaxLen with a suffix", &Opts{Suffix: "\t", MaxLen: 4}, []chunk{{0, "ABCDE\tABCD\t"}}, 0,
			[]string{"err:scan too long/5/0", "scan:|ABCD"}},
		{"tab suffix", &Opts{Suffix: "\t"}, []chunk{{0, "A1\tB2\t"}}, 0, []string{"scan:|A1", "scan:|B2"}},
		{"CR inside a CRLF-ended line is refused", &Opts{Suffix: "\r\n"}, []chunk{{0, "A\rB\r\nC\r\n"}}, 0,
			[]string{"err:non-printable bytes in scan/3/1", "scan:|C"}},
		{"multi-byte suffix split", &Opts{Suffix: "#END"}, []chunk{{0, "X9#E"}, {time.Millisecond, "ND"}}, 0, []string{"scan:|X9"}},
		{"long line with multi-byte suffix", &Opts{Suffix: "#END", MaxLen: 3}, []chunk{{0, "ABCDEFG#"}, {0, "END"}, {0, "OK#END"}}, 0,
			[]string{"err:scan too long/7/0", "scan:|OK"}},
		{"prefix stripped", &Opts{Prefix: "K1:"}, []chunk{{0, "K1:ABC\rDEF\r"}}, 0, []string{"scan:|ABC", "scan:|DEF"}},
		{"AIM stripped", &Opts{AIM: true}, []chunk{{0, "]Q1HALLGW-APPT:A7\r]C0CASE000001\r"}}, 0,
			[]string{"scan:]Q1|HALLGW-APPT:A7", "scan:]C0|CASE000001"}},
		{"AIM after prefix", &Opts{AIM: true, Prefix: "@"}, []chunk{{0, "@]E0690123456789\r"}}, 0, []string{"scan:]E0|690123456789"}},
		{"AIM missing", &Opts{AIM: true}, []chunk{{0, "]9Z\r"}}, 0, []string{"scan:|]9Z"}},
		{"AIM not expected is kept", nil, []chunk{{0, "]Q1DATA\r"}}, 0, []string{"scan:|]Q1DATA"}},
		{"AIM and nothing else", &Opts{AIM: true}, []chunk{{0, "]Q1\r"}}, 0, nil},
		{"pause cuts a line", nil, []chunk{{0, "HALF"}, {time.Second, "NEXT\r"}}, 0, []string{"err:scan cut off/4/0", "scan:|NEXT"}},
		{"short pause is fine", nil, []chunk{{0, "HA"}, {400 * time.Millisecond, "LF\r"}}, 0, []string{"scan:|HALF"}},
		{"expire on silence", nil, []chunk{{0, "HALF"}}, time.Second, []string{"err:scan cut off/4/0"}},
		{"no expiry before the timeout", nil, []chunk{{0, "HALF"}}, 100 * time.Millisecond, nil},
		{"expire a long line", &Opts{MaxLen: 2}, []chunk{{0, "ABCDE"}}, time.Second, []string{"err:scan cut off/5/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.o, tt.chunks, tt.expire)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Feed = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSuffix(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{{"", "", true}, {"auto", "", true}, {"cr", "\r", true}, {"lf", "\n", true}, {"crlf", "\r\n", true}, {"tab", "\t", true}, {"CR", "", false}, {"nl", "", false}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSuffix(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("ParseSuffix(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestNewParserValidates(t *testing.T) {
	for _, o := range []*Opts{{MaxLen: -1}, {LineTimeout: -time.Second}} {
		if _, err := NewParser(o); err == nil {
			t.Errorf("NewParser(%+v) = nil error", *o)
		}
	}
}
