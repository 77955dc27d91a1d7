package otaupdate

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"hallgw/firmware/update"
)

// DefaultChunkSize is the chunk size the platform side offers unless told
// otherwise: 256 KiB, about 350 KB as base64, under the 1 MB message limit
// some brokers default to.
const DefaultChunkSize = 256 << 10

// ReadManifest returns the exact bytes of a bundle's manifest.json (its
// first member), without checking its signature: for display and for
// comparing with a slot, never for trusting.
func ReadManifest(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("otaupdate: bundle: gzip: %w", err)
		}
		gz.Multistream(false)
		src = gz
	}
	tr := tar.NewReader(src)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("otaupdate: bundle: %w", err)
	}
	if hdr.Name != update.ManifestName || hdr.Typeflag != tar.TypeReg || hdr.Size < 0 || hdr.Size > update.MaxManifestSize {
		return nil, fmt.Errorf("otaupdate: bundle: first member is %q, want a %s of at most %d bytes",
			hdr.Name, update.ManifestName, update.MaxManifestSize)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("otaupdate: bundle: manifest: %w", err)
	}
	return raw, nil
}

// BundleOffer describes the bundle file at path as the update command
// offers it, cut into chunks of chunkSize bytes (0: DefaultChunkSize). The
// version comes from its manifest, unverified.
func BundleOffer(path string, chunkSize int) (update.Offer, error) {
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	f, err := os.Open(path)
	if err != nil {
		return update.Offer{}, fmt.Errorf("otaupdate: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return update.Offer{}, fmt.Errorf("otaupdate: read %s: %w", path, err)
	}
	o := update.Offer{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, ChunkSize: chunkSize}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return update.Offer{}, fmt.Errorf("otaupdate: read %s: %w", path, err)
	}
	if raw, err := ReadManifest(f); err == nil {
		if m, err := update.ParseManifest(raw); err == nil && validVersion(m.Version) {
			o.Version = m.Version
		}
	}
	if err := CheckOffer(o); err != nil {
		return update.Offer{}, fmt.Errorf("otaupdate: %s: %w", path, err)
	}
	return o, nil
}
