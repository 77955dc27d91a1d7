package otaupdate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hallgw/firmware/update"
)

func TestReadManifest(t *testing.T) {
	pub, priv := testKey(7)
	plain := makeBundle(t, bundleSpec("2.1.0", 4, 3000), priv)
	gz := bundleSpec("2.1.0", 4, 3000)
	gz.Gzip = true
	zipped := makeBundle(t, gz, priv)
	v, err := update.Verify(bytes.NewReader(plain), update.Policy{Keys: update.Keyring{pub}, Board: testBoard})
	if err != nil {
		t.Fatal(err)
	}
	var notBundle bytes.Buffer
	zw := gzip.NewWriter(&notBundle)
	zw.Write([]byte("not a tar"))
	zw.Close()
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"tar", plain, true},
		{"tar.gz", zipped, true},
		{"empty", nil, false},
		{"gzip of garbage", notBundle.Bytes(), false},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, false},
		{"manifest not first", plain[1024:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := ReadManifest(bytes.NewReader(tt.in))
			switch {
			case tt.ok && (err != nil || !bytes.Equal(raw, v.Raw)):
				t.Errorf("ReadManifest = %.60s, %v, want the signed manifest", raw, err)
			case !tt.ok && err == nil:
				t.Errorf("ReadManifest = %.60s, nil, want an error", raw)
			}
		})
	}
}

func TestBundleOffer(t *testing.T) {
	_, priv := testKey(7)
	b := makeBundle(t, bundleSpec("2.1.0", 4, 3000), priv)
	dir := t.TempDir()
	path := writeFile(t, dir, "b.tar", b)
	got, err := BundleOffer(path, 0)
	if want := offerOf(b, DefaultChunkSize, "2.1.0"); err != nil || got != want {
		t.Errorf("BundleOffer = %+v, %v, want %+v", got, err, want)
	}
	if _, err := BundleOffer(path, 100); !errors.Is(err, ErrWire) {
		t.Errorf("BundleOffer(chunk 100) = %v, want ErrWire", err)
	}
	if _, err := BundleOffer(filepath.Join(dir, "missing.tar"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BundleOffer(missing) = %v, want not exist", err)
	}
	// Not a bundle: offered without a version (the device refuses it).
	junk := writeFile(t, dir, "junk.tar", bytes.Repeat([]byte("x"), 5000))
	if o, err := BundleOffer(junk, 1024); err != nil || o.Version != "" || o.Chunks() != 5 {
		t.Errorf("BundleOffer(junk) = %+v, %v, want 5 chunks, no version", o, err)
	}
}
