package barcodesim

import (
	"bytes"
	"testing"
	"time"
)

func TestScanFraming(t *testing.T) {
	tests := []struct {
		name string
		o    *Opts
		data string
		want string
	}{
		{"defaults: CR", nil, "A1", "A1\r"},
		{"prefix, AIM, CRLF", &Opts{Prefix: "K7", AIM: "]Q1", Suffix: "\r\n"}, "HALLGW-APPT:Q", "K7]Q1HALLGW-APPT:Q\r\n"},
		{"tab", &Opts{Suffix: "\t"}, "办件", "办件\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := tt.o
			if o != nil {
				o.Baud = 0
			}
			s, err := New(&buf, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Scan(tt.data); err != nil || buf.String() != tt.want {
				t.Errorf("Scan(%q) wrote %q, %v; want %q", tt.data, buf.String(), err, tt.want)
			}
		})
	}
	if _, err := New(&bytes.Buffer{}, &Opts{Baud: -1}); err == nil {
		t.Error("New(baud -1) = nil error")
	}
}

func TestPacing(t *testing.T) {
	// 96 bytes at 9600 baud occupy the wire for 100 ms: a lower bound only.
	var buf bytes.Buffer
	s, _ := New(&buf, nil)
	start := time.Now()
	s.SendRaw(bytes.Repeat([]byte{'A'}, 96))
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("96 bytes at 9600 baud took %v, want at least 100 ms", d)
	}
}
