package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallgw/firmware/install"
	"hallgw/firmware/update"
)

func init() {
	register(&command{
		name:    "bundle",
		summary: "build a signed update bundle (developer tool, run in the source tree)",
		run:     runBundle,
	})
	register(&command{
		name:    "bundle keygen",
		summary: "create an ed25519 key pair for signing update bundles",
		run:     runBundleKeygen,
	})
}

func runBundle(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundle")
	keyPath := fs.String("key", "", "signing key `file` (NAME.key from 'hallgw bundle keygen')")
	ver := fs.String("version", "", "firmware `version`, stamped into the daemon and the manifest")
	secVer := fs.Uint64("security-version", 0, "monotonic security `number`: devices refuse bundles below their committed one")
	board := fs.String("board", "", "compatible board `string` the devices must carry")
	out := fs.String("out", "", "bundle `file` to write (.tar, or .tar.gz / .tgz for gzip)")
	arch := fs.String("arch", "both", "daemon processors: arm64, armv7 or both")
	cfgPath := fs.String("config", "", "default configuration `file` to ship (default: the built-in one)")
	binDir := fs.String("bin-dir", "", "take prebuilt hallgw-linux-<arch> files from `dir` (dist, made by scripts/build VERSION) instead of running go build")
	trusted := fs.String("trusted-keys", "", "`dir` of *.pub keys that replace the devices' key list once this bundle is committed (key rotation)")
	pkg := fs.String("pkg", "./cmd/hallgw", "Go `package` to build")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for name, v := range map[string]string{"--key": *keyPath, "--version": *ver, "--board": *board, "--out": *out} {
		if v == "" {
			return fmt.Errorf("%w: %s is required", errUsage, name)
		}
	}
	var archs []string
	switch *arch {
	case "both":
		archs = []string{"arm64", "armv7"}
	case "arm64", "armv7":
		archs = []string{*arch}
	default:
		return fmt.Errorf("%w: --arch %q: want arm64, armv7 or both", errUsage, *arch)
	}

	keyData, err := os.ReadFile(*keyPath)
	if err != nil {
		return err
	}
	priv, err := update.ParsePrivateKey(keyData)
	if err != nil {
		return err
	}
	var cfg []byte
	if *cfgPath != "" {
		if cfg, err = os.ReadFile(*cfgPath); err != nil {
			return err
		}
	} else if install.DefaultConfig != nil {
		cfg = install.DefaultConfig()
	}
	if len(cfg) == 0 {
		return fmt.Errorf("%w: no built-in default configuration: give --config", errUsage)
	}
	spec := update.BundleSpec{
		Version:         *ver,
		SecurityVersion: *secVer,
		Compatible:      *board,
		Created:         time.Now(),
		Gzip:            strings.HasSuffix(*out, ".gz") || strings.HasSuffix(*out, ".tgz"),
	}
	if *trusted != "" {
		ring, err := update.LoadKeyring(*trusted)
		if err != nil {
			return err
		}
		if len(ring) == 0 {
			return fmt.Errorf("%w: --trusted-keys %s holds no *.pub key", errUsage, *trusted)
		}
		spec.TrustedKeys = ring
	}

	bins := map[string]string{}
	if *binDir != "" {
		for _, a := range archs {
			bins[a] = filepath.Join(*binDir, update.BinaryFileName(a))
		}
	} else {
		tmp, err := os.MkdirTemp("", "hallgw-bundle-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(e.stderr, "building %s for %s …\n", *pkg, strings.Join(archs, ", "))
		if bins, err = update.CrossBuild(ctx, update.BuildOpts{Dir: ".", Package: *pkg, Version: *ver, OutDir: tmp, Archs: archs, Stderr: e.stderr}); err != nil {
			return err
		}
	}
	if *binDir != "" {
		// scripts/build records the version it stamped into the binaries.
		stamped, err := os.ReadFile(filepath.Join(*binDir, "VERSION"))
		if err != nil || strings.TrimSpace(string(stamped)) != *ver {
			return fmt.Errorf("%s was not built as version %s (VERSION file: %q, %v): run scripts/build %s", *binDir, *ver, strings.TrimSpace(string(stamped)), err, *ver)
		}
	}
	for _, a := range archs {
		data, err := os.ReadFile(bins[a])
		if err != nil {
			return err
		}
		spec.Payloads = append(spec.Payloads, update.Payload{Name: update.BinaryFileName(a), Arch: a, Mode: 0o755, Data: data})
	}
	spec.Payloads = append(spec.Payloads, update.Payload{Name: "default.yaml", Mode: 0o644, Data: cfg})

	var buf bytes.Buffer
	m, err := update.WriteBundle(&buf, spec, priv)
	if err != nil {
		return err
	}
	// Check the result the way a device will.
	pub := priv.Public().(ed25519.PublicKey)
	if _, err := update.Verify(bytes.NewReader(buf.Bytes()), update.Policy{Keys: update.Keyring{pub}, Board: *board, MinSecurityVersion: *secVer}); err != nil {
		return fmt.Errorf("bundle does not verify: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := (update.OSFS{}).WriteFile(*out, bytes.NewReader(buf.Bytes()), 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(buf.Bytes())
	fmt.Fprintf(e.stdout, "wrote %s: version %s, security version %d, board %s, signed by key %s\n", *out, m.Version, m.SecurityVersion, m.Compatible, update.KeyID(pub))
	fmt.Fprintf(e.stdout, "  size %d bytes, sha256 %x\n", buf.Len(), sum)
	for _, f := range m.Files {
		fmt.Fprintf(e.stdout, "  %-22s %9d  %s\n", f.Name, f.Size, f.SHA256)
	}
	return nil
}

func runBundleKeygen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundle keygen")
	out := fs.String("out", "", "`dir` to write NAME.key and NAME.pub into")
	name := fs.String("name", "hallgw-update", "key `name`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: give --out DIR and nothing else", errUsage)
	}
	id, err := update.GenerateKeyFiles(*out, *name, rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "key %s\n  signing key (keep secret): %s\n  public key (put on devices): %s\n",
		id, filepath.Join(*out, *name+update.PrivateKeySuffix), filepath.Join(*out, *name+update.PublicKeySuffix))
	return nil
}
