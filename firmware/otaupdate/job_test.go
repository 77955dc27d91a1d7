package otaupdate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/update"
)

func TestParseJob(t *testing.T) {
	offer := `{"sha256":"` + sha0 + `","size":5000,"chunk_size":1024,"version":"1.4.0"}`
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"downloading", `{"format":1,"offer":` + offer + `,"accepted":"2026-11-03T08:00:00Z"}`, true},
		{"installing", `{"format":1,"offer":` + offer + `,"accepted":"2026-11-03T08:00:00Z","installing":true}`, true},
		{"format 2", `{"format":2,"offer":` + offer + `,"accepted":"2026-11-03T08:00:00Z"}`, false},
		{"bad offer", `{"format":1,"offer":{"sha256":"x","size":1,"chunk_size":1024},"accepted":"2026-11-03T08:00:00Z"}`, false},
		{"unknown field", `{"format":1,"offer":` + offer + `,"accepted":"2026-11-03T08:00:00Z","x":1}`, false},
		{"truncated", `{"format":1,"offer":` + offer, false},
		{"empty", ``, false},
		{"too large", `{"format":1,"offer":` + offer + `,"accepted":"2026-11-03T08:00:00Z"}` + strings.Repeat(" ", 5000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := ParseJob([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ParseJob(%.60s) = %+v, %v, want ok %v", tt.in, j, err, tt.ok)
			}
			if tt.ok && (j.Offer.SHA256 != sha0 || j.Offer.Chunks() != 5) {
				t.Errorf("ParseJob(%.60s).Offer = %+v, want 5 chunks of %s", tt.in, j.Offer, sha0)
			}
		})
	}
}

func TestJobStore(t *testing.T) {
	dir := t.TempDir()
	s := newJobStore(nil, filepath.Join(dir, "data"))
	if j, err := s.load(); j != nil || err != nil {
		t.Fatalf("load() of nothing = %+v, %v, want nil, nil", j, err)
	}
	want := &Job{Offer: update.Offer{SHA256: sha0, Size: 3000, ChunkSize: 1024, Version: "2.0"},
		Accepted: time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC), Installing: true}
	if err := s.save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.load()
	if err != nil || *got != *want {
		t.Fatalf("load() = %+v, %v, want %+v", got, err, want)
	}
	if err := os.WriteFile(s.path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if j, err := s.load(); err == nil {
		t.Errorf("load() of a damaged file = %+v, nil, want an error", j)
	}
	if err := s.remove(); err != nil {
		t.Fatal(err)
	}
	if err := s.remove(); err != nil {
		t.Errorf("remove() of nothing = %v, want nil", err)
	}
}
