package update

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildOpts says what CrossBuild builds.
type BuildOpts struct {
	Dir     string   // module directory to build in
	Package string   // e.g. "./cmd/hallgw"
	Version string   // stamped into main.version
	OutDir  string   // where hallgw-linux-<arch> files go
	Archs   []string // "arm64", "armv7", …
	Go      string   // the go command; "go" if empty
	Stderr  io.Writer
}

// archEnv maps an arch name to its GOARCH/GOARM settings.
func archEnv(arch string) ([]string, error) {
	switch arch {
	case "arm64", "amd64", "riscv64", "386":
		return []string{"GOARCH=" + arch}, nil
	case "armv6", "armv7":
		return []string{"GOARCH=arm", "GOARM=" + arch[4:]}, nil
	}
	return nil, fmt.Errorf("update: unknown arch %q", arch)
}

// BinaryFileName is the name CrossBuild and scripts/build give the daemon
// built for arch.
func BinaryFileName(arch string) string { return "hallgw-linux-" + arch }

// CrossBuild builds static, stripped Linux binaries of o.Package for each
// arch (CGO_ENABLED=0, -trimpath, -ldflags "-s -w -X main.version=…") and
// returns their paths by arch.
func CrossBuild(ctx context.Context, o BuildOpts) (map[string]string, error) {
	goTool := o.Go
	if goTool == "" {
		goTool = "go"
	}
	if !validText(o.Version) {
		return nil, fmt.Errorf("update: bad version %q", o.Version)
	}
	out := map[string]string{}
	for _, arch := range o.Archs {
		env, err := archEnv(arch)
		if err != nil {
			return nil, err
		}
		dst, err := filepath.Abs(filepath.Join(o.OutDir, BinaryFileName(arch)))
		if err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
		cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath",
			"-ldflags", "-s -w -X main.version="+o.Version, "-o", dst, o.Package)
		cmd.Dir = o.Dir
		cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOOS=linux"}, env...)...)
		cmd.Stdout = o.Stderr
		cmd.Stderr = o.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("update: build %s for %s: %w", o.Package, arch, err)
		}
		out[arch] = dst
	}
	return out, nil
}
