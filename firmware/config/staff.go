package config

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Staff is one member of the hall's staff. The pad at the window they sign
// in to (the staff ID of the window's sign-in, 考勤 of DB43/T 2422 part 2
// §9.1) shows their name, number and photo, as the staff notice board of
// part 1 §5.5.5 does. Staff are public at their window, so the name is
// shown in full; it never travels upstream with ratings (they carry the
// ID).
type Staff struct {
	ID     string `yaml:"id"`     // the ID the window signs in with
	Name   string `yaml:"name"`   // shown on the pad
	Number string `yaml:"number"` // 工号, shown on the pad
	// Photo is a JPEG, PNG or WebP file, relative to the root like every
	// configured path; empty shows no photo.
	Photo string `yaml:"photo"`
	// IDHash is the holder hash of their ID card (docs/privacy.md), for
	// signing in at a window's card reader.
	IDHash string `yaml:"id_hash"`
}

// StaffCards returns the staff roster as the window readers match it.
func (c *Config) StaffCards() []StaffCard {
	out := make([]StaffCard, len(c.Staff))
	for i, s := range c.Staff {
		out[i] = StaffCard{ID: s.ID, IDHash: s.IDHash}
	}
	return out
}

// Limits of a staff entry.
const (
	MaxStaffName   = 32 // characters
	MaxStaffNumber = 32 // characters
)

var photoExts = []string{".jpg", ".jpeg", ".png", ".webp"}

// ValidateStaff checks a staff list (the `staff:` section) and returns
// Errors naming each problem, or nil.
func ValidateStaff(staff []Staff) error {
	v := &validator{}
	validateStaff(v, staff)
	if len(v.errs) == 0 {
		return nil
	}
	return Errors(v.errs)
}

// validateStaff checks the `staff:` section: unique IDs that fit an event
// id, a name and a number of printable text, a photo of a known type.
func validateStaff(v *validator, staff []Staff) {
	seen := make(map[string]int, len(staff))
	for i, s := range staff {
		p := "staff[" + itoa(i) + "]"
		v.checkID(p+".id", s.ID)
		if j, dup := seen[s.ID]; dup && s.ID != "" {
			v.errf(p+".id", "%q already used by staff[%d]", s.ID, j)
		}
		seen[s.ID] = i
		if !printable(s.Name, MaxStaffName) {
			v.errf(p+".name", "want 1–%d printable characters", MaxStaffName)
		}
		if !printable(s.Number, MaxStaffNumber) {
			v.errf(p+".number", "want 1–%d printable characters", MaxStaffNumber)
		}
		if s.Photo != "" {
			ext := strings.ToLower(filepath.Ext(s.Photo))
			known := false
			for _, e := range photoExts {
				known = known || ext == e
			}
			if !known {
				v.errf(p+".photo", "%q: want a .jpg, .png or .webp file", s.Photo)
			}
		}
	}
}

// printable reports whether s is 1–max characters of printable text.
func printable(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// FindStaff returns the entry of staff with the given ID.
func FindStaff(staff []Staff, id string) (Staff, bool) {
	for _, s := range staff {
		if s.ID == id {
			return s, true
		}
	}
	return Staff{}, false
}
