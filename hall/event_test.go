package hall_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

var at = time.Date(2026, 3, 2, 1, 2, 3, 456789, time.UTC)

// sampleEvents has one event of each type with the fields Decide sets.
func sampleEvents(t testing.TB) []hall.Event {
	cfg, err := halltest.Config().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	est := hall.Estimate{Point: 7 * time.Minute, Lo: 5 * time.Minute, Hi: 9 * time.Minute, Known: true}
	return []hall.Event{
		{Type: hall.EvConfigApplied, At: at, Config: cfg, Source: "platform"},
		{Type: hall.EvDayReset, At: at, Count: 1},
		{Type: hall.EvTicketIssued, At: at, Ticket: 1, Number: "A001", Service: "social", Priority: hall.Green,
			Reason: "elderly", Count: 1, Ahead: 4, Estimate: est, Source: "kiosk", Personal: []byte{0xde, 0xad, 0, 1}},
		{Type: hall.EvTicketIssued, At: at, Ticket: 2, Number: "B001", Service: "household",
			Priority: hall.PriorityAppointment, Appointment: "20260302-01", Count: 1, Estimate: hall.Estimate{}},
		{Type: hall.EvTicketCalled, At: at, Ticket: 1, Number: "A001", Service: "social", Window: "w1", Staff: "s7", Priority: hall.Green},
		{Type: hall.EvTicketRecalled, At: at, Ticket: 1, Number: "A001", Window: "w1", Count: 2},
		{Type: hall.EvServiceStarted, At: at, Ticket: 1, Window: "w1"},
		{Type: hall.EvTicketSkipped, At: at, Ticket: 1, Window: "w1", Reason: "absent"},
		{Type: hall.EvTicketReactivated, At: at, Ticket: 1, Window: "w2"},
		{Type: hall.EvTicketTransferred, At: at, Ticket: 1, Window: "w1", Service: "social", ToWindow: "w6", Return: true},
		{Type: hall.EvTicketHeld, At: at, Ticket: 1, Window: "w1"},
		{Type: hall.EvTicketResumed, At: at, Ticket: 1, Window: "w1"},
		{Type: hall.EvTicketFinished, At: at, Ticket: 1, Window: "w1"},
		{Type: hall.EvTicketReturned, At: at, Ticket: 1, Window: "w6", ToWindow: "w1", ToService: "social"},
		{Type: hall.EvTicketExpired, At: at, Ticket: 1, Reason: "day_reset"},
		{Type: hall.EvPriorityChanged, At: at, Ticket: 1, Priority: hall.Green, Reason: "staff"},
		{Type: hall.EvWindowOpened, At: at, Window: "w1", Staff: "s7"},
		{Type: hall.EvWindowClosed, At: at, Window: "w1"},
		{Type: hall.EvWindowPaused, At: at, Window: "w1", Reason: "午休"},
		{Type: hall.EvWindowUnpaused, At: at, Window: "w1"},
		{Type: hall.EvTurnNear, At: at, Ticket: 1, Number: "A001", Ahead: 3, Estimate: est},
		{Type: hall.EvAppointmentsLoaded, At: at, Count: 2, Appointments: []hall.Appointment{
			{ID: "x1", Service: "social", Start: at, End: at.Add(30 * time.Minute), HolderHash: "9f86d0"},
			{ID: "x2", Service: "tax", Start: at.Add(time.Hour), End: at.Add(90 * time.Minute)},
		}},
		{Type: hall.EventType(42), At: at, Count: -7, Ahead: -1}, // a future type still round-trips
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range sampleEvents(t) {
		t.Run(e.Type.String(), func(t *testing.T) {
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary() error = %v", err)
			}
			var got hall.Event
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary() error = %v", err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("UnmarshalBinary(MarshalBinary(e)) = %+v, want %+v", got, e)
			}
			if app, _ := e.AppendBinary([]byte("xx")); !bytes.Equal(app[2:], b) {
				t.Errorf("AppendBinary = %x, want %x", app[2:], b)
			}
		})
	}
}

func TestEventEncodingIsCompact(t *testing.T) {
	e := hall.Event{Type: hall.EvTicketCalled, At: at, Ticket: 1234, Number: "A012", Service: "social",
		Window: "w1", Staff: "s7", Priority: hall.Green}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// version, type, mask(2), time(9), ticket(2), 4 strings (1+4, 1+6, 1+2, 1+2), priority
	if want := 1 + 1 + 2 + 9 + 2 + 5 + 7 + 3 + 3 + 1; len(b) != want {
		t.Errorf("len(MarshalBinary(called)) = %d, want %d (% x)", len(b), want, b)
	}
}

func TestEventForwardCompatible(t *testing.T) {
	e := sampleEvents(t)[2]
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// A later version adds field bit 30 with its data at the end.
	var mask uint64
	var r = bytes.NewReader(b[2:])
	mask, err = binary.ReadUvarint(r)
	if err != nil {
		t.Fatal(err)
	}
	rest := b[len(b)-r.Len():]
	future := append([]byte{b[0], b[1]}, binary.AppendUvarint(nil, mask|1<<30)...)
	future = append(future, rest...)
	future = append(future, 5, 'h', 'e', 'l', 'l', 'o')
	var got hall.Event
	if err := got.UnmarshalBinary(future); err != nil {
		t.Fatalf("UnmarshalBinary(with a future field) error = %v", err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("UnmarshalBinary(with a future field) = %+v, want %+v", got, e)
	}
}

func TestEventUnmarshalGarbage(t *testing.T) {
	good, err := sampleEvents(t)[2].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	withByte := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version only", []byte{1}},
		{"version 2", withByte(0, 2)},
		{"version 0", withByte(0, 0)},
		{"type 0", withByte(1, 0)},
		{"truncated after mask", good[:5]},
		{"truncated in personal", good[:len(good)-1]},
		{"string longer than data", []byte{1, 3, 0x02, 0, 0xff, 0x7f}},
		{"ticket bit with zero ticket", []byte{1, 3, 0x01, 0, 0}},
		{"bad priority", []byte{1, 3, 0x80, 0x08, 0, 7}},
		{"bad bool in estimate", append([]byte{1, 3, 0x80, 0x80, 0x01, 0}, 0, 0, 0, 2)},
		{"appointment count beyond data", []byte{1, 3, 0x80, 0x80, 0x02, 0, 0xff, 0xff, 0x03}},
		{"time out of range", []byte{1, 3, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"varint overflow", []byte{1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e hall.Event
			if err := e.UnmarshalBinary(c.data); err == nil {
				t.Errorf("UnmarshalBinary(% x) = nil, want an error (got %+v)", c.data, e)
			}
		})
	}
}

func TestEventMarshalErrors(t *testing.T) {
	cases := []struct {
		name string
		e    hall.Event
	}{
		{"no type", hall.Event{At: at}},
		{"time before 1900", hall.Event{Type: hall.EvDayReset, At: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"appointment after 2200", hall.Event{Type: hall.EvAppointmentsLoaded, At: at,
			Appointments: []hall.Appointment{{ID: "a", Start: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}}},
		{"bad priority", hall.Event{Type: hall.EvTicketCalled, At: at, Priority: 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if b, err := c.e.MarshalBinary(); err == nil {
				t.Errorf("MarshalBinary(%+v) = % x, want an error", c.e, b)
			}
		})
	}
}

// FuzzEventUnmarshal checks that any input either fails cleanly or decodes
// to an event that round-trips.
func FuzzEventUnmarshal(f *testing.F) {
	for _, e := range sampleEvents(f) {
		b, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e hall.Event
		if err := e.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary(UnmarshalBinary(% x)) error = %v", data, err)
		}
		var again hall.Event
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary(e)) error = %v", err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip = %+v, want %+v", again, e)
		}
		// Applying a decoded event to a working hall never panics, and a
		// refused event changes nothing.
		h := fuzzHall(t)
		before := h.Digest()
		if err := h.Apply(e); err != nil {
			if !errors.Is(err, hall.ErrBadState) {
				t.Fatalf("Apply error %v is not ErrBadState", err)
			}
			if h.Digest() != before {
				t.Fatalf("refused Apply(%+v) changed the state", e)
			}
		}
	})
}
