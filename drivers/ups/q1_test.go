package ups

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"testing"
	"time"
)

// nutExamples are the replies of protocols.md §1.9 with the variables NUT
// 2.8.0 printed for them (battery.charge with a 24 V nominal battery).
var nutExamples = []struct {
	name  string
	reply string
	want  map[string]string
}{
	{"on mains", "(230.0 230.0 230.0 015 50.0 27.2 25.0 00001001\r", map[string]string{
		"input.voltage": "230.0", "input.voltage.fault": "230.0", "output.voltage": "230.0",
		"ups.load": "15", "input.frequency": "50.0", "battery.voltage": "27.20",
		"ups.temperature": "25.0", "ups.status": "OL", "ups.type": TypeStandby,
		"ups.beeper.status": "enabled", "battery.charge": "100",
	}},
	{"on battery", "(000.0 228.0 220.0 032 00.0 24.5 28.0 10001001\r", map[string]string{
		"input.voltage": "0.0", "input.voltage.fault": "228.0", "output.voltage": "220.0",
		"ups.load": "32", "input.frequency": "0.0", "battery.voltage": "24.50",
		"ups.temperature": "28.0", "ups.status": "OB", "ups.type": TypeStandby,
		"ups.beeper.status": "enabled", "battery.charge": "71",
	}},
	{"low battery", "(000.0 000.0 219.8 045 00.0 21.1 30.0 11001001\r", map[string]string{
		"input.voltage": "0.0", "input.voltage.fault": "0.0", "output.voltage": "219.8",
		"ups.load": "45", "input.frequency": "0.0", "battery.voltage": "21.10",
		"ups.temperature": "30.0", "ups.status": "OB LB", "ups.type": TypeStandby,
		"ups.beeper.status": "enabled", "battery.charge": "6",
	}},
	{"test and shutdown", "(231.0 231.0 230.0 020 50.0 27.0 26.0 00001110\r", map[string]string{
		"input.voltage": "231.0", "input.voltage.fault": "231.0", "output.voltage": "230.0",
		"ups.load": "20", "input.frequency": "50.0", "battery.voltage": "27.00",
		"ups.temperature": "26.0", "ups.status": "OL CAL FSD", "ups.type": TypeStandby,
		"ups.beeper.status": "disabled", "battery.charge": "100", "ups.alarm": AlarmShutdown,
	}},
	{"trim", "(250.0 250.0 220.0 030 50.0 27.1 27.0 00101000\r", map[string]string{
		"input.voltage": "250.0", "input.voltage.fault": "250.0", "output.voltage": "220.0",
		"ups.load": "30", "input.frequency": "50.0", "battery.voltage": "27.10",
		"ups.temperature": "27.0", "ups.status": "OL TRIM", "ups.type": TypeStandby,
		"ups.beeper.status": "disabled", "battery.charge": "100",
	}},
	{"boost", "(190.0 190.0 220.0 030 50.0 27.1 27.0 00101000\r", map[string]string{
		"input.voltage": "190.0", "input.voltage.fault": "190.0", "output.voltage": "220.0",
		"ups.load": "30", "input.frequency": "50.0", "battery.voltage": "27.10",
		"ups.temperature": "27.0", "ups.status": "OL BOOST", "ups.type": TypeStandby,
		"ups.beeper.status": "disabled", "battery.charge": "100",
	}},
	{"per cell, on-line, failed", "(235.0 235.0 230.0 025 50.0 2.27 31.0 00010000\r", map[string]string{
		"input.voltage": "235.0", "input.voltage.fault": "235.0", "output.voltage": "230.0",
		"ups.load": "25", "input.frequency": "50.0", "battery.voltage": "2.27",
		"ups.temperature": "31.0", "ups.status": "OL", "ups.type": TypeOnline,
		"ups.beeper.status": "disabled", "battery.charge": "100", "ups.alarm": AlarmFailed,
	}},
}

// decodeWithCharge decodes reply and adds NUT's charge for a 24 V battery.
func decodeWithCharge(t *testing.T, reply string) map[string]string {
	t.Helper()
	s, err := DecodeQ1([]byte(reply), nil)
	if err != nil {
		t.Fatalf("DecodeQ1(%q) error %v", reply, err)
	}
	if s.BatteryVoltage != nil {
		if m, ok := GuessCharge(24, 0, 0, 0, *s.BatteryVoltage); ok {
			c := m.Charge(*s.BatteryVoltage)
			s.BatteryCharge = &c
		}
	}
	return s.Vars()
}

func TestDecodeQ1NUTExamples(t *testing.T) {
	for _, tt := range nutExamples {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeWithCharge(t, tt.reply)
			if !maps.Equal(got, tt.want) {
				t.Errorf("DecodeQ1(%q).Vars() = %v, want %v", tt.reply, got, tt.want)
			}
		})
	}
}

func TestDecodeQ1Edges(t *testing.T) {
	tests := []struct {
		name    string
		reply   string
		opts    *Q1Options
		want    map[string]string // checked keys only; "" means absent
		wantErr bool
	}{
		{"unavailable battery field is absent", "(230.0 230.0 230.0 015 50.0 @@.@ 25.0 00001001\r", nil,
			map[string]string{"battery.voltage": "", "input.voltage": "230.0", "ups.status": "OL"}, false},
		{"unavailable temperature is absent", "(230.0 230.0 230.0 015 50.0 27.2 @@.@ 00001001\r", nil,
			map[string]string{"ups.temperature": "", "battery.voltage": "27.20"}, false},
		{"bad type bit drops ups.type only", "(230.0 230.0 230.0 015 50.0 27.2 25.0 0000X001\r", nil,
			map[string]string{"ups.type": "", "ups.status": "OL"}, false},
		{"bad beeper bit drops beeper only", "(230.0 230.0 230.0 015 50.0 27.2 25.0 0000100?\r", nil,
			map[string]string{"ups.beeper.status": "", "ups.type": TypeStandby}, false},
		{"bad failure bit drops alarm only", "(230.0 230.0 230.0 015 50.0 27.2 25.0 000-1001\r", nil,
			map[string]string{"ups.alarm": "", "ups.status": "OL"}, false},
		{"blank field is zero like strtod", "(230.0 230.0 230.0     50.0 27.2 25.0 00001001\r", nil,
			map[string]string{"ups.load": "0"}, false},
		{"strtod stops at a space", "(2 3.0 230.0 230.0 015 50.0 27.2 25.0 00001001\r", nil,
			map[string]string{"input.voltage": "2.0"}, false},
		{"leading dot", "(230.0 230.0 230.0 015 50.0 .275 25.0 00001001\r", nil,
			map[string]string{"battery.voltage": "0.28"}, false},
		{"load rounds half to even", "(230.0 230.0 230.0 2.5 50.0 27.2 25.0 00001001\r", nil,
			map[string]string{"ups.load": "2"}, false},
		{"longer reply read at fixed positions", "(230.0 230.0 230.0 015 50.0 27.2 25.0 00001001 EXTRA\r", nil,
			map[string]string{"ups.status": "OL"}, false},
		{"bypass", "(230.0 230.0 228.0 015 50.0 27.2 25.0 00101001\r", nil,
			map[string]string{"ups.status": "OL BYPASS"}, false},
		{"on battery, low, test, shutdown", "(000.0 000.0 220.0 045 00.0 21.1 30.0 11001111\r", nil,
			map[string]string{"ups.status": "OB LB CAL FSD"}, false},
		{"ignoresab hides FSD", "(231.0 231.0 230.0 020 50.0 27.0 26.0 00001110\r", &Q1Options{IgnoreSAB: true},
			map[string]string{"ups.status": "OL CAL", "ups.alarm": ""}, false},
		{"ignoresab skips a bad shutdown bit", "(231.0 231.0 230.0 020 50.0 27.0 26.0 000011X0\r", &Q1Options{IgnoreSAB: true},
			map[string]string{"ups.status": "OL CAL"}, false},
		{"short", "(230.0 230.0 230.0 015 50.0 27.2 25.0 0000100\r", nil, nil, true},
		{"no CR is short", "(230.0 230.0 230.0 015 50.0 27.2 25.0 00001001", nil, nil, true},
		{"wrong lead byte", "#230.0 230.0 230.0 015 50.0 27.2 25.0 00001001\r", nil, nil, true},
		{"bad utility bit", "(230.0 230.0 230.0 015 50.0 27.2 25.0 X0001001\r", nil, nil, true},
		{"bad low-battery bit", "(230.0 230.0 230.0 015 50.0 27.2 25.0 0@001001\r", nil, nil, true},
		{"bad test bit", "(230.0 230.0 230.0 015 50.0 27.2 25.0 000010 1\r", nil, nil, true},
		{"five-character battery field shifts the bits", "(230.0 230.0 230.0 015 50.0 27.20 25.0 00001001\r", nil, nil, true},
		{"regulation with output too low", "(250.0 250.0 100.0 030 50.0 27.1 27.0 00101000\r", nil, nil, true},
		{"regulation with output too high", "(100.0 100.0 220.0 030 50.0 27.1 27.0 00101000\r", nil, nil, true},
		{"regulation on battery (vi 0) fails like NUT", "(000.0 230.0 220.0 030 00.0 24.1 27.0 10101000\r", nil, nil, true},
		{"regulation without input voltage", "(@@@.@ 230.0 220.0 030 50.0 27.1 27.0 00101000\r", nil, nil, true},
		{"echo", "Q1\r", nil, nil, true},
		{"empty", "", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeQ1([]byte(tt.reply), tt.opts)
			if tt.wantErr {
				if !errors.Is(err, ErrGarbled) {
					t.Fatalf("DecodeQ1(%q) error = %v, want ErrGarbled", tt.reply, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeQ1(%q) error = %v", tt.reply, err)
			}
			got := s.Vars()
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("DecodeQ1(%q) %s = %q, want %q", tt.reply, k, got[k], w)
				}
			}
		})
	}
}

func TestStatusJSONRoundTrip(t *testing.T) {
	for _, tt := range nutExamples {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeQ1([]byte(tt.reply), nil)
			if err != nil {
				t.Fatal(err)
			}
			c, rt := 55.0, 95*time.Minute
			s.BatteryCharge, s.BatteryRuntime = &c, &rt
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back Status
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(%s) error %v", b, err)
			}
			if !reflect.DeepEqual(back.Vars(), s.Vars()) {
				t.Errorf("round trip of %s = %v, want %v", b, back.Vars(), s.Vars())
			}
		})
	}
}

func TestStatusJSONKeepsNUTPrecision(t *testing.T) {
	s, err := DecodeQ1([]byte(nutExamples[0].reply), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	want := `{"battery.voltage":27.20,"input.frequency":50.0,"input.voltage":230.0,"input.voltage.fault":230.0,` +
		`"output.voltage":230.0,"ups.beeper.status":"enabled","ups.load":15,"ups.status":"OL",` +
		`"ups.temperature":25.0,"ups.type":"offline / line interactive"}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
}

func TestGuessCharge(t *testing.T) {
	tests := []struct {
		name                      string
		nominal, low, high, packs float64
		v                         float64
		wantOK                    bool
		want                      ChargeModel
		wantCharge                float64
	}{
		{"24 V pack guessed", 24, 0, 0, 0, 24.5, true, ChargeModel{20.8, 26, 1}, 71.15384615384616},
		{"per cell detected as 12", 24, 0, 0, 0, 2.27, true, ChargeModel{20.8, 26, 12}, 100},
		{"12 V pack", 12, 0, 0, 0, 11.0, true, ChargeModel{10.4, 13, 1}, 23.07692307692308},
		{"user limits kept", 24, 21, 27, 0, 24, true, ChargeModel{21, 27, 1}, 50},
		{"one limit only: both guessed", 24, 21, 0, 0, 24, true, ChargeModel{20.8, 26, 1}, 61.53846153846155},
		{"no nominal, no limits", 0, 0, 0, 0, 24, false, ChargeModel{0, 0, 1}, 0},
		{"no nominal, user limits", 0, 20, 26, 0, 23, true, ChargeModel{20, 26, 1}, 50},
		{"packs forced", 24, 0, 0, 12, 1.9, true, ChargeModel{20.8, 26, 12}, 38.46153846153846},
		{"below low clamps to 0", 24, 0, 0, 1, 19, true, ChargeModel{20.8, 26, 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := GuessCharge(tt.nominal, tt.low, tt.high, tt.packs, tt.v)
			if ok != tt.wantOK || !near(m.Low, tt.want.Low) || !near(m.High, tt.want.High) || m.Packs != tt.want.Packs {
				t.Fatalf("GuessCharge(%g, %g, %g, %g, %g) = %+v, %v; want %+v, %v", tt.nominal, tt.low, tt.high, tt.packs, tt.v, m, ok, tt.want, tt.wantOK)
			}
			if ok {
				if c := m.Charge(tt.v); !near(c, tt.wantCharge) {
					t.Errorf("Charge(%g) = %g, want %g", tt.v, c, tt.wantCharge)
				}
			}
		})
	}
}

func TestDetectPacks(t *testing.T) {
	tests := []struct {
		name       string
		nominal, v float64
		want       float64
	}{
		{"pack", 24, 27.2, 1},
		{"per cell 24 V", 24, 2.27, 12},
		{"per cell 36 V", 36, 2.25, 18},
		{"two 12 V blocks reported as one", 24, 13.5, 2},
		{"nothing fits", 24, 0.05, 1},
		{"half", 24, 40, 0.5},
		{"too high for any", 24, 100, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectPacks(tt.nominal, tt.v); got != tt.want {
				t.Errorf("DetectPacks(%g, %g) = %g, want %g", tt.nominal, tt.v, got, tt.want)
			}
		})
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}
