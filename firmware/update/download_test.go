package update

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func testOffer(data []byte, chunk int) Offer {
	sum := sha256.Sum256(data)
	return Offer{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), ChunkSize: chunk}
}

func TestOfferValidate(t *testing.T) {
	good := testOffer([]byte("x"), 1024)
	tests := []struct {
		name string
		edit func(*Offer)
		ok   bool
	}{
		{name: "good", edit: func(*Offer) {}, ok: true},
		{name: "upper-case sha", edit: func(o *Offer) { o.SHA256 = "A" + o.SHA256[1:] }},
		{name: "short sha", edit: func(o *Offer) { o.SHA256 = o.SHA256[2:] }},
		{name: "path in sha", edit: func(o *Offer) { o.SHA256 = "../../../../etc" }},
		{name: "zero size", edit: func(o *Offer) { o.Size = 0 }},
		{name: "huge size", edit: func(o *Offer) { o.Size = MaxBundleSize + 1 }},
		{name: "tiny chunks", edit: func(o *Offer) { o.ChunkSize = 16 }},
		{name: "huge chunks", edit: func(o *Offer) { o.ChunkSize = MaxChunkSize * 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.edit(&o)
			_, err := (&Staging{Dir: t.TempDir()}).Begin(o)
			if (err == nil) != tt.ok {
				t.Errorf("Begin(%+v) = %v, want ok=%v", o, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadOffer) {
				t.Errorf("Begin(%+v) = %v, want ErrBadOffer", o, err)
			}
		})
	}
}

func TestWriteChunk(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 1000) // 5000 bytes: 4 chunks of 1024 + 904
	o := testOffer(data, 1024)
	tests := []struct {
		name  string
		index int
		data  []byte
		want  error
	}{
		{name: "first", index: 0, data: data[:1024]},
		{name: "last is short", index: 4, data: data[4096:]},
		{name: "negative index", index: -1, data: data[:1024], want: ErrChunkIndex},
		{name: "index past the end", index: 5, data: data[:1024], want: ErrChunkIndex},
		{name: "short middle chunk", index: 1, data: data[1024:2000], want: ErrChunkSize},
		{name: "long last chunk", index: 4, data: data[3000:], want: ErrChunkSize},
		{name: "empty", index: 2, data: nil, want: ErrChunkSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&Staging{Dir: t.TempDir()}).Begin(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.WriteChunk(tt.index, tt.data); !errors.Is(err, tt.want) {
				t.Errorf("WriteChunk(%d, %d bytes) = %v, want %v", tt.index, len(tt.data), err, tt.want)
			}
		})
	}
}

func TestDownloadResume(t *testing.T) {
	data := bytes.Repeat([]byte("resumable "), 700) // 7000 bytes, 7 chunks
	o := testOffer(data, 1024)
	dir := t.TempDir()
	d, err := (&Staging{Dir: dir}).Begin(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{5, 0, 3} {
		if err := d.WriteChunk(i, data[i*1024:min((i+1)*1024, len(data))]); err != nil {
			t.Fatalf("WriteChunk(%d): %v", i, err)
		}
	}
	if _, err := d.Complete(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Complete with 3 of 7 = %v, want ErrIncomplete", err)
	}
	// The link drops on the fourth request of the next attempt.
	src := &chunkSource{data: data, size: 1024, failAt: 2}
	if _, err := Fetch(t.Context(), d, src); err == nil {
		t.Fatal("Fetch through a failing link = nil error")
	}
	// A new process resumes.
	d2, err := (&Staging{Dir: dir}).Begin(o)
	if err != nil {
		t.Fatal(err)
	}
	if got, total := d2.Progress(); got != 4 || total != 7 {
		t.Errorf("Progress after resume = %d/%d, want 4/7", got, total)
	}
	src = &chunkSource{data: data, size: 1024}
	p, err := Fetch(t.Context(), d2, src)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := []int{2, 4, 6}; !slices.Equal(src.fetched, want) {
		t.Errorf("resumed Fetch asked for %v, want %v", src.fetched, want)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Errorf("downloaded bytes differ")
	}
	// A different chunk size for the same bundle starts afresh.
	o2 := o
	o2.ChunkSize = 2048
	d3, err := (&Staging{Dir: dir}).Begin(o2)
	if err != nil {
		t.Fatal(err)
	}
	if got, total := d3.Progress(); got != 0 || total != 4 {
		t.Errorf("Progress after a changed chunk size = %d/%d, want 0/4", got, total)
	}
}

func TestDownloadChecksum(t *testing.T) {
	data := bytes.Repeat([]byte("abc"), 1000)
	o := testOffer(data, 1024)
	dir := t.TempDir()
	d, err := (&Staging{Dir: dir}).Begin(o)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[1500] ^= 1
	if _, err := Fetch(t.Context(), d, &chunkSource{data: bad, size: 1024}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Fetch of corrupted chunks = %v, want ErrChecksum", err)
	}
	if got, _ := d.Progress(); got != 0 {
		t.Errorf("Progress after a checksum failure = %d, want 0 (restart)", got)
	}
	if _, err := Fetch(t.Context(), d, &chunkSource{data: data, size: 1024}); err != nil {
		t.Errorf("Fetch after the reset = %v", err)
	}
}

func TestStagingPrune(t *testing.T) {
	dir := t.TempDir()
	st := &Staging{Dir: dir}
	a := testOffer([]byte("bundle a"), 1024)
	b := testOffer([]byte("bundle b"), 1024)
	for _, o := range []Offer{a, b} {
		if _, err := st.Begin(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Prune(b.SHA256); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, a.SHA256)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pruned download still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, b.SHA256)); err != nil {
		t.Errorf("kept download gone: %v", err)
	}
}

func TestParseDownloadState(t *testing.T) {
	sha := testOffer([]byte("x"), 1024).SHA256
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "good", in: `{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"BQ=="}`, ok: true},
		{name: "bit past the end", in: `{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"CA=="}`},
		{name: "bitmap too long", in: `{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"AAA="}`},
		{name: "bad base64", in: `{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"!"}`},
		{name: "bad format", in: `{"format":7,"sha256":"` + sha + `","size":3000,"chunk_size":1024,"have":"AA=="}`},
		{name: "zero chunk size", in: `{"format":1,"sha256":"` + sha + `","size":3000,"chunk_size":0,"have":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parseDownloadState([]byte(tt.in)); (err == nil) != tt.ok {
				t.Errorf("parseDownloadState(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}
