package halltest_test

import (
	"reflect"
	"testing"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

func TestConfigValid(t *testing.T) {
	if err := halltest.Config().Validate(); err != nil {
		t.Errorf("Config().Validate() = %v, want nil", err)
	}
}

func TestJournal(t *testing.T) {
	a, err := halltest.Journal(2, 3)
	if err != nil {
		t.Fatalf("Journal(2, 3) error = %v", err)
	}
	b, err := halltest.Journal(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Journal(2, 3) differs between two runs")
	}
	if a[0].Type != hall.EvConfigApplied {
		t.Errorf("first event = %v, want config_applied", a[0].Type)
	}
	seen := map[hall.EventType]int{}
	h, _ := hall.New(hall.Config{})
	for i, e := range a {
		seen[e.Type]++
		if err := h.Apply(e); err != nil {
			t.Fatalf("Apply(event %d %v) = %v", i, e.Type, err)
		}
	}
	if err := h.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	for typ := hall.EvConfigApplied; typ <= hall.EvAppointmentsLoaded; typ++ {
		if seen[typ] == 0 {
			t.Errorf("Journal(2, 3) has no %v event", typ)
		}
	}
	if day, _ := h.Day(); day != 2 {
		t.Errorf("Day() = %d, want 2", day)
	}
}
