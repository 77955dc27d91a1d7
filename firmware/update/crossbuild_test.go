package update

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hallgw/firmware/testkit"
)

func TestCrossBuild(t *testing.T) {
	goTool := testkit.Tool(t, "go")
	mod := t.TempDir()
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"hello\", version) }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(mod, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	bins, err := CrossBuild(t.Context(), BuildOpts{Dir: mod, Package: ".", Version: "3.1.4", OutDir: out, Archs: []string{"arm64", "armv7"}, Go: goTool})
	if err != nil {
		t.Fatalf("CrossBuild: %v", err)
	}
	tests := []struct {
		arch    string
		machine elf.Machine
		class   elf.Class
		qemu    string
	}{
		{arch: "arm64", machine: elf.EM_AARCH64, class: elf.ELFCLASS64, qemu: "qemu-aarch64-static"},
		{arch: "armv7", machine: elf.EM_ARM, class: elf.ELFCLASS32, qemu: "qemu-arm-static"},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			p := bins[tt.arch]
			if filepath.Base(p) != BinaryFileName(tt.arch) {
				t.Errorf("CrossBuild path = %s, want %s", p, BinaryFileName(tt.arch))
			}
			f, err := elf.Open(p)
			if err != nil {
				t.Fatalf("elf.Open: %v", err)
			}
			defer f.Close()
			if f.Machine != tt.machine || f.Class != tt.class {
				t.Errorf("ELF machine/class = %v/%v, want %v/%v", f.Machine, f.Class, tt.machine, tt.class)
			}
			for _, prog := range f.Progs {
				if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
					t.Errorf("binary has %v: not static", prog.Type)
				}
			}
			if f.Section(".symtab") != nil {
				t.Errorf("binary has a symbol table: not stripped")
			}
			got, err := exec.Command(testkit.Tool(t, tt.qemu), p).Output()
			if err != nil {
				t.Fatalf("run under %s: %v", tt.qemu, err)
			}
			if strings.TrimSpace(string(got)) != "hello 3.1.4" {
				t.Errorf("binary printed %q, want \"hello 3.1.4\"", got)
			}
		})
	}
	if _, err := CrossBuild(t.Context(), BuildOpts{Dir: mod, Package: ".", Version: "1", OutDir: out, Archs: []string{"sparc"}}); err == nil {
		t.Errorf("CrossBuild(sparc) = nil error, want unknown arch")
	}
}
