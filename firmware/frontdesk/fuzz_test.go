package frontdesk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"hallgw/drivers/windowbus"
	"hallgw/hall"
)

// FuzzDecodeRequests feeds any body to the three kiosk request decoders:
// none panics, an accepted value has the form its field must have, and it
// round-trips through JSON.
func FuzzDecodeRequests(f *testing.F) {
	f.Add([]byte(`{"service":"general"}`))
	f.Add([]byte(`{"appointment":"YY20261128-0031"}`))
	f.Add([]byte(`{"ticket":"A012"}`))
	f.Add([]byte(`{"service":"general"} {"service":"x"}`))
	f.Add([]byte(`{"service":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(name string, v string, err error, field string, valid func(string) bool, decode func([]byte) (string, error)) {
			if err != nil {
				if v != "" {
					t.Errorf("%s(%q) = %q with error %v", name, b, v, err)
				}
				return
			}
			if !valid(v) {
				t.Errorf("%s(%q) accepted %q", name, b, v)
			}
			again, err := json.Marshal(map[string]string{field: v})
			if err != nil {
				t.Fatal(err)
			}
			if v2, err := decode(again); err != nil || v2 != v {
				t.Errorf("%s round trip of %q = %q, %v", name, v, v2, err)
			}
		}
		s, err := DecodeTicketRequest(b)
		check("DecodeTicketRequest", s, err, "service", serviceIDPattern.MatchString, DecodeTicketRequest)
		a, err := DecodeCheckInRequest(b)
		check("DecodeCheckInRequest", a, err, "appointment", func(s string) bool { return s == "" || apptIDPattern.MatchString(s) }, DecodeCheckInRequest)
		n, err := DecodeReprintRequest(b)
		check("DecodeReprintRequest", n, err, "ticket", numberPattern.MatchString, DecodeReprintRequest)
	})
}

// FuzzKeyCommand maps any key and argument: it never panics, a command
// that comes out is for the pressing window and is one the keys may make,
// and a refusal has a bar text that fits the smallest bar.
func FuzzKeyCommand(f *testing.F) {
	f.Add(uint16(windowbus.KeyCall), uint16(0))
	f.Add(uint16(windowbus.KeyCall), uint16(12))
	f.Add(uint16(windowbus.KeyTransfer), uint16(0x8002))
	f.Add(uint16(windowbus.KeyTransfer), uint16(0x8000))
	f.Add(uint16(windowbus.KeyPause), uint16(7))
	f.Add(uint16(windowbus.KeyRate5), uint16(3))
	f.Add(uint16(0x30), uint16(1))
	allowed := map[hall.Op]bool{hall.OpCallNext: true, hall.OpCall: true, hall.OpResume: true, hall.OpRecall: true,
		hall.OpSkip: true, hall.OpTransfer: true, hall.OpHold: true, hall.OpPause: true, hall.OpUnpause: true,
		hall.OpFinish: true, hall.OpRate: true}
	f.Fuzz(func(t *testing.T, key, arg uint16) {
		cmd, err := keyCommand("w5", windowbus.Key(key), arg, testEnv)
		var r *refusal
		switch {
		case errors.Is(err, errIgnored):
			if windowbus.Key(key).Known() {
				t.Errorf("known key %v ignored", windowbus.Key(key))
			}
		case errors.As(err, &r):
			if r.text == "" || gbLen(r.text) > 32 {
				t.Errorf("refusal of %v %#x has bar text %q", windowbus.Key(key), arg, r.text)
			}
		case err != nil:
			t.Errorf("keyCommand(%v, %#x): unexpected error %v", windowbus.Key(key), arg, err)
		default:
			if cmd.Window != "w5" || !allowed[cmd.Op] {
				t.Errorf("keyCommand(%v, %#x) = %+v", windowbus.Key(key), arg, cmd)
			}
			if cmd.Op == hall.OpRate && (cmd.Grade < 1 || cmd.Grade > 5 || cmd.Source != hall.PadKeys) {
				t.Errorf("rating %+v", cmd)
			}
		}
	})
}

// FuzzDisplayText builds bar and hall display texts from any notice and
// pause reason: the result is always something a display accepts, within
// its capacity.
func FuzzDisplayText(f *testing.F) {
	f.Add("系统维护", "午休", uint8(1), 64)
	f.Add("请立即疏散\n到室外", "", uint8(2), 240)
	f.Add(strings.Repeat("长", 300), "\x00\x1b[2J", uint8(1), 32)
	f.Add("\xff\xfe", "𠀀", uint8(0), 1)
	f.Fuzz(func(t *testing.T, notice, reason string, level uint8, capacity int) {
		n := hall.NoticeView{Level: hall.NoticeLevel(level % 3), Text: notice}
		w := hall.WindowView{Number: 5, Name: reason, State: hall.WindowState(level % 3), PauseReason: reason}
		bar := windowText(w, nil, n)
		if _, err := windowbus.EncodeText(fit(bar, windowbus.MaxText)); err != nil {
			t.Errorf("bar text %q refused: %v", bar, err)
		}
		calls := []call{{2, "A012", 5}, {1, reason, 7}}
		txt := hallText(calls, n, reason, int(level%8), capacity)
		b, err := windowbus.EncodeText(txt)
		if err != nil {
			t.Fatalf("hall text %q refused: %v", txt, err)
		}
		limit := capacity
		if limit <= 0 || limit > windowbus.MaxText {
			limit = windowbus.MaxText
		}
		if len(b) > limit || !utf8.ValidString(txt) {
			t.Errorf("hall text %q is %d bytes, capacity %d", txt, len(b), limit)
		}
	})
}
