package update

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Payload is one file to put into a bundle.
type Payload struct {
	Name string
	Arch string // set on daemon binaries only
	Mode fs.FileMode
	Data []byte
}

// BundleSpec is what WriteBundle packs.
type BundleSpec struct {
	Version         string
	SecurityVersion uint64
	Compatible      string
	Created         time.Time // informational; devices never compare it
	Payloads        []Payload
	// TrustedKeys, if set, becomes the device's key list once the bundle is
	// committed.
	TrustedKeys []ed25519.PublicKey
	Gzip        bool
}

// WriteBundle writes a signed bundle to w: manifest.json, manifest.sig, then
// the payloads in order. It returns the manifest it signed.
func WriteBundle(w io.Writer, spec BundleSpec, key ed25519.PrivateKey) (*Manifest, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("update: bad signing key")
	}
	m := &Manifest{
		Format:          ManifestFormat,
		Version:         spec.Version,
		SecurityVersion: spec.SecurityVersion,
		Compatible:      spec.Compatible,
		Created:         spec.Created.UTC().Truncate(time.Second),
	}
	for _, p := range spec.Payloads {
		sum := sha256.Sum256(p.Data)
		m.Files = append(m.Files, File{
			Name:   p.Name,
			Arch:   p.Arch,
			Size:   int64(len(p.Data)),
			SHA256: hex.EncodeToString(sum[:]),
			Mode:   formatMode(p.Mode),
		})
	}
	for _, k := range spec.TrustedKeys {
		m.TrustedKeys = append(m.TrustedKeys, base64.StdEncoding.EncodeToString(k))
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("update: bundle: %w", err)
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("update: bundle: %w", err)
	}
	raw = append(raw, '\n')
	sig := ed25519.Sign(key, raw)

	var gz *gzip.Writer
	out := w
	if spec.Gzip {
		gz = gzip.NewWriter(w)
		out = gz
	}
	tw := tar.NewWriter(out)
	add := func(name string, mode fs.FileMode, data []byte) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Mode:     int64(mode.Perm()),
			Size:     int64(len(data)),
			ModTime:  m.Created,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(ManifestName, 0o644, raw); err != nil {
		return nil, fmt.Errorf("update: bundle: %w", err)
	}
	if err := add(SignatureName, 0o644, sig); err != nil {
		return nil, fmt.Errorf("update: bundle: %w", err)
	}
	for _, p := range spec.Payloads {
		if err := add(p.Name, p.Mode, p.Data); err != nil {
			return nil, fmt.Errorf("update: bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("update: bundle: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return nil, fmt.Errorf("update: bundle: %w", err)
		}
	}
	return m, nil
}

// Policy is what a device accepts.
type Policy struct {
	// Keys are the trusted public keys; empty refuses everything.
	Keys Keyring
	// Board is the device's compatible string; it must equal the
	// manifest's. Empty refuses everything.
	Board string
	// MinSecurityVersion is the device's committed security version; lower
	// bundles are refused as downgrades.
	MinSecurityVersion uint64
	// Arch, when set, requires a daemon binary for this processor.
	Arch string
}

// Verified is a bundle that passed every check.
type Verified struct {
	Manifest *Manifest
	Raw      []byte // manifest.json exactly as signed
	Sig      []byte
	KeyID    string // the trusted key that signed it
}

// Verify reads a whole bundle from r (tar or tar.gz) and checks it against
// p: signature by a trusted key, board, security version, arch, and every
// payload's name, size and sha256, with no file extra or missing.
func Verify(r io.Reader, p Policy) (*Verified, error) {
	return readBundle(r, p, nil)
}

// readBundle verifies a bundle and hands each payload, as it streams past,
// to each (nil: discard). each reads from a reader that yields exactly the
// file's bytes; after it returns the hash is checked, so a payload each has
// stored may still turn out tampered, and the caller must not trust it until
// readBundle returns nil.
func readBundle(r io.Reader, p Policy, each func(f *File, r io.Reader) error) (*Verified, error) {
	if len(p.Keys) == 0 {
		return nil, ErrNoKeys
	}
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrMalformed, err)
		}
		gz.Multistream(false)
		src = gz
	}
	tr := tar.NewReader(src)

	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if hdr.Name != ManifestName || hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%w: first entry is %q, want %s", ErrMalformed, hdr.Name, ManifestName)
	}
	if hdr.Size > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest larger than %d bytes", ErrMalformed, MaxManifestSize)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrMalformed, err)
	}

	hdr, err = tr.Next()
	if err == io.EOF || (err == nil && hdr.Name != SignatureName) {
		return nil, ErrUnsigned
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size != ed25519.SignatureSize {
		return nil, ErrBadSignature
	}
	sig, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	pub, ok := p.Keys.find(raw, sig)
	if !ok {
		return nil, ErrBadSignature
	}
	// Only a signed manifest is parsed.
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	if p.Board == "" || m.Compatible != p.Board {
		return nil, &BoardError{Bundle: m.Compatible, Device: p.Board}
	}
	if m.SecurityVersion < p.MinSecurityVersion {
		return nil, &DowngradeError{Bundle: m.SecurityVersion, Installed: p.MinSecurityVersion}
	}
	if p.Arch != "" {
		found := false
		for _, f := range m.Files {
			found = found || f.Arch == p.Arch
		}
		if !found {
			return nil, fmt.Errorf("%w: want %s", ErrWrongArch, p.Arch)
		}
	}

	byName := make(map[string]*File, len(m.Files))
	for i := range m.Files {
		byName[m.Files[i].Name] = &m.Files[i]
	}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		f, ok := byName[hdr.Name]
		switch {
		case !ok:
			return nil, &TamperError{File: hdr.Name, Kind: ExtraFile}
		case seen[hdr.Name]:
			return nil, &TamperError{File: hdr.Name, Kind: DuplicateFile}
		case hdr.Typeflag != tar.TypeReg:
			return nil, &TamperError{File: hdr.Name, Kind: NotRegular}
		case hdr.Size != f.Size:
			return nil, &TamperError{File: hdr.Name, Kind: SizeMismatch}
		}
		seen[hdr.Name] = true
		h := sha256.New()
		body := io.TeeReader(&payloadReader{r: io.LimitReader(tr, f.Size), name: f.Name}, h)
		if each != nil {
			if err := each(f, body); err != nil {
				return nil, err
			}
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, err
		}
		if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			return nil, &TamperError{File: f.Name, Kind: HashMismatch}
		}
	}
	for _, f := range m.Files {
		if !seen[f.Name] {
			return nil, &TamperError{File: f.Name, Kind: MissingFile}
		}
	}
	return &Verified{Manifest: m, Raw: raw, Sig: sig, KeyID: KeyID(pub)}, nil
}

// payloadReader turns a read error inside a payload (a truncated tar, a
// corrupt gzip stream) into ErrMalformed.
type payloadReader struct {
	r    io.Reader
	name string
}

func (p *payloadReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %s: %w", ErrMalformed, p.name, err)
	}
	return n, err
}
