package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
)

// Limits of the chunk store.
const (
	MinChunkSize = 1 << 10
	MaxChunkSize = 4 << 20
	partName     = "bundle.part"
	downloadName = "download.json"
)

// Errors of the chunk store.
var (
	ErrBadOffer   = errors.New("update: bad download offer")
	ErrChunkIndex = errors.New("update: chunk index out of range")
	ErrChunkSize  = errors.New("update: chunk has the wrong size")
	ErrIncomplete = errors.New("update: download incomplete")
	// ErrChecksum: every chunk arrived but the whole does not hash to the
	// offered sha256. The download restarts from nothing.
	ErrChecksum = errors.New("update: downloaded bundle does not match its sha256")
)

// Offer describes a bundle offered for download, e.g. by an MQTT command.
type Offer struct {
	SHA256    string `json:"sha256"` // of the whole bundle file, lower-case hex
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunk_size"`
	Version   string `json:"version,omitempty"` // informational only
}

// Chunks is the number of chunks of the offer.
func (o Offer) Chunks() int {
	if o.ChunkSize <= 0 {
		return 0
	}
	return int((o.Size + int64(o.ChunkSize) - 1) / int64(o.ChunkSize))
}

func (o Offer) validate() error {
	b, err := hex.DecodeString(o.SHA256)
	switch {
	case err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != o.SHA256:
		return fmt.Errorf("%w: sha256 must be 64 lower-case hex digits", ErrBadOffer)
	case o.Size <= 0 || o.Size > MaxBundleSize:
		return fmt.Errorf("%w: size %d", ErrBadOffer, o.Size)
	case o.ChunkSize < MinChunkSize || o.ChunkSize > MaxChunkSize:
		return fmt.Errorf("%w: chunk size %d not in [%d, %d]", ErrBadOffer, o.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	return nil
}

// downloadState is download.json: which chunks are safely on disk.
type downloadState struct {
	Format    int    `json:"format"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunk_size"`
	// Have is the received-chunk bitmap, chunk i at bit i%8 of byte i/8,
	// base64.
	Have string `json:"have"`
}

// parseDownloadState decodes download.json and its bitmap.
func parseDownloadState(data []byte) (Offer, []byte, error) {
	var ds downloadState
	if err := json.Unmarshal(data, &ds); err != nil {
		return Offer{}, nil, fmt.Errorf("update: download state: %w", err)
	}
	o := Offer{SHA256: ds.SHA256, Size: ds.Size, ChunkSize: ds.ChunkSize}
	if ds.Format != 1 {
		return Offer{}, nil, fmt.Errorf("update: download state: format %d", ds.Format)
	}
	if err := o.validate(); err != nil {
		return Offer{}, nil, fmt.Errorf("update: download state: %w", err)
	}
	have, err := base64.StdEncoding.DecodeString(ds.Have)
	if err != nil {
		return Offer{}, nil, fmt.Errorf("update: download state: bitmap: %w", err)
	}
	n := o.Chunks()
	if len(have) != (n+7)/8 {
		return Offer{}, nil, fmt.Errorf("update: download state: bitmap of %d bytes for %d chunks", len(have), n)
	}
	if n%8 != 0 && have[len(have)-1]>>(n%8) != 0 {
		return Offer{}, nil, errors.New("update: download state: bits set beyond the last chunk")
	}
	return o, have, nil
}

// Staging is the directory where bundles are downloaded, one subdirectory
// per bundle sha256.
type Staging struct {
	Dir string
	FS  FS // nil means OSFS
}

// Staging returns the staging area of the root.
func (s *Slots) Staging() *Staging { return &Staging{Dir: s.path(StagingDir), FS: s.fs()} }

func (st *Staging) fs() FS {
	if st.FS == nil {
		return OSFS{}
	}
	return st.FS
}

// Download is one resumable download. Its methods are safe for concurrent
// use.
type Download struct {
	mu    sync.Mutex
	fsys  FS
	dir   string
	offer Offer
	have  []byte
}

// Begin starts the download of o, or resumes it when the staging area
// already holds part of the same bundle (same sha256, size and chunk size).
func (st *Staging) Begin(o Offer) (*Download, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	d := &Download{fsys: st.fs(), dir: filepath.Join(st.Dir, o.SHA256), offer: o}
	if data, err := d.fsys.ReadFile(filepath.Join(d.dir, downloadName)); err == nil {
		if prev, have, err := parseDownloadState(data); err == nil && prev.Size == o.Size && prev.ChunkSize == o.ChunkSize {
			d.have = have
			return d, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("update: download: %w", err)
	}
	if err := d.reset(); err != nil {
		return nil, err
	}
	return d, nil
}

// reset starts the download afresh.
func (d *Download) reset() error {
	d.have = make([]byte, (d.offer.Chunks()+7)/8)
	if err := d.fsys.RemoveAll(d.dir); err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	if err := d.fsys.MkdirAll(d.dir, 0o755); err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	return d.save()
}

// save writes download.json atomically.
func (d *Download) save() error {
	ds := downloadState{
		Format: 1, SHA256: d.offer.SHA256, Size: d.offer.Size, ChunkSize: d.offer.ChunkSize,
		Have: base64.StdEncoding.EncodeToString(d.have),
	}
	data, err := json.Marshal(ds)
	if err != nil {
		return err
	}
	if err := d.fsys.WriteFile(filepath.Join(d.dir, downloadName), bytes.NewReader(data), 0o644); err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	return nil
}

// Offer returns what is being downloaded.
func (d *Download) Offer() Offer { return d.offer }

// chunkLen is the length chunk i must have.
func (d *Download) chunkLen(i int) int {
	if i == d.offer.Chunks()-1 {
		if rem := int(d.offer.Size % int64(d.offer.ChunkSize)); rem != 0 {
			return rem
		}
	}
	return d.offer.ChunkSize
}

func (d *Download) got(i int) bool { return d.have[i/8]&(1<<(i%8)) != 0 }

// WriteChunk stores chunk i durably and then marks it received. A chunk
// already received is ignored.
func (d *Download) WriteChunk(i int, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.offer.Chunks()
	if i < 0 || i >= n {
		return fmt.Errorf("%w: %d of %d", ErrChunkIndex, i, n)
	}
	if len(data) != d.chunkLen(i) {
		return fmt.Errorf("%w: chunk %d is %d bytes, want %d", ErrChunkSize, i, len(data), d.chunkLen(i))
	}
	if d.got(i) {
		return nil
	}
	if err := d.fsys.WriteAt(filepath.Join(d.dir, partName), int64(i)*int64(d.offer.ChunkSize), data); err != nil {
		return fmt.Errorf("update: download: chunk %d: %w", i, err)
	}
	d.have[i/8] |= 1 << (i % 8)
	if err := d.save(); err != nil {
		d.have[i/8] &^= 1 << (i % 8)
		return err
	}
	return nil
}

// Missing lists up to max chunk indexes not yet received, in order (all of
// them when max <= 0).
func (d *Download) Missing(max int) []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int
	for i := 0; i < d.offer.Chunks(); i++ {
		if !d.got(i) {
			out = append(out, i)
			if max > 0 && len(out) == max {
				break
			}
		}
	}
	return out
}

// Progress returns the number of chunks received and the total.
func (d *Download) Progress() (received, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	total = d.offer.Chunks()
	for i := 0; i < total; i++ {
		if d.got(i) {
			received++
		}
	}
	return received, total
}

// Complete checks that every chunk arrived and that the whole file hashes
// to the offered sha256, and returns its path, ready for Slots.Install. On
// a hash mismatch the download is reset and ErrChecksum returned.
func (d *Download) Complete() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	missing := 0
	for i := 0; i < d.offer.Chunks(); i++ {
		if !d.got(i) {
			missing++
		}
	}
	if missing > 0 {
		return "", fmt.Errorf("%w: %d of %d chunks missing", ErrIncomplete, missing, d.offer.Chunks())
	}
	p := filepath.Join(d.dir, partName)
	sum, size, err := hashFile(d.fsys, p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("update: download: %w", err)
	}
	if err != nil || size != d.offer.Size || sum != d.offer.SHA256 {
		if rerr := d.reset(); rerr != nil {
			return "", errors.Join(ErrChecksum, rerr)
		}
		return "", ErrChecksum
	}
	return p, nil
}

// Discard removes the download from the staging area.
func (d *Download) Discard() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fsys.RemoveAll(d.dir)
}

// hashFile returns the sha256 and size of a file.
func hashFile(fsys FS, name string) (string, int64, error) {
	r, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ChunkSource fetches chunks of an offered bundle; the uplink implements it
// over MQTT. Chunk returns the bytes of chunk index (every chunk is
// Offer.ChunkSize bytes but the last).
type ChunkSource interface {
	Chunk(ctx context.Context, index int) ([]byte, error)
}

// Fetch downloads the chunks d is missing from src, in order, and completes
// the download. When it fails part-way the received chunks stay on disk and
// a later Fetch (after Begin with the same offer, even in a new process)
// asks only for the rest.
func Fetch(ctx context.Context, d *Download, src ChunkSource) (string, error) {
	for _, i := range d.Missing(0) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		data, err := src.Chunk(ctx, i)
		if err != nil {
			return "", fmt.Errorf("update: fetch chunk %d: %w", i, err)
		}
		if err := d.WriteChunk(i, data); err != nil {
			return "", err
		}
	}
	return d.Complete()
}

// Prune removes every download in the staging area except keep (a sha256;
// empty removes all).
func (st *Staging) Prune(keep string) error {
	ents, err := st.fs().ReadDir(st.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update: staging: %w", err)
	}
	for _, e := range ents {
		if e.Name() == keep {
			continue
		}
		if err := st.fs().RemoveAll(filepath.Join(st.Dir, e.Name())); err != nil {
			return fmt.Errorf("update: staging: %w", err)
		}
	}
	return nil
}
