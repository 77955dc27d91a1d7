package otaupdate

import (
	"bytes"
	"encoding/json"
	"testing"

	"hallgw/firmware/update"
)

// The decoders take what the network and the disk give them: they must
// never panic, and what they accept must survive a round trip. Seed
// corpora are in testdata/fuzz.

func FuzzParseArgs(f *testing.F) {
	f.Add([]byte(`{"version":"1.4.0","sha256":"` + sha0 + `","size":5000,"chunk_size":1024}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseArgs(data)
		if err != nil {
			return
		}
		if err := CheckOffer(o); err != nil {
			t.Fatalf("ParseArgs accepted %+v, which CheckOffer refuses: %v", o, err)
		}
		b, _ := json.Marshal(Args{Version: o.Version, SHA256: o.SHA256, Size: o.Size, ChunkSize: o.ChunkSize})
		if again, err := ParseArgs(b); err != nil || again != o {
			t.Fatalf("ParseArgs(%s) = %+v, %v, want %+v", b, again, err, o)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"sha256":"` + sha0 + `","index":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRequest(data)
		if err != nil {
			return
		}
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("EncodeRequest(%+v) = %v after DecodeRequest accepted it", r, err)
		}
		if again, err := DecodeRequest(b); err != nil || again != r {
			t.Fatalf("DecodeRequest(%s) = %+v, %v, want %+v", b, again, err, r)
		}
	})
}

func FuzzDecodeChunk(f *testing.F) {
	f.Add([]byte(`{"v":1,"sha256":"` + sha0 + `","index":3,"data":"aGFsbGd3"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeChunk(data)
		if err != nil {
			return
		}
		if len(c.Data) > update.MaxChunkSize {
			t.Fatalf("DecodeChunk accepted %d bytes of data", len(c.Data))
		}
		b, err := EncodeChunk(c)
		if err != nil {
			t.Fatalf("EncodeChunk = %v after DecodeChunk accepted it", err)
		}
		again, err := DecodeChunk(b)
		if err != nil || again.Index != c.Index || again.SHA256 != c.SHA256 || again.Error != c.Error || !bytes.Equal(again.Data, c.Data) {
			t.Fatalf("DecodeChunk(EncodeChunk(c)) = %+v, %v, want %+v", again, err, c)
		}
	})
}

func FuzzParseJob(f *testing.F) {
	f.Add([]byte(`{"format":1,"offer":{"sha256":"` + sha0 + `","size":5000,"chunk_size":1024},"accepted":"2026-11-03T08:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseJob(data)
		if err != nil {
			return
		}
		if err := CheckOffer(j.Offer); err != nil {
			t.Fatalf("ParseJob accepted the offer %+v: %v", j.Offer, err)
		}
		b, _ := json.Marshal(j)
		if again, err := ParseJob(b); err != nil || *again != *j {
			t.Fatalf("ParseJob(%s) = %+v, %v, want %+v", b, again, err, j)
		}
	})
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("not a bundle"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := ReadManifest(bytes.NewReader(data))
		if err == nil && len(raw) > update.MaxManifestSize {
			t.Fatalf("ReadManifest returned %d bytes", len(raw))
		}
	})
}
