package uplink

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

const (
	clearID   = "11010519491231002X" // the standard's sample number
	clearName = "张三丰"
)

// TestEventsCarryNoPersonalData sends hall events whose journal records
// carry a citizen's ID number and name (sealed personal data, appointment
// holder hashes, a birth date) and checks that no payload contains them.
func TestEventsCarryNoPersonalData(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	personal := []byte(`{"id_number":"` + clearID + `","name":"` + clearName + `"}`)
	evs := []hall.Event{
		{Type: hall.EvTicketIssued, At: at, Ticket: 1, Number: "A001", Service: "general", Source: "kiosk",
			Priority: hall.Green, Personal: personal, Ahead: 4},
		{Type: hall.EvAppointmentsLoaded, At: at, Count: 1, Appointments: []hall.Appointment{
			{ID: "ap1", Service: "general", Start: at, End: at.Add(time.Hour), HolderHash: clearID}}},
		{Type: hall.EvTurnNear, At: at, Ticket: 1, Number: "A001", Service: "general", Ahead: 3},
	}
	for i, ev := range evs {
		data, err := ev.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != hall.EvTurnNear && !bytes.Contains(data, []byte(clearID)) {
			t.Fatalf("event %d: the journal record does not carry the ID number; the test tests nothing", i)
		}
		for _, hist := range []bool{false, true} {
			p, err := EncodeEvent(testGW, journal.Record{Seq: uint64(i + 1), Kind: gateway.KindHall, At: at, Data: data}, hist)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(p, []byte(clearID)) || bytes.Contains(p, []byte(clearName)) || bytes.Contains(p, []byte("1949")) {
				t.Errorf("payload of %s carries personal data: %s", ev.Type, p)
			}
			var e Event
			if err := json.Unmarshal(p, &e); err != nil || e.Type != ev.Type.String() || e.Historical != hist {
				t.Errorf("payload %s: %v, want type %s historical %v", p, err, ev.Type, hist)
			}
		}
	}
	// The turn-near event tells the platform who to remind, by ticket.
	p, _ := EncodeEvent(testGW, journal.Record{Seq: 3, Kind: gateway.KindHall, At: at, Data: mustMarshal(t, evs[2])}, false)
	if !bytes.Contains(p, []byte(`"type":"turn_near"`)) || !bytes.Contains(p, []byte(`"ahead":3`)) || !bytes.Contains(p, []byte(`"number":"A001"`)) {
		t.Errorf("turn_near payload = %s", p)
	}
	// A record of another kind that somehow holds a clear number is masked.
	p, _ = EncodeEvent(testGW, journal.Record{Seq: 9, Kind: "note", At: at, Data: []byte(`{"type":"note","text":"holder ` + clearID + `"}`)}, false)
	if bytes.Contains(p, []byte(clearID)) || !bytes.Contains(p, []byte("1101**********002X")) {
		t.Errorf("masked payload = %s", p)
	}
}

func mustMarshal(t *testing.T, ev hall.Event) []byte {
	t.Helper()
	b, err := ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeEventKinds(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name string
		rec  journal.Record
		want string
	}{
		{"json record", journal.Record{Seq: 7, Kind: "health", At: at, Data: []byte(`{"type":"device_health","device":{"id":"p1"}}`)},
			`{"v":1,"kind":"health","id":"gw-t1:7","seq":7,"type":"device_health","at":"2026-03-02T01:00:00.123456789Z","data":{"type":"device_health","device":{"id":"p1"}}}`},
		{"json without type", journal.Record{Seq: 8, Kind: "misc", At: at, Data: []byte(`[1, 2]`)},
			`{"v":1,"kind":"misc","id":"gw-t1:8","seq":8,"type":"misc","at":"2026-03-02T01:00:00.123456789Z","data":[1,2]}`},
		{"opaque bytes", journal.Record{Seq: 9, Kind: "blob", At: at, Data: []byte{0xff, 0x00}},
			`{"v":1,"kind":"blob","id":"gw-t1:9","seq":9,"type":"blob","at":"2026-03-02T01:00:00.123456789Z","data":"/wA="}`},
		{"undecodable hall record", journal.Record{Seq: 10, Kind: "hall", At: at, Data: []byte{0x01, 0x02, 0x03}},
			`{"v":1,"kind":"hall","id":"gw-t1:10","seq":10,"type":"undecodable","at":"2026-03-02T01:00:00.123456789Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEvent(testGW, tt.rec, false)
			if err != nil || string(got) != tt.want {
				t.Errorf("EncodeEvent = %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}
}

func TestMaskIDNumbers(t *testing.T) {
	tests := []struct {
		name, in, want string
		n              int
	}{
		{"valid with X", `"id":"11010519491231002X"`, `"id":"1101**********002X"`, 1},
		{"valid lower x", `a 11010519491231002x b`, `a 1101**********002x b`, 1},
		{"bad check digit", `11010519491231002Y`, `11010519491231002Y`, 0},
		{"wrong checksum", `110105194912310021`, `110105194912310021`, 0},
		{"part of a longer number", `1795832628110105194912310027`, `1795832628110105194912310027`, 0},
		{"17 digits", `11010519491231002`, `11010519491231002`, 0},
		{"followed by a letter", `11010519491231002Xa`, `11010519491231002Xa`, 0},
		{"two", `11010519491231002X,11010519491231002X`, `1101**********002X,1101**********002X`, 2},
		{"nanosecond time", `"at":1795832628123456789`, `"at":1795832628123456789`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := MaskIDNumbers([]byte(tt.in))
			if string(got) != tt.want || n != tt.n {
				t.Errorf("MaskIDNumbers(%q) = %q, %d, want %q, %d", tt.in, got, n, tt.want, tt.n)
			}
		})
	}
}

// TestFastEventJSON checks that the hand-written encoder writes exactly what
// json.Marshal writes, on random events with awkward strings.
func TestFastEventJSON(t *testing.T) {
	if !fastEvents {
		t.Fatalf("gateway.EventDoc changed shape; update knownEventDocShape and appendHallEvent:\n%s", eventDocShape())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "A012", "综合受理", `"quoted"`, `back\slash`, "<b>&amp;", "tab\there", "nl\n", "\x00\x01\x1f",
		"\u2028\u2029", "\xff\xfe bad utf8", "emoji 🙂", "\u007f"}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(3) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for i := range 5000 {
		d := gateway.EventDoc{
			ID: str(), Seq: rng.Uint64(), Type: str(),
			At:     time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)).UTC(),
			Number: str(), Service: str(), Window: str(), ToService: str(), ToWindow: str(), Staff: str(),
			Reason: str(), Appointment: str(), Source: str(), Priority: str(),
			Return: rng.IntN(2) == 0, Count: rng.IntN(5) - 2, Appts: rng.IntN(3),
		}
		if rng.IntN(2) == 0 {
			d.Ticket = rng.Uint64N(1000)
		}
		if rng.IntN(2) == 0 {
			a := rng.IntN(100) - 50
			d.Ahead = &a
		}
		if rng.IntN(2) == 0 {
			d.Estimate = &gateway.EstimateDoc{Known: rng.IntN(2) == 0, Point: rng.Int64N(1e5) - 10, Lo: rng.Int64N(1e5), Hi: rng.Int64N(1e5)}
		}
		e := Event{V: SchemaVersion, Kind: str(), EventDoc: d, Historical: rng.IntN(2) == 0}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendHallEvent(nil, &e)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("event %d: appendHallEvent =\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestTopics(t *testing.T) {
	tp := NewTopics("zwfw/hallgw/", "hn-cs", "gw-01")
	tests := []struct{ got, want string }{
		{tp.Status(), "zwfw/hallgw/hn-cs/gw-01/status"},
		{tp.Events(), "zwfw/hallgw/hn-cs/gw-01/events"},
		{tp.Health("kiosk-1/printer"), "zwfw/hallgw/hn-cs/gw-01/health/kiosk-1/printer"},
		{tp.Health("bad+#id"), "zwfw/hallgw/hn-cs/gw-01/health/bad__id"},
		{tp.Faults(), "zwfw/hallgw/hn-cs/gw-01/faults"},
		{tp.Telemetry(), "zwfw/hallgw/hn-cs/gw-01/telemetry"},
		{tp.Command(), "zwfw/hallgw/hn-cs/gw-01/cmd"},
		{tp.Reply(), "zwfw/hallgw/hn-cs/gw-01/reply"},
		{NewTopics("", "h", "g").Status(), "h/g/status"},
		{Filter("hallgw", "", ""), "hallgw/+/+/#"},
		{Filter("hallgw", "h1", ""), "hallgw/h1/+/#"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("topic = %q, want %q", tt.got, tt.want)
		}
	}
	splits := []struct {
		prefix, topic, hall, gw, rest string
		ok                            bool
	}{
		{"hallgw", "hallgw/h1/g1/health/kiosk-1/printer", "h1", "g1", "health/kiosk-1/printer", true},
		{"zwfw/hallgw", "zwfw/hallgw/h1/g1/events", "h1", "g1", "events", true},
		{"hallgw", "other/h1/g1/events", "", "", "", false},
		{"hallgw", "hallgw/h1/g1", "", "", "", false},
		{"", "h1/g1/status", "h1", "g1", "status", true},
	}
	for _, s := range splits {
		h, g, r, ok := Split(s.prefix, s.topic)
		if h != s.hall || g != s.gw || r != s.rest || ok != s.ok {
			t.Errorf("Split(%q, %q) = %q %q %q %v, want %q %q %q %v", s.prefix, s.topic, h, g, r, ok, s.hall, s.gw, s.rest, s.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 60 * time.Second, Rand: rand.New(rand.NewPCG(7, 7))}
	tests := []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, time.Second, 2 * time.Second},
		{3, 4 * time.Second, 8 * time.Second},
		{6, 30 * time.Second, 60 * time.Second},
		{40, 30 * time.Second, 60 * time.Second},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(tt.attempt)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.lo, tt.hi)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("Delay(%d) took %d distinct values in 200 draws: not jittered", tt.attempt, len(seen))
		}
	}
}
