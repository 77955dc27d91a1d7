package barcode

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParser feeds arbitrary bytes in arbitrary chunks: every scan must be
// clean text within MaxLen, and after a suffix the parser must be back in
// step, reading the next line whole.
func FuzzParser(f *testing.F) {
	f.Add([]byte("]Q1HALLGW-APPT:A1\r\n"), uint8(3), uint8(0), true)
	f.Fuzz(func(t *testing.T, data []byte, split, suffixSel uint8, aim bool) {
		suffix := []string{"", "\r", "\n", "\r\n", "\t", "#END"}[int(suffixSel)%6]
		o := &Opts{Suffix: suffix, AIM: aim, MaxLen: 64}
		p, err := NewParser(o)
		if err != nil {
			t.Fatal(err)
		}
		var last Scan
		var lastErr error
		emit := func(s Scan, err error) {
			last, lastErr = s, err
			if err != nil {
				return
			}
			if s.Data == "" || len(s.Data) > o.MaxLen || !utf8.ValidString(s.Data) || strings.ContainsAny(s.Data, "\r\n\x00") {
				t.Fatalf("bad scan %q", s.Data)
			}
			if suffix != "" && strings.Contains(s.Data, suffix) {
				t.Fatalf("scan %q holds the suffix", s.Data)
			}
		}
		step := int(split)%16 + 1
		for i := 0; i < len(data); i += step {
			p.Feed(data[i:min(i+step, len(data))], t0.Add(time.Duration(i)*time.Millisecond), emit)
		}
		end := suffix
		if end == "" {
			end = "\r"
		}
		at := t0.Add(time.Duration(len(data)) * time.Millisecond)
		p.Feed([]byte(end+"OK"+end), at, emit)
		if lastErr != nil || last.Data != "OK" {
			t.Fatalf("after a suffix the next line gave %q, %v; want OK", last.Data, lastErr)
		}
	})
}

// FuzzParseCode checks that classification never panics and that what it
// reports is in the scan.
func FuzzParseCode(f *testing.F) {
	f.Add("HALLGW-APPT:A1")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		switch c.Kind {
		case KindAppointment:
			if err != nil || c.Raw != AppointmentPrefix+c.ID || !appointmentID.MatchString(c.ID) {
				t.Fatalf("ParseCode(%q) = %+v, %v", s, c, err)
			}
		case KindCase:
			if err != nil || c.ID != c.Raw || len(c.ID) < 10 || len(c.ID) > 32 {
				t.Fatalf("ParseCode(%q) = %+v, %v", s, c, err)
			}
		case KindUnknown:
			if c.ID != "" || (err != nil) != strings.HasPrefix(strings.TrimSpace(s), AppointmentPrefix) {
				t.Fatalf("ParseCode(%q) = %+v, %v", s, c, err)
			}
		}
	})
}
