package update

import (
	"errors"
	"path/filepath"
	"time"
)

// Report is the slot status the uplink publishes and "hallgw update status"
// prints.
type Report struct {
	Active          string `json:"active"`
	Trial           string `json:"trial,omitempty"`
	TriesLeft       int    `json:"tries_left,omitempty"`
	Booted          string `json:"booted,omitempty"`
	Current         string `json:"current"` // the slot the current link names
	SecurityVersion uint64 `json:"security_version"`
	// Version is the version of the booted (else active) slot.
	Version           string       `json:"version"`
	TrialProblem      string       `json:"trial_problem,omitempty"`
	LastFailureReason string       `json:"last_failure_reason,omitempty"`
	LastFailureAt     time.Time    `json:"last_failure_at,omitzero"`
	Slots             []SlotStatus `json:"slots"`
	History           []Event      `json:"history,omitempty"`
}

// SlotStatus describes one slot. Problem is empty when the slot looks
// complete; Status only compares sizes, Select checks the hashes.
type SlotStatus struct {
	Name            string    `json:"name"`
	Version         string    `json:"version,omitempty"`
	SecurityVersion uint64    `json:"security_version,omitempty"`
	KeyID           string    `json:"key_id,omitempty"`
	Installed       time.Time `json:"installed,omitzero"`
	Problem         string    `json:"problem,omitempty"`
}

// Status reads the slot state of root without taking the update lock or
// changing anything; it is cheap enough to publish periodically.
func Status(root string) (*Report, error) { return New(root).Status() }

// Status is the method form of the package function Status.
func (s *Slots) Status() (*Report, error) {
	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	r := &Report{
		Active:            st.Active,
		Trial:             st.Trial,
		TriesLeft:         st.TriesLeft,
		Booted:            st.Booted,
		Current:           s.currentSlot(),
		SecurityVersion:   st.SecurityVersion,
		TrialProblem:      st.TrialProblem,
		LastFailureReason: st.LastFailureReason,
		LastFailureAt:     st.LastFailureAt,
		History:           st.History,
	}
	for _, name := range SlotNames {
		ss := SlotStatus{Name: name}
		rec, err := s.readRecord(name)
		if err != nil {
			ss.Problem = err.Error()
		} else {
			ss.Version, ss.SecurityVersion, ss.KeyID, ss.Installed = rec.Version, rec.SecurityVersion, rec.KeyID, rec.Installed
			if err := s.quickCheck(name, rec); err != nil {
				ss.Problem = err.Error()
			}
		}
		booted := st.Booted
		if booted == "" {
			booted = st.Active
		}
		if name == booted {
			r.Version = ss.Version
		}
		r.Slots = append(r.Slots, ss)
	}
	return r, nil
}

// quickCheck compares the sizes of a slot's files with its record.
func (s *Slots) quickCheck(slot string, rec *SlotRecord) error {
	for _, f := range rec.Files {
		fi, err := s.fs().Lstat(filepath.Join(s.slotDir(slot), f.Name))
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Size() != f.Size {
			return errors.New(f.Name + ": wrong size or type")
		}
	}
	return nil
}
