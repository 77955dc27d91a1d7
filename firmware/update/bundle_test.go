package update

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	oldPub, oldPriv := testKey(1)
	newPub, newPriv := testKey(2)
	_, strangerPriv := testKey(3)

	good := mustBundle(t, spec("2.0.0", 5), oldPriv)
	goodEntries := untar(t, good)
	// edit returns the good bundle with its entries changed by fn.
	edit := func(fn func([]entry) []entry) []byte {
		es := make([]entry, len(goodEntries))
		for i, e := range goodEntries {
			es[i] = entry{name: e.name, data: append([]byte(nil), e.data...), typ: e.typ}
		}
		return retar(t, fn(es))
	}
	gz := spec("2.0.0", 5)
	gz.Gzip = true

	policy := Policy{Keys: Keyring{oldPub}, Board: testBoard, MinSecurityVersion: 5, Arch: "arm64"}
	withPolicy := func(fn func(*Policy)) Policy {
		p := policy
		fn(&p)
		return p
	}

	tests := []struct {
		name    string
		bundle  []byte
		policy  Policy
		wantErr error  // nil: accepted
		wantAs  string // a detail the typed error must carry
	}{
		{name: "signed and intact", bundle: good, policy: policy},
		{name: "gzip", bundle: mustBundle(t, gz, oldPriv), policy: policy},
		{name: "same security version", bundle: good, policy: withPolicy(func(p *Policy) { p.MinSecurityVersion = 5 })},
		{name: "empty key list", bundle: good, policy: withPolicy(func(p *Policy) { p.Keys = nil }), wantErr: ErrNoKeys},
		{name: "unsigned", bundle: edit(func(es []entry) []entry { return append(es[:1], es[2:]...) }), policy: policy, wantErr: ErrUnsigned},
		{name: "signature at the end", bundle: edit(func(es []entry) []entry { return append(append(es[:1:1], es[2:]...), es[1]) }), policy: policy, wantErr: ErrUnsigned},
		{name: "manifest only", bundle: edit(func(es []entry) []entry { return es[:1] }), policy: policy, wantErr: ErrUnsigned},
		{name: "bad signature", bundle: edit(func(es []entry) []entry { es[1].data[7] ^= 0x40; return es }), policy: policy, wantErr: ErrBadSignature},
		{name: "short signature", bundle: edit(func(es []entry) []entry { es[1].data = es[1].data[:63]; return es }), policy: policy, wantErr: ErrBadSignature},
		{name: "untrusted key", bundle: mustBundle(t, spec("2.0.0", 5), strangerPriv), policy: policy, wantErr: ErrBadSignature},
		{name: "manifest altered", bundle: edit(func(es []entry) []entry {
			es[0].data = bytes.Replace(es[0].data, []byte(`"2.0.0"`), []byte(`"9.0.0"`), 1)
			return es
		}), policy: policy, wantErr: ErrBadSignature},
		{name: "manifest hash edited", bundle: edit(func(es []entry) []entry {
			es[0].data = bytes.Replace(es[0].data, []byte(`"sha256": "`), []byte(`"sha256": "0`), 1)
			return es
		}), policy: policy, wantErr: ErrBadSignature},
		{name: "tampered file", bundle: edit(func(es []entry) []entry { es[2].data[20] ^= 1; return es }), policy: policy, wantErr: ErrTampered, wantAs: string(HashMismatch)},
		{name: "tampered other-arch file", bundle: edit(func(es []entry) []entry { es[3].data[20] ^= 1; return es }), policy: policy, wantErr: ErrTampered, wantAs: string(HashMismatch)},
		{name: "longer file", bundle: edit(func(es []entry) []entry { es[4].data = append(es[4].data, '\n'); return es }), policy: policy, wantErr: ErrTampered, wantAs: string(SizeMismatch)},
		{name: "extra file", bundle: edit(func(es []entry) []entry { return append(es, entry{name: "backdoor.sh", data: []byte("#!/bin/sh\n")}) }), policy: policy, wantErr: ErrTampered, wantAs: string(ExtraFile)},
		{name: "second manifest", bundle: edit(func(es []entry) []entry { return append(es, es[0]) }), policy: policy, wantErr: ErrTampered, wantAs: string(ExtraFile)},
		{name: "missing file", bundle: edit(func(es []entry) []entry { return es[:4] }), policy: policy, wantErr: ErrTampered, wantAs: string(MissingFile)},
		{name: "duplicate file", bundle: edit(func(es []entry) []entry { return append(es, es[4]) }), policy: policy, wantErr: ErrTampered, wantAs: string(DuplicateFile)},
		{name: "symlink instead of file", bundle: edit(func(es []entry) []entry { es[4].typ = tar.TypeSymlink; return es }), policy: policy, wantErr: ErrTampered, wantAs: string(NotRegular)},
		{name: "downgrade", bundle: good, policy: withPolicy(func(p *Policy) { p.MinSecurityVersion = 6 }), wantErr: ErrDowngrade, wantAs: "5 is below the installed 6"},
		{name: "wrong board", bundle: good, policy: withPolicy(func(p *Policy) { p.Board = "other-board" }), wantErr: ErrWrongBoard, wantAs: `"other-board"`},
		{name: "device without board", bundle: good, policy: withPolicy(func(p *Policy) { p.Board = "" }), wantErr: ErrWrongBoard, wantAs: "no board string"},
		{name: "wrong arch", bundle: good, policy: withPolicy(func(p *Policy) { p.Arch = "riscv64" }), wantErr: ErrWrongArch},
		{name: "rotation: old key while both trusted", bundle: good, policy: withPolicy(func(p *Policy) { p.Keys = Keyring{newPub, oldPub} })},
		{name: "rotation: new key while both trusted", bundle: mustBundle(t, spec("2.0.0", 5), newPriv), policy: withPolicy(func(p *Policy) { p.Keys = Keyring{oldPub, newPub} })},
		{name: "rotation: old key after its removal", bundle: good, policy: withPolicy(func(p *Policy) { p.Keys = Keyring{newPub} }), wantErr: ErrBadSignature},
		{name: "truncated", bundle: good[:len(good)-1500], policy: policy, wantErr: ErrMalformed},
		{name: "not a tar", bundle: []byte("this is not a bundle at all, just some text that is long enough to fill a tar header block? no."), policy: policy, wantErr: ErrMalformed},
		{name: "empty", bundle: nil, policy: policy, wantErr: ErrMalformed},
		{name: "manifest not first", bundle: edit(func(es []entry) []entry { es[0], es[2] = es[2], es[0]; return es }), policy: policy, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify(bytes.NewReader(tt.bundle), tt.policy)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				if v.Manifest.Version != "2.0.0" || v.Manifest.SecurityVersion != 5 {
					t.Errorf("Verify manifest = %s/%d, want 2.0.0/5", v.Manifest.Version, v.Manifest.SecurityVersion)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if tt.wantAs != "" && !strings.Contains(err.Error(), tt.wantAs) {
				t.Errorf("Verify = %q, want it to mention %q", err, tt.wantAs)
			}
		})
	}
}

func TestVerifyTypedErrors(t *testing.T) {
	pub, priv := testKey(1)
	good := mustBundle(t, spec("2.0.0", 5), priv)
	es := untar(t, good)
	es[2].data[0] ^= 1
	_, err := Verify(bytes.NewReader(retar(t, es)), Policy{Keys: Keyring{pub}, Board: testBoard})
	var te *TamperError
	if !errors.As(err, &te) || te.File != "hallgw-linux-arm64" || te.Kind != HashMismatch {
		t.Errorf("Verify(tampered) = %v, want *TamperError{hallgw-linux-arm64, %s}", err, HashMismatch)
	}
	_, err = Verify(bytes.NewReader(good), Policy{Keys: Keyring{pub}, Board: testBoard, MinSecurityVersion: 9})
	var de *DowngradeError
	if !errors.As(err, &de) || de.Bundle != 5 || de.Installed != 9 {
		t.Errorf("Verify(downgrade) = %v, want *DowngradeError{5, 9}", err)
	}
	_, err = Verify(bytes.NewReader(good), Policy{Keys: Keyring{pub}, Board: "b2"})
	var be *BoardError
	if !errors.As(err, &be) || be.Bundle != testBoard || be.Device != "b2" {
		t.Errorf("Verify(board) = %v, want *BoardError{%s, b2}", err, testBoard)
	}
}

func TestVerifyReportsKey(t *testing.T) {
	oldPub, _ := testKey(1)
	newPub, newPriv := testKey(2)
	v, err := Verify(bytes.NewReader(mustBundle(t, spec("2.0.0", 1), newPriv)), Policy{Keys: Keyring{oldPub, newPub}, Board: testBoard})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.KeyID != KeyID(newPub) {
		t.Errorf("Verify().KeyID = %s, want %s", v.KeyID, KeyID(newPub))
	}
	if !ed25519.Verify(newPub, v.Raw, v.Sig) {
		t.Errorf("Verify().Sig does not verify Raw")
	}
}

func TestWriteBundleRejects(t *testing.T) {
	_, priv := testKey(1)
	tests := []struct {
		name string
		edit func(*BundleSpec)
		want string
	}{
		{name: "no version", edit: func(s *BundleSpec) { s.Version = "" }, want: "bad version"},
		{name: "space in version", edit: func(s *BundleSpec) { s.Version = "1 2" }, want: "bad version"},
		{name: "no board", edit: func(s *BundleSpec) { s.Compatible = "" }, want: "bad compatible"},
		{name: "no daemon", edit: func(s *BundleSpec) { s.Payloads = s.Payloads[2:] }, want: "no daemon"},
		{name: "two daemons for one arch", edit: func(s *BundleSpec) { s.Payloads[1].Arch = "arm64" }, want: "two daemons"},
		{name: "path in name", edit: func(s *BundleSpec) { s.Payloads[2].Name = "../etc/passwd" }, want: "bad file name"},
		{name: "hidden name", edit: func(s *BundleSpec) { s.Payloads[2].Name = ".profile" }, want: "bad file name"},
		{name: "reserved name", edit: func(s *BundleSpec) { s.Payloads[2].Name = RecordName }, want: "reserved"},
		{name: "daemon name without arch", edit: func(s *BundleSpec) { s.Payloads[2].Name = BinaryName }, want: "needs an arch"},
		{name: "duplicate name", edit: func(s *BundleSpec) { s.Payloads[1].Name = s.Payloads[0].Name }, want: "twice"},
		{name: "bad arch", edit: func(s *BundleSpec) { s.Payloads[0].Arch = "ARM64" }, want: "bad arch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := spec("2.0.0", 1)
			tt.edit(&sp)
			_, err := WriteBundle(&bytes.Buffer{}, sp, priv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteBundle = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	file := func(name, arch, mode string) string {
		return fmt.Sprintf(`{"name":%q,"arch":%q,"size":4,"sha256":%q,"mode":%q}`, name, arch, hash, mode)
	}
	doc := func(format int, files ...string) string {
		return fmt.Sprintf(`{"format":%d,"version":"1.0","security_version":2,"compatible":"b","created":"2026-01-01T00:00:00Z","files":[%s]}`, format, strings.Join(files, ","))
	}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "minimal", in: doc(1, file("d", "arm64", "0755")), ok: true},
		{name: "with config", in: doc(1, file("d", "arm64", "0755"), file("default.yaml", "", "0644")), ok: true},
		{name: "format 2", in: doc(2, file("d", "arm64", "0755"))},
		{name: "no files", in: doc(1)},
		{name: "mode 8", in: doc(1, file("d", "arm64", "0855"))},
		{name: "mode setuid", in: doc(1, file("d", "arm64", "4755"))},
		{name: "upper-case hash", in: strings.Replace(doc(1, file("d", "arm64", "0755")), "9f86", "9F86", 1)},
		{name: "short hash", in: strings.Replace(doc(1, file("d", "arm64", "0755")), "9f86", "9f8", 1)},
		{name: "negative size", in: strings.Replace(doc(1, file("d", "arm64", "0755")), `"size":4`, `"size":-4`, 1)},
		{name: "huge size", in: strings.Replace(doc(1, file("d", "arm64", "0755")), `"size":4`, `"size":99999999999`, 1)},
		{name: "slash in name", in: doc(1, file("a/d", "arm64", "0755"))},
		{name: "bad trusted key", in: strings.Replace(doc(1, file("d", "arm64", "0755")), `"files"`, `"trusted_keys":["AAAA"],"files"`, 1)},
		{name: "not json", in: "{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("ParseManifest(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseManifest(%s) = %v, want ErrMalformed", tt.in, err)
			}
		})
	}
}
