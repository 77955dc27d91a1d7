package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestDevicesValidate(t *testing.T) {
	tests := []struct {
		name, yaml, want string // want: a fragment of the only problem, "" for none
	}{
		{"kiosk with everything", `devices:
  kiosks:
    - {id: "1", printer: {port: /dev/ttyUSB0}, idcard: {port: "usb:0400:c35a"}, barcode: {port: /dev/ttyACM0, baud: 9600},
       buttons: [{pin: GPIO27, service: general}]}
privacy: {secret: "a hall secret of some length"}
`, ""},
		{"kiosk button for an unknown service", `devices:
  kiosks: [{id: "1", buttons: [{pin: GPIO27, service: nope}]}]
`, `devices.kiosks[0].buttons[0].service: unknown service "nope"`},
		{"kiosk button without a pin", `devices:
  kiosks: [{id: "1", buttons: [{service: general}]}]
`, "devices.kiosks[0].buttons[0].pin: required"},
		{"call buttons", `devices:
  call_buttons:
    - {pin: GPIO17, window: "1", key: call, long_key: recall}
    - {pin: P1_11, window: "2", key: finish, active_high: true}
`, ""},
		{"a pin used twice", `devices:
  kiosks: [{id: "1", buttons: [{pin: GPIO17, service: general}]}]
  call_buttons: [{pin: GPIO17, window: "1"}]
`, `devices.call_buttons[0].pin: "GPIO17": already used by devices.kiosks[0].buttons[0].pin`},
		{"a bad pin name", `devices:
  call_buttons: [{pin: "17; rm", window: "1"}]
`, `devices.call_buttons[0].pin: "17; rm": not a GPIO pin name`},
		{"call button of an unknown window", `devices:
  call_buttons: [{pin: GPIO17, window: "99"}]
`, `devices.call_buttons[0].window: unknown window "99"`},
		{"a key a button cannot be", `devices:
  call_buttons: [{pin: GPIO17, window: "1", key: transfer}]
`, `devices.call_buttons[0].key: "transfer": want one of call, recall`},
		{"a bad long key", `devices:
  call_buttons: [{pin: GPIO17, window: "1", long_key: rate1}]
`, "devices.call_buttons[0].long_key"},
		{"pause reasons", `devices:
  pause_reasons: [临时离开, 午休, 业务培训]
`, ""},
		{"an empty pause reason", `devices:
  pause_reasons: [临时离开, " "]
`, "devices.pause_reasons[1]: empty"},
		{"a pause reason too long for a bar", `devices:
  pause_reasons: [一二三四五六七八九十一二三四五六七]
`, "devices.pause_reasons[0]: \"一二三四五六七八九十一二三四五六七\": at most 16 characters"},
		{"voice", `devices:
  voice: {enabled: true, output: files, dir: /var/lib/hallgw/voice, repeat: 3}
`, ""},
		{"voice output unknown", `devices:
  voice: {enabled: true, output: speaker}
`, `devices.voice.output: "speaker": want alsa, files or none`},
		{"voice repeated too often", `devices:
  voice: {enabled: true, repeat: 9}
`, "devices.voice.repeat: 9: want 1…5"},
		{"voice device that looks like a flag", `devices:
  voice: {enabled: true, device: "-D null"}
`, "devices.voice.device"},
		{"display lines", `devices:
  buses: [{id: "1", port: /dev/ttyUSB1, displays: [{address: 201, lines: 6}]}]
`, ""},
		{"display lines out of range", `devices:
  buses: [{id: "1", port: /dev/ttyUSB1, displays: [{address: 201, lines: 17}]}]
`, "devices.buses[0].displays[0].lines: 17: want 1…16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml))
			var got []string
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					got = append(got, e.Path+": "+e.Msg)
				}
			} else if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			wantProblems(t, got, tt.want)
		})
	}
}

func TestDevicesRoundTrip(t *testing.T) {
	c := Default()
	c.Devices.Kiosks = []Kiosk{{ID: "1", PaperWidth: 58, Printer: &Port{Port: "/dev/ttyUSB0", Baud: 9600},
		Buttons: []KioskButton{{Pin: "GPIO27", Service: "general"}}}}
	c.Devices.Buses = []Bus{{ID: "1", Port: "usb:1a86:7523", Displays: []Display{{Address: 201, Name: "大厅", Lines: 6}}}}
	c.Devices.CallButtons = []CallButton{{Pin: "GPIO17", Window: "3", Key: "call", LongKey: "recall", ActiveHigh: true}}
	c.Devices.PauseReasons = []string{"午休", "培训"}
	c.Devices.Voice = Voice{Enabled: true, Output: VoiceNone, Repeat: 1}
	b, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse("f.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Marshal(l.Config)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("Marshal(Parse(Marshal(c))) differs:\n%s\nwant\n%s", again, b)
	}
	if k := l.Devices.Kiosks[0]; k.Printer == nil || *k.Printer != *c.Devices.Kiosks[0].Printer ||
		!reflect.DeepEqual(k.Buttons, c.Devices.Kiosks[0].Buttons) ||
		!reflect.DeepEqual(l.Devices.CallButtons, c.Devices.CallButtons) || l.Devices.Voice != c.Devices.Voice ||
		l.Devices.Buses[0].Displays[0] != c.Devices.Buses[0].Displays[0] {
		t.Errorf("devices after a round trip = %+v, want %+v", l.Devices, c.Devices)
	}
}

func TestDevicesDefaults(t *testing.T) {
	var d Devices
	if got := strings.Join(d.PauseReasonList(), ","); got != "临时离开,午休,业务学习,设备故障" {
		t.Errorf("PauseReasonList() = %s, want the defaults", got)
	}
	d.PauseReasons = []string{"培训"}
	if got := d.PauseReasonList(); len(got) != 1 || got[0] != "培训" {
		t.Errorf("PauseReasonList() = %q, want the configured list", got)
	}
	tests := []struct {
		name   string
		v      Voice
		out    string
		repeat int
	}{
		{"zero", Voice{}, VoiceALSA, 2},
		{"set", Voice{Output: VoiceFiles, Repeat: 1}, VoiceFiles, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.OutputOrDefault(); got != tt.out {
				t.Errorf("OutputOrDefault() = %q, want %q", got, tt.out)
			}
			if got := tt.v.RepeatOrDefault(); got != tt.repeat {
				t.Errorf("RepeatOrDefault() = %d, want %d", got, tt.repeat)
			}
		})
	}
}
