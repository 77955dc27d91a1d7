package health

import (
	"testing"
	"time"
)

func TestRegistryChanges(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewRegistry(func() time.Time { return now })
	var got []Change
	r.Subscribe(func(c Change) { got = append(got, c) })

	r.Seen("kiosk-1/printer", "printer") // added, up
	r.Count("kiosk-1/printer", "printer", "timeout")
	now = now.Add(time.Minute)
	r.Update("kiosk-1/printer", "printer", func(d *Device) {
		d.State, d.Reason = Degraded, "paper near end"
		d.Detail = map[string]any{"paper_near_end": true}
	})
	r.Update("kiosk-1/printer", "printer", func(d *Device) {}) // no change

	if len(got) != 2 {
		t.Fatalf("got %d changes, want 2 (added, degraded): %+v", len(got), got)
	}
	if !got[0].Added || got[0].New.State != Up {
		t.Errorf("first change = %+v, want added and up", got[0])
	}
	if got[1].Old.State != Up || got[1].New.State != Degraded || !got[1].New.Since.Equal(now) {
		t.Errorf("second change = %+v", got[1])
	}
	d, _ := r.Get("kiosk-1/printer")
	if d.Errors["timeout"] != 1 {
		t.Errorf("errors = %v, want timeout 1", d.Errors)
	}
	// The copy handed out is not the registry's.
	d.Detail["paper_near_end"] = false
	if d2, _ := r.Get("kiosk-1/printer"); d2.Detail["paper_near_end"] != true {
		t.Error("Get returned shared detail map")
	}
}
