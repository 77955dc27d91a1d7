package barcode

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseCode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		kind    Kind
		id      string
		wantErr error
	}{
		{"appointment", "HALLGW-APPT:A20240506-0042", KindAppointment, "A20240506-0042", nil},
		{"appointment, lower case and underscore", "HALLGW-APPT:ab_12", KindAppointment, "ab_12", nil},
		{"appointment with spaces around", "  HALLGW-APPT:Z9 ", KindAppointment, "Z9", nil},
		{"appointment, empty id", "HALLGW-APPT:", KindUnknown, "", ErrBadAppointment},
		{"appointment, bad character", "HALLGW-APPT:A/B", KindUnknown, "", ErrBadAppointment},
		{"appointment, id too long", "HALLGW-APPT:" + string(make([]byte, 65)), KindUnknown, "", ErrBadAppointment},
		{"prefix is case-sensitive", "hallgw-appt:A1", KindUnknown, "", nil},
		{"case number", "4301002024050600012", KindCase, "4301002024050600012", nil},
		{"case number with letters", "XK2024AB0001", KindCase, "XK2024AB0001", nil},
		{"case number 10", "1234567890", KindCase, "1234567890", nil},
		{"9 is too short", "123456789", KindUnknown, "", nil},
		{"33 is too long", "123456789012345678901234567890123", KindUnknown, "", nil},
		{"URL", "https://example.org/rate?w=3", KindUnknown, "", nil},
		{"empty", "", KindUnknown, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCode(tt.in)
			if got.Kind != tt.kind || got.ID != tt.id || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("ParseCode(%q) = %+v, %v; want %v %q, %v", tt.in, got, err, tt.kind, tt.id, tt.wantErr)
			}
		})
	}
}

func TestClassifier(t *testing.T) {
	c, err := NewClassifier(`BJ-\d{6}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		kind Kind
	}{
		{"BJ-123456", KindCase},
		{"XBJ-123456", KindUnknown}, // matched as a whole, not found inside
		{"BJ-1234567", KindUnknown},
		{"1234567890", KindUnknown},
		{"HALLGW-APPT:Q1", KindAppointment},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, _ := c.Parse(tt.in); got.Kind != tt.kind {
				t.Errorf("Parse(%q).Kind = %v, want %v", tt.in, got.Kind, tt.kind)
			}
		})
	}
	if _, err := NewClassifier(`(`); err == nil {
		t.Error("NewClassifier(`(`) = nil error")
	}
	js, err := json.Marshal(Code{Kind: KindAppointment, ID: "Q1", Raw: "HALLGW-APPT:Q1"})
	if want := `{"kind":"appointment","id":"Q1","raw":"HALLGW-APPT:Q1"}`; err != nil || string(js) != want {
		t.Errorf("json.Marshal(Code) = %s, %v; want %s", js, err, want)
	}
}
