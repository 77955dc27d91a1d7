package health

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// memStore is a Store in memory.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Meta(k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.m[k]...), nil
}

func (s *memStore) SetMeta(k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[k] = append([]byte(nil), v...)
	return nil
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func dev(id, kind string, st State, since time.Time) Device {
	return Device{ID: id, Kind: kind, State: st, Since: since}
}

func TestClassify(t *testing.T) {
	now := t0.Add(2 * time.Hour)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	type want struct {
		key   string
		cat   Category
		level Level
	}
	tests := []struct {
		name string
		devs []Device
		want []want
	}{
		{"all up", []Device{dev("uplink", KindUplink, Up, ago(time.Hour)), dev("k1/printer", "printer", Up, ago(time.Hour))}, nil},
		{"uplink down is network III", []Device{dev("uplink", KindUplink, Down, ago(time.Minute))},
			[]want{{"network:uplink", Network, LevelIII}}},
		{"uplink blip within grace is no fault", []Device{dev("uplink", KindUplink, Down, ago(5*time.Second))}, nil},
		{"some terminals down is network II", []Device{
			dev("b1/t1", KindTerminal, Down, ago(time.Minute)), dev("b1/t2", KindTerminal, Up, ago(time.Hour)),
		}, []want{{"network:windows", Network, LevelII}}},
		{"every terminal down is network I", []Device{
			dev("b1/t1", KindTerminal, Down, ago(time.Minute)), dev("b1/t2", KindTerminal, Down, ago(2*time.Minute)),
		}, []want{{"network:windows", Network, LevelI}}},
		{"every bus down is network I", []Device{
			dev("b1", KindBus, Down, ago(time.Minute)), dev("b1/t1", KindTerminal, Up, ago(time.Hour)),
		}, []want{{"network:windows", Network, LevelI}}},
		{"degraded is no fault", []Device{dev("k1/printer", "printer", Degraded, ago(3*time.Hour))}, nil},
		{"printer down 5 min is system III", []Device{dev("k1/printer", "printer", Down, ago(5*time.Minute))},
			[]want{{"system:k1/printer", System, LevelIII}}},
		{"printer down 30 min is system II", []Device{dev("k1/printer", "printer", Down, ago(30*time.Minute))},
			[]want{{"system:k1/printer", System, LevelII}}},
		{"display down 61 min is system I", []Device{dev("d1", "display", Down, ago(61*time.Minute))},
			[]want{{"system:d1", System, LevelI}}},
		{"journal write failure is system", []Device{dev("gateway/journal", KindJournal, Down, ago(time.Minute))},
			[]want{{"system:gateway/journal", System, LevelIII}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFaults(FaultOptions{GatewayID: "gw", Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			got := f.classify(tt.devs, now)
			if len(got) != len(tt.want) {
				t.Fatalf("classify = %v, want %v", got, tt.want)
			}
			for _, w := range tt.want {
				c, ok := got[w.key]
				if !ok || c.category != w.cat || c.level != w.level {
					t.Errorf("classify[%s] = %+v (present %v), want %s level %s", w.key, c, ok, w.cat, w.level)
				}
			}
		})
	}
}

func TestFaultLifecycle(t *testing.T) {
	now := t0
	store := &memStore{}
	var changes []FaultChange
	opts := FaultOptions{GatewayID: "gw-1", Now: func() time.Time { return now }, Store: store,
		OnChange: func(c FaultChange) { changes = append(changes, c) }}
	f, err := NewFaults(opts)
	if err != nil {
		t.Fatal(err)
	}
	down := t0
	printer := func(st State) []Device {
		return []Device{dev("k1/printer", "printer", st, down), dev("uplink", KindUplink, Up, t0)}
	}
	now = t0.Add(10 * time.Second)
	f.Observe(printer(Down)) // within grace
	if len(changes) != 0 {
		t.Fatalf("changes within grace = %+v, want none", changes)
	}
	now = t0.Add(time.Minute)
	f.Observe(printer(Down))
	now = t0.Add(25 * time.Minute)
	f.Observe(printer(Down))
	now = t0.Add(70 * time.Minute)
	f.Observe(printer(Down))
	f.Observe(printer(Down)) // nothing new
	now = t0.Add(80 * time.Minute)
	f.Observe(printer(Up))

	var types []string
	var levels []Level
	for _, c := range changes {
		types = append(types, c.Type)
		levels = append(levels, c.Fault.Level)
	}
	wantTypes := []string{FaultOpened, FaultLevel, FaultLevel, FaultCleared}
	wantLevels := []Level{LevelIII, LevelII, LevelI, LevelI}
	if !reflect.DeepEqual(types, wantTypes) || !reflect.DeepEqual(levels, wantLevels) {
		t.Fatalf("changes = %v %v, want %v %v", types, levels, wantTypes, wantLevels)
	}
	last := changes[3].Fault
	if last.ID != "gw-1:F1" || !last.Start.Equal(t0) || !last.End.Equal(now) || last.Device != "k1/printer" {
		t.Errorf("cleared fault = %+v, want id gw-1:F1 start %v end %v", last, t0, now)
	}
	wantSteps := []LevelStep{{LevelIII, t0}, {LevelII, t0.Add(20 * time.Minute)}, {LevelI, t0.Add(time.Hour)}}
	if !reflect.DeepEqual(last.Levels, wantSteps) {
		t.Errorf("level history = %+v, want %+v", last.Levels, wantSteps)
	}

	// Closing needs a note; an unknown id is refused.
	if _, err := f.Close("gw-1:F1", "  ", "r1"); err == nil {
		t.Error("Close with an empty note succeeded")
	}
	if _, err := f.Close("gw-1:F9", "x", "r1"); !errors.Is(err, ErrUnknownFault) {
		t.Errorf("Close(unknown) = %v, want ErrUnknownFault", err)
	}
	// A restart keeps the unresolved fault.
	f2, err := NewFaults(opts)
	if err != nil {
		t.Fatal(err)
	}
	if l := f2.List(); len(l) != 1 || l[0].ID != "gw-1:F1" || l[0].Ongoing() {
		t.Fatalf("restored faults = %+v, want the cleared gw-1:F1", l)
	}
	closed, err := f2.Close("gw-1:F1", "replaced the print head", "req-7")
	if err != nil {
		t.Fatalf("Close = %v", err)
	}
	if closed.Note != "replaced the print head" || closed.ClosedBy != "req-7" || !closed.Closed.Equal(now) {
		t.Errorf("closed fault = %+v", closed)
	}
	if got := changes[len(changes)-1].Type; got != FaultClosed {
		t.Errorf("last change = %s, want %s", got, FaultClosed)
	}
	if l := f2.List(); len(l) != 0 {
		t.Errorf("List after close = %+v, want empty", l)
	}
	// Ids are never reused after a restart.
	f3, _ := NewFaults(opts)
	down = now
	now = now.Add(time.Minute)
	f3.Observe(printer(Down))
	if l := f3.List(); len(l) != 1 || l[0].ID != "gw-1:F2" {
		t.Errorf("next fault = %+v, want gw-1:F2", l)
	}
}

func TestFaultOngoingCannotClose(t *testing.T) {
	now := t0.Add(time.Hour)
	f, _ := NewFaults(FaultOptions{GatewayID: "gw", Now: func() time.Time { return now }})
	f.Observe([]Device{dev("uplink", KindUplink, Down, t0)})
	l := f.List()
	if len(l) != 1 {
		t.Fatalf("List = %+v, want one fault", l)
	}
	if _, err := f.Close(l[0].ID, "done", "r"); !errors.Is(err, ErrFaultOngoing) {
		t.Errorf("Close(ongoing) = %v, want ErrFaultOngoing", err)
	}
	if n, s := f.Levels(); n != LevelIII || s != LevelNone {
		t.Errorf("Levels = %v %v, want III none", n, s)
	}
}

func TestFaultWindowsDeEscalate(t *testing.T) {
	now := t0.Add(time.Hour)
	var changes []FaultChange
	f, _ := NewFaults(FaultOptions{GatewayID: "gw", Now: func() time.Time { return now },
		OnChange: func(c FaultChange) { changes = append(changes, c) }})
	f.Observe([]Device{dev("t1", KindTerminal, Down, t0), dev("t2", KindTerminal, Down, t0)})
	now = now.Add(time.Minute)
	f.Observe([]Device{dev("t1", KindTerminal, Down, t0), dev("t2", KindTerminal, Up, now)})
	if len(changes) != 2 || changes[0].Fault.Level != LevelI || changes[1].Type != FaultLevel || changes[1].Fault.Level != LevelII {
		t.Fatalf("changes = %+v, want opened at I then level II", changes)
	}
	if got := changes[1].Fault.Devices; !reflect.DeepEqual(got, []string{"t1"}) {
		t.Errorf("devices = %v, want [t1]", got)
	}
}

func TestFaultRestoredWaitsForDevices(t *testing.T) {
	now := t0.Add(time.Hour)
	store := &memStore{}
	opts := FaultOptions{GatewayID: "gw", Now: func() time.Time { return now }, Store: store}
	f, _ := NewFaults(opts)
	f.Observe([]Device{dev("d1", "display", Down, t0)})
	// After a restart the display has not reported yet: the fault stays.
	f2, _ := NewFaults(opts)
	f2.Observe([]Device{dev("d1", "display", Unknown, now)})
	if l := f2.List(); len(l) != 1 || !l[0].Ongoing() {
		t.Fatalf("faults right after restart = %+v, want one ongoing", l)
	}
	f2.Observe([]Device{dev("d1", "display", Up, now)})
	if l := f2.List(); len(l) != 1 || l[0].Ongoing() {
		t.Fatalf("faults after the display reported = %+v, want one cleared", l)
	}
}

func TestLevelText(t *testing.T) {
	tests := []struct {
		l    Level
		text string
	}{{LevelNone, ""}, {LevelI, "I"}, {LevelII, "II"}, {LevelIII, "III"}}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			b, err := tt.l.MarshalText()
			if err != nil || string(b) != tt.text {
				t.Fatalf("MarshalText(%d) = %q, %v, want %q", tt.l, b, err, tt.text)
			}
			var back Level
			if err := back.UnmarshalText(b); err != nil || back != tt.l {
				t.Errorf("UnmarshalText(%q) = %v, %v, want %v", b, back, err, tt.l)
			}
		})
	}
	var l Level
	if err := l.UnmarshalText([]byte("IV")); err == nil {
		t.Error("UnmarshalText(IV) succeeded")
	}
	if !LevelI.Worse(LevelII) || LevelIII.Worse(LevelII) || !LevelIII.Worse(LevelNone) || LevelNone.Worse(LevelIII) {
		t.Error("Worse ordering wrong")
	}
}

func TestDiskAndClock(t *testing.T) {
	d := Disk(t.TempDir())
	if d.Err != "" || d.TotalBytes == 0 || d.FreeBytes > d.TotalBytes || d.UsedPercent < 0 || d.UsedPercent > 100 {
		t.Errorf("Disk(tempdir) = %+v, want a plausible file system", d)
	}
	if bad := Disk("/nonexistent/dir/for/statfs"); bad.Err == "" {
		t.Errorf("Disk(missing) = %+v, want an error", bad)
	}
	switch c := ReadClock(); c.State {
	case ClockSynced, ClockUnsynced, ClockUnknown:
	default:
		t.Errorf("ReadClock = %+v, want one of the three states", c)
	}
}
