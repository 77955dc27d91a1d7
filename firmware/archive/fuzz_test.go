package archive

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecodeChunk: any message is refused or decodes to a chunk that stays
// within its file and encodes back to the same chunk.
func FuzzDecodeChunk(f *testing.F) {
	good, _ := EncodeChunk(sampleChunk())
	f.Add(good)
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, err := DecodeChunk(msg)
		if err != nil {
			return
		}
		if c.Offset < 0 || c.Offset+int64(len(c.Data)) > c.Size || len(c.Data) > MaxChunk || !validSHA(c.SHA256) {
			t.Fatalf("accepted chunk %+v breaks the rules", c)
		}
		again, err := EncodeChunk(c)
		if err != nil {
			t.Fatalf("EncodeChunk of an accepted chunk: %v", err)
		}
		back, err := DecodeChunk(again)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip = %+v, %v; want %+v", back, err, c)
		}
	})
}

// FuzzDecodeAck: any message is refused or decodes to a sane ack that
// survives a round trip.
func FuzzDecodeAck(f *testing.F) {
	f.Add([]byte(`{"v":1,"upload":"g/c/f.png","offset":1024,"ok":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAck(b)
		if err != nil {
			return
		}
		if a.Upload == "" || a.Offset < 0 || (a.Resume != nil && *a.Resume < 0) || len(a.Error) > maxNameField {
			t.Fatalf("accepted ack %+v breaks the rules", a)
		}
		enc, err := EncodeAck(a)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeAck(enc)
		if err != nil || !reflect.DeepEqual(back, a) {
			t.Fatalf("round trip = %+v, %v; want %+v", back, err, a)
		}
	})
}

// FuzzDecodeManifest: an accepted manifest never names a file outside its
// case directory, and writes back to an accepted manifest.
func FuzzDecodeManifest(f *testing.F) {
	b, _ := json.Marshal(sampleManifest())
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if !ValidCase(m.Case) || filepath.Base(m.Case) != m.Case {
			t.Fatalf("accepted case %q", m.Case)
		}
		for _, bt := range m.Batches {
			for _, f := range bt.Files {
				if filepath.Base(f.Name) != f.Name || f.Name == ManifestName || f.Acked > f.Size {
					t.Fatalf("accepted file %+v", f)
				}
			}
		}
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeManifest(enc); err != nil {
			t.Fatalf("re-encoded manifest refused: %v\n%s", err, enc)
		}
	})
}
