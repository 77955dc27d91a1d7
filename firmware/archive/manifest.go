package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// ManifestName is the manifest's file name in a case directory.
const ManifestName = "manifest.json"

// Manifest lists what a case directory holds and how far each file got
// on its way to the platform. It is rewritten atomically on every change.
type Manifest struct {
	V    int    `json:"v"`
	Case string `json:"case"`
	// Provisional is set for scans made without a case number; Case is
	// then a gateway-made id (TMP-<window>-<time>).
	Provisional bool      `json:"provisional,omitempty"`
	Created     time.Time `json:"created"`
	Batches     []*Batch  `json:"batches"`
}

// Batch is one scan: the pages of one press of the scan key or pedal.
type Batch struct {
	ID     string    `json:"id"` // 20060102T150405Z, unique in the case
	At     time.Time `json:"at"`
	Window string    `json:"window"`
	Staff  string    `json:"staff,omitempty"`
	Format string    `json:"format"`
	Pages  int       `json:"pages"`
	// Status is "ok" or why the scan stopped early ("jammed", …), the
	// pages before it being kept.
	Status string `json:"status"`
	// Seq is the journal seq of the batch's scan record; 0 until it is
	// durable (a batch is uploaded only once journaled).
	Seq   uint64  `json:"seq,omitempty"`
	Files []*File `json:"files"`
	// OverdueReported is set once the batch's delivery deadline passed and
	// the alarm was journaled.
	OverdueReported bool `json:"overdue_reported,omitempty"`
	// Delivered is set when every file is delivered and the delivery
	// journaled.
	Delivered time.Time `json:"delivered,omitzero"`
}

// File is one file of a batch.
type File struct {
	Name   string `json:"name"`
	Pages  int    `json:"pages"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Acked is how many bytes from the start the platform acknowledged.
	Acked int64 `json:"acked"`
	// Delivered is set when the platform's final acknowledgement confirmed
	// the hash; the file is then deleted.
	Delivered time.Time `json:"delivered,omitzero"`
}

// pending reports whether the file still waits for delivery.
func (f *File) pending() bool { return f.Delivered.IsZero() }

// casePattern is what a case number or provisional id may look like: it is
// a directory name, so no separators, no leading dot.
var casePattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)

// ValidCase reports whether s can be a case directory: 1–64 of A–Z, a–z,
// 0–9, '.', '_' and '-', starting with a letter or digit.
func ValidCase(s string) bool { return casePattern.MatchString(s) }

var (
	batchPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]{1,3})?$`)
	filePattern  = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]{1,3})?(-p[0-9]{2,5})?\.(png|pdf|tif|jpg)$`)
)

// DecodeManifest parses and checks a manifest: names that could leave the
// case directory, negative or inconsistent sizes and bad hashes are
// refused, so a damaged file can never make the archive delete or upload
// the wrong thing.
func DecodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := strictJSON(b, &m); err != nil {
		return nil, fmt.Errorf("archive: manifest: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if m.V != 1 {
		return fmt.Errorf("archive: manifest version %d", m.V)
	}
	if !ValidCase(m.Case) {
		return errors.New("archive: manifest: bad case id")
	}
	batches, files := map[string]bool{}, map[string]bool{}
	for i, b := range m.Batches {
		if b == nil || !batchPattern.MatchString(b.ID) || batches[b.ID] || (b.Window != "" && !ValidCase(b.Window)) ||
			b.Pages < 0 || len(b.Staff) > maxNameField || len(b.Status) > maxNameField || len(b.Format) > 8 {
			return fmt.Errorf("archive: manifest: batch %d is damaged", i)
		}
		batches[b.ID] = true
		for j, f := range b.Files {
			if f == nil || !filePattern.MatchString(f.Name) || files[f.Name] || f.Size < 0 || f.Pages < 0 ||
				f.Acked < 0 || f.Acked > f.Size || !validSHA(f.SHA256) {
				return fmt.Errorf("archive: manifest: batch %d file %d is damaged", i, j)
			}
			files[f.Name] = true
		}
	}
	return nil
}

// readManifest reads the manifest of a case directory.
func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	return DecodeManifest(b)
}

// writeManifest replaces the manifest of dir atomically and durably.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("archive: manifest: %w", err)
	}
	return writeFileSync(filepath.Join(dir, ManifestName), append(b, '\n'), 0o640)
}

// writeFileSync replaces path atomically with data and makes it durable.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("archive: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
