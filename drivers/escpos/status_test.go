package escpos

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeStatus(t *testing.T) {
	ok := [4]byte{0x12, 0x12, 0x12, 0x12}
	with := func(i int, b byte) [4]byte { r := ok; r[i] = b; return r }
	tests := []struct {
		name    string
		in      [4]byte
		want    Status
		garbled bool
	}{
		{"all ok", ok, Status{Online: true}, false},
		{"offline (python-escpos 0x1A)", with(0, 0x1A), Status{}, false},
		{"drawer pin high ignored", with(0, 0x16), Status{Online: true}, false},
		{"cover open", with(1, 0x16), Status{Online: true, CoverOpen: true}, false},
		{"feeding", with(1, 0x1A), Status{Online: true, Feeding: true}, false},
		{"stopped by paper end", with(1, 0x32), Status{Online: true, PaperEnd: true}, false},
		{"error occurred", with(1, 0x52), Status{Online: true, Error: true}, false},
		{"cutter error", with(2, 0x1A), Status{Online: true, CutterError: true}, false},
		{"unrecoverable", with(2, 0x32), Status{Online: true, Unrecoverable: true}, false},
		{"auto-recoverable", with(2, 0x52), Status{Online: true, AutoRecoverable: true}, false},
		{"mechanical bit ignored", with(2, 0x16), Status{Online: true}, false},
		{"near end (0x1E)", with(3, 0x1E), Status{Online: true, PaperNearEnd: true}, false},
		{"near end, first sensor only", with(3, 0x16), Status{Online: true, PaperNearEnd: true}, false},
		{"near end, second sensor only", with(3, 0x1A), Status{Online: true, PaperNearEnd: true}, false},
		{"paper end (0x72)", with(3, 0x72), Status{Online: true, PaperEnd: true}, false},
		{"paper end, bit 5 only", with(3, 0x32), Status{Online: true, PaperEnd: true}, false},
		{"paper end, bit 6 only", with(3, 0x52), Status{Online: true, PaperEnd: true}, false},
		{"paper out everywhere", [4]byte{0x1A, 0x32, 0x12, 0x7E}, Status{PaperEnd: true, PaperNearEnd: true}, false},
		{"garbled 0xFF", with(2, 0xFF), Status{}, true},
		{"garbled 0x00", with(0, 0x00), Status{}, true},
		{"bit 7 set", with(3, 0x92), Status{}, true},
		{"bit 0 set", with(1, 0x13), Status{}, true},
		{"ASB first byte is not a reply", with(0, 0x10), Status{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeStatus(tt.in)
			if tt.garbled {
				if !errors.Is(err, ErrGarbled) || got != (Status{}) {
					t.Errorf("DecodeStatus(% X) = %+v, %v; want zero status, ErrGarbled", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DecodeStatus(% X) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDecodeASB(t *testing.T) {
	tests := []struct {
		name    string
		in      [4]byte
		want    Status
		garbled bool
	}{
		{"all ok", [4]byte{0x10, 0, 0, 0}, Status{Online: true}, false},
		{"offline cover open", [4]byte{0x38, 0, 0, 0}, Status{CoverOpen: true}, false},
		{"feed button", [4]byte{0x50, 0, 0, 0}, Status{Online: true, Feeding: true}, false},
		{"cutter", [4]byte{0x18, 0x08, 0, 0}, Status{CutterError: true, Error: true}, false},
		{"mechanical", [4]byte{0x18, 0x04, 0, 0}, Status{Error: true}, false},
		{"unrecoverable", [4]byte{0x18, 0x20, 0, 0}, Status{Unrecoverable: true, Error: true}, false},
		{"auto-recoverable", [4]byte{0x18, 0x40, 0, 0}, Status{AutoRecoverable: true, Error: true}, false},
		{"near end", [4]byte{0x10, 0, 0x03, 0}, Status{Online: true, PaperNearEnd: true}, false},
		{"near end one sensor", [4]byte{0x10, 0, 0x01, 0}, Status{Online: true, PaperNearEnd: true}, false},
		{"paper end", [4]byte{0x18, 0, 0x0C, 0}, Status{PaperEnd: true}, false},
		{"paper end one sensor", [4]byte{0x18, 0, 0x04, 0}, Status{PaperEnd: true}, false},
		{"DLE EOT reply is not ASB", [4]byte{0x12, 0, 0, 0}, Status{}, true},
		{"bit 7 in first", [4]byte{0x90, 0, 0, 0}, Status{}, true},
		{"bit 4 in second", [4]byte{0x10, 0x10, 0, 0}, Status{}, true},
		{"bit 7 in fourth", [4]byte{0x10, 0, 0, 0x80}, Status{}, true},
		{"two blocks out of step", [4]byte{0x10, 0x00, 0x00, 0x10}, Status{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeASB(tt.in)
			if tt.garbled {
				if !errors.Is(err, ErrGarbled) || got != (Status{}) {
					t.Errorf("DecodeASB(% X) = %+v, %v; want zero status, ErrGarbled", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DecodeASB(% X) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestStatusCanPrintAndString(t *testing.T) {
	tests := []struct {
		name string
		s    Status
		can  bool
		str  string
	}{
		{"ready", Status{Online: true}, true, "online"},
		{"near end prints", Status{Online: true, PaperNearEnd: true}, true, "online, paper near end"},
		{"feeding prints", Status{Online: true, Feeding: true}, true, "online, feeding"},
		{"offline", Status{}, false, "offline"},
		{"paper end", Status{PaperEnd: true, PaperNearEnd: true}, false, "offline, paper end, paper near end"},
		{"paper end while online bit set", Status{Online: true, PaperEnd: true}, false, "online, paper end"},
		{"cover open", Status{CoverOpen: true}, false, "offline, cover open"},
		{"cutter", Status{Online: true, CutterError: true, Error: true}, false, "online, cutter error, error"},
		{"overheat", Status{Online: true, AutoRecoverable: true}, false, "online, auto-recoverable error"},
		{"unrecoverable", Status{Online: true, Unrecoverable: true}, false, "online, unrecoverable error"},
		{"error bit alone", Status{Online: true, Error: true}, false, "online, error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.CanPrint(); got != tt.can {
				t.Errorf("%+v.CanPrint() = %v, want %v", tt.s, got, tt.can)
			}
			if got := tt.s.String(); got != tt.str {
				t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.str)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	got, err := json.Marshal(Status{Online: true, PaperNearEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"online":true,"cover_open":false,"feeding":false,"paper_end":false,"paper_near_end":true,` +
		`"cutter_error":false,"unrecoverable":false,"auto_recoverable":false,"error":false}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
}

func TestStatusErrorIs(t *testing.T) {
	all := []error{ErrOffline, ErrCoverOpen, ErrPaperEnd, ErrCutter, ErrUnrecoverable, ErrRecoverable, ErrIncomplete}
	tests := []struct {
		name string
		err  *StatusError
		want []error
	}{
		{"paper end before", &StatusError{Status: Status{PaperEnd: true}}, []error{ErrOffline, ErrPaperEnd}},
		{"paper end after", &StatusError{Status: Status{PaperEnd: true}, AfterPrint: true}, []error{ErrOffline, ErrPaperEnd, ErrIncomplete}},
		{"cover open", &StatusError{Status: Status{CoverOpen: true}}, []error{ErrOffline, ErrCoverOpen}},
		{"offline only", &StatusError{Status: Status{}}, []error{ErrOffline}},
		{"cutter", &StatusError{Status: Status{Online: true, CutterError: true, Error: true}}, []error{ErrCutter}},
		{"unrecoverable", &StatusError{Status: Status{Online: true, Unrecoverable: true, Error: true}}, []error{ErrUnrecoverable}},
		{"overheat", &StatusError{Status: Status{Online: true, AutoRecoverable: true}}, []error{ErrRecoverable}},
		{"bare error", &StatusError{Status: Status{Online: true, Error: true}}, []error{ErrRecoverable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = tt.err
			for _, target := range all {
				want := false
				for _, w := range tt.want {
					want = want || w == target
				}
				if got := errors.Is(err, target); got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, target, got, want)
				}
			}
		})
	}
}

func TestStatusErrorMessage(t *testing.T) {
	tests := []struct {
		err  *StatusError
		want string
	}{
		{&StatusError{Status: Status{PaperEnd: true}}, "escpos: cannot print: offline, paper end"},
		{&StatusError{Status: Status{CoverOpen: true}, AfterPrint: true}, "escpos: ticket may be incomplete: offline, cover open"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
