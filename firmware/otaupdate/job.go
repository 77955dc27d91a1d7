package otaupdate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"hallgw/firmware/update"
)

// JobFile is the name of the file, in the data directory, that remembers
// the update under way across restarts. The chunks themselves and the
// received-chunk bitmap are in the staging directory of firmware/update.
const JobFile = "firmware-update.json"

const (
	jobFormat  = 1
	maxJobSize = 4 << 10
)

// Job is the update under way, as kept in JobFile.
type Job struct {
	Format   int          `json:"format"`
	Offer    update.Offer `json:"offer"`
	Accepted time.Time    `json:"accepted"`
	// Installing is set just before the install starts: a start after a
	// power cut during the install looks for the bundle in the slots
	// before installing it again.
	Installing bool `json:"installing,omitempty"`
}

// ParseJob decodes and checks a job file.
func ParseJob(data []byte) (*Job, error) {
	if len(data) > maxJobSize {
		return nil, fmt.Errorf("otaupdate: job file of %d bytes", len(data))
	}
	var j Job
	if err := decodeStrict(data, &j); err != nil {
		return nil, fmt.Errorf("otaupdate: job file: %w", err)
	}
	if j.Format != jobFormat {
		return nil, fmt.Errorf("otaupdate: job file: format %d", j.Format)
	}
	if err := CheckOffer(j.Offer); err != nil {
		return nil, fmt.Errorf("otaupdate: job file: %w", err)
	}
	return &j, nil
}

// jobStore keeps the job file durably (temporary file, fsync, rename,
// directory fsync: update.FS.WriteFile).
type jobStore struct {
	fsys update.FS
	path string
}

func newJobStore(fsys update.FS, dataDir string) jobStore {
	if fsys == nil {
		fsys = update.OSFS{}
	}
	return jobStore{fsys: fsys, path: filepath.Join(dataDir, JobFile)}
}

// load returns the job, nil when there is none. A damaged file is an
// error; the caller drops it.
func (s jobStore) load() (*Job, error) {
	data, err := s.fsys.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("otaupdate: job file: %w", err)
	}
	return ParseJob(data)
}

func (s jobStore) save(j *Job) error {
	j.Format = jobFormat
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("otaupdate: job file: %w", err)
	}
	if err := s.fsys.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return fmt.Errorf("otaupdate: job file: %w", err)
	}
	if err := s.fsys.WriteFile(s.path, bytes.NewReader(data), 0o640); err != nil {
		return fmt.Errorf("otaupdate: job file: %w", err)
	}
	return nil
}

func (s jobStore) remove() error {
	if err := s.fsys.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("otaupdate: job file: %w", err)
	}
	return nil
}
