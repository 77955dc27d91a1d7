package archive

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var sum0 = strings.Repeat("ab", 32)

func sampleChunk() Chunk {
	return Chunk{Upload: "gw-t1/4301002026030200012/20260302T020000Z-p01.png", Gateway: "gw-t1",
		Case: "4301002026030200012", File: "20260302T020000Z-p01.png", Offset: 1024, Size: 4096, SHA256: sum0,
		Data: bytes.Repeat([]byte{0x89, '\n', 0}, 100)}
}

func TestChunkRoundTrip(t *testing.T) {
	c := sampleChunk()
	msg, err := EncodeChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(msg, '\n'); i < 0 || !json.Valid(msg[:i]) || !bytes.Equal(msg[i+1:], c.Data) {
		t.Fatalf("message = %q…, want a JSON line then the raw data", msg[:min(len(msg), 120)])
	}
	got, err := DecodeChunk(msg)
	c.V = WireVersion
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("DecodeChunk(EncodeChunk(c)) = %+v, %v; want c", got, err)
	}
	if got.Last() {
		t.Error("a chunk ending at 1324 of 4096 is not the last")
	}
	c.Offset, c.Size = 0, int64(len(c.Data))
	if !c.Last() {
		t.Error("a chunk reaching the size is the last")
	}
}

func TestDecodeChunkErrors(t *testing.T) {
	good, _ := EncodeChunk(sampleChunk())
	header := func(edit func(m map[string]any)) []byte {
		i := bytes.IndexByte(good, '\n')
		var m map[string]any
		json.Unmarshal(good[:i], &m)
		edit(m)
		h, _ := json.Marshal(m)
		return append(append(h, '\n'), good[i+1:]...)
	}
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty", nil, "no header line"},
		{"no line feed", []byte(`{"v":1}`), "no header line"},
		{"not json", []byte("hello\nworld"), "chunk header"},
		{"unknown field", header(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"version 2", header(func(m map[string]any) { m["v"] = 2 }), "version 2"},
		{"overrun", header(func(m map[string]any) { m["size"] = 1100 }), "overruns"},
		{"negative offset", header(func(m map[string]any) { m["offset"] = -1 }), "overruns"},
		{"bad hash", header(func(m map[string]any) { m["sha256"] = "xyz" }), "sha256"},
		{"no upload id", header(func(m map[string]any) { m["upload"] = "" }), "upload id"},
		{"trailing header data", bytes.Replace(good, []byte("}\n"), []byte("} {}\n"), 1), "trailing"},
		{"header too long", append(bytes.Repeat([]byte(" "), maxHeader+1), '\n'), "no header line"},
		{"empty chunk of a file", []byte(`{"v":1,"upload":"u","gateway":"g","case":"c","file":"f","offset":0,"size":300,"sha256":"` + sum0 + `"}` + "\n"), "empty chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeChunk(tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "archive: ") {
				t.Fatalf("DecodeChunk = %v, want an error with %q", err, tt.want)
			}
		})
	}
	big := sampleChunk()
	big.Data, big.Size, big.Offset = make([]byte, MaxChunk+1), MaxChunk+1, 0
	if _, err := EncodeChunk(big); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("EncodeChunk(too big) = %v", err)
	}
}

func TestDecodeAck(t *testing.T) {
	zero := int64(0)
	tests := []struct {
		name string
		in   string
		want *Ack // nil: refused
	}{
		{"ok", `{"v":1,"upload":"u","offset":1024,"ok":true}`, &Ack{V: 1, Upload: "u", Offset: 1024, OK: true}},
		{"final", `{"v":1,"upload":"u","offset":0,"ok":true,"final":true,"sha256":"` + sum0 + `"}`,
			&Ack{V: 1, Upload: "u", OK: true, Final: true, SHA256: sum0}},
		{"resume", `{"v":1,"upload":"u","offset":2048,"ok":false,"resume":0,"error":"sha256 mismatch"}`,
			&Ack{V: 1, Upload: "u", Offset: 2048, Resume: &zero, Error: "sha256 mismatch"}},
		{"version", `{"v":2,"upload":"u","offset":0,"ok":true}`, nil},
		{"no upload", `{"v":1,"offset":0,"ok":true}`, nil},
		{"negative resume", `{"v":1,"upload":"u","offset":0,"resume":-5}`, nil},
		{"bad hash", `{"v":1,"upload":"u","offset":0,"sha256":"00"}`, nil},
		{"unknown field", `{"v":1,"upload":"u","offset":0,"x":1}`, nil},
		{"two objects", `{"v":1,"upload":"u","offset":0}{}`, nil},
		{"not json", `ok`, nil},
		{"huge", `{"v":1,"upload":"` + strings.Repeat("u", maxHeader) + `"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAck([]byte(tt.in))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("DecodeAck = %+v, want an error", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("DecodeAck = %+v, %v; want %+v", got, err, *tt.want)
			}
		})
	}
}

func sampleManifest() *Manifest {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	return &Manifest{V: 1, Case: caseNo, Created: at, Batches: []*Batch{{
		ID: "20260302T020000Z", At: at, Window: "w1", Staff: "S001", Format: "png", Pages: 2, Status: "ok", Seq: 7,
		Files: []*File{
			{Name: "20260302T020000Z-p01.png", Pages: 1, Size: 100, SHA256: sum0, Acked: 50},
			{Name: "20260302T020000Z-p02.png", Pages: 1, Size: 100, SHA256: sum0},
		},
	}}}
}

func TestDecodeManifest(t *testing.T) {
	enc := func(edit func(m *Manifest)) []byte {
		m := sampleManifest()
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"good", enc(func(*Manifest) {}), true},
		{"pdf batch", enc(func(m *Manifest) {
			m.Batches[0].Files = m.Batches[0].Files[:1]
			m.Batches[0].Files[0].Name = "20260302T020000Z.pdf"
		}), true},
		{"second batch", enc(func(m *Manifest) {
			b := *m.Batches[0]
			b.ID, b.Files = "20260302T020000Z-2", []*File{{Name: "20260302T020000Z-2-p01.jpg", Size: 1, SHA256: sum0}}
			m.Batches = append(m.Batches, &b)
		}), true},
		{"file leaving the directory", enc(func(m *Manifest) { m.Batches[0].Files[0].Name = "../../etc/passwd" }), false},
		{"file in a subdirectory", enc(func(m *Manifest) { m.Batches[0].Files[0].Name = "x/20260302T020000Z-p01.png" }), false},
		{"manifest as a file", enc(func(m *Manifest) { m.Batches[0].Files[0].Name = "manifest.json" }), false},
		{"case with a slash", enc(func(m *Manifest) { m.Case = "a/b" }), false},
		{"acked past the size", enc(func(m *Manifest) { m.Batches[0].Files[0].Acked = 101 }), false},
		{"negative size", enc(func(m *Manifest) { m.Batches[0].Files[0].Size = -1 }), false},
		{"same file twice", enc(func(m *Manifest) { m.Batches[0].Files[1].Name = m.Batches[0].Files[0].Name }), false},
		{"same batch twice", enc(func(m *Manifest) { m.Batches = append(m.Batches, m.Batches[0]) }), false},
		{"bad hash", enc(func(m *Manifest) { m.Batches[0].Files[0].SHA256 = "00" }), false},
		{"bad window", enc(func(m *Manifest) { m.Batches[0].Window = "../w" }), false},
		{"version 2", enc(func(m *Manifest) { m.V = 2 }), false},
		{"null batch", []byte(`{"v":1,"case":"c1","created":"2026-03-02T02:00:00Z","batches":[null]}`), false},
		{"unknown field", []byte(`{"v":1,"case":"c1","created":"2026-03-02T02:00:00Z","batches":[],"x":1}`), false},
		{"not json", []byte("{"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeManifest(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("DecodeManifest = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && m.Case != caseNo {
				t.Errorf("case = %q", m.Case)
			}
		})
	}
}

func TestReceiver(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 30) // 300 bytes
	sum := hexSHA(data)
	chunk := func(off, n int) Chunk {
		return Chunk{V: 1, Upload: "g/c/f.png", Gateway: "g", Case: "c", File: "f.png", Offset: int64(off), Size: 300, SHA256: sum, Data: data[off : off+n]}
	}
	r := NewReceiver()
	steps := []struct {
		name   string
		c      Chunk
		ok     bool
		resume int64 // -1: none
		final  bool
	}{
		{"first chunk", chunk(0, 100), true, -1, false},
		{"gap", chunk(200, 100), false, 100, false},
		{"second chunk", chunk(100, 100), true, -1, false},
		{"resend of the second", chunk(100, 100), true, -1, false},
		{"last chunk", chunk(200, 100), true, -1, true},
		{"last chunk again (ack lost)", chunk(200, 100), true, -1, true},
	}
	for _, st := range steps {
		a := r.Handle(st.c)
		if a.OK != st.ok || a.Final != st.final || (st.resume >= 0) != (a.Resume != nil) || (a.Resume != nil && *a.Resume != st.resume) {
			t.Fatalf("%s: Handle = %+v, want ok %v resume %d final %v", st.name, a, st.ok, st.resume, st.final)
		}
		if st.final && a.SHA256 != sum {
			t.Fatalf("%s: final hash %s, want %s", st.name, a.SHA256, sum)
		}
	}
	if got := r.Received(); len(got) != 1 || !bytes.Equal(got[0].Data, data) {
		t.Fatalf("Received = %d files, want the whole file", len(got))
	}
	// A file whose bytes do not match its hash is refused whole.
	bad := chunk(0, 300)
	bad.Upload, bad.SHA256 = "g/c/other.png", sum0
	if a := r.Handle(bad); a.OK || !a.Final || a.Resume == nil || *a.Resume != 0 || r.Partial("g/c/other.png") != 0 {
		t.Errorf("Handle(mismatch) = %+v, want refused with resume 0", a)
	}
	// A chunk in the middle of an upload the platform does not know.
	mid := chunk(100, 100)
	mid.Upload = "g/c/third.png"
	if a := r.Handle(mid); a.OK || a.Resume == nil || *a.Resume != 0 {
		t.Errorf("Handle(unknown upload) = %+v, want resume 0", a)
	}
}
