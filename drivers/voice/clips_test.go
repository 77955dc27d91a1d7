package voice

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"hallgw/firmware/testkit"
)

func TestDefault(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatalf("Default() error %v", err)
	}
	if got, want := set.Format(), mono16; got != want {
		t.Errorf("Default().Format() = %v, want %v", got, want)
	}
	if !set.HasChime() {
		t.Errorf("Default().HasChime() = false, want true")
	}
	for _, n := range append(ClipNames(), ClipChime) {
		a, ok := set.Clip(n)
		if !ok {
			t.Errorf("Default().Clip(%q) missing", n)
			continue
		}
		// Trimmed speech: between 0.1 s and 1.5 s, with no silent lead-in.
		if d := a.Duration(); d < 100e6 || d > 1500e6 {
			t.Errorf("clip %q lasts %v, want 0.1 s to 1.5 s", n, d)
		}
		if lead := leadingSilence(a); lead > 220 {
			t.Errorf("clip %q starts with %d silent frames, want it trimmed", n, lead)
		}
	}
	var total int64
	err = fs.WalkDir(defaultClips, "clips", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 1<<20 {
		t.Errorf("embedded clip set is %d bytes, want under 1 MiB", total)
	}
}

// leadingSilence counts the 16-bit frames at the start of a whose samples
// are all within ±32 (0.1 % of full scale, sox's trim threshold).
func leadingSilence(a *Audio) int {
	n := 0
	for i := 0; i+1 < len(a.Data); i += 2 {
		s := int16(uint16(a.Data[i]) | uint16(a.Data[i+1])<<8)
		if s > 32 || s < -32 {
			break
		}
		n++
	}
	return n
}

// TestDefaultReproducible regenerates the clip set with
// scripts/make-voice-clips and compares it byte for byte with the
// committed one: the committed clips are what the script makes.
func TestDefaultReproducible(t *testing.T) {
	testkit.Tool(t, "sh")
	testkit.Tool(t, "espeak-ng")
	testkit.Tool(t, "sox")
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("..", "..", "scripts", "make-voice-clips"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-voice-clips: %v\n%s", err, b)
	}
	want, err := fs.Glob(defaultClips, "clips/*")
	if err != nil {
		t.Fatal(err)
	}
	got, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("make-voice-clips wrote %d files, committed set has %d", len(got), len(want))
	}
	for _, p := range want {
		committed, _ := defaultClips.ReadFile(p)
		fresh, err := os.ReadFile(filepath.Join(out, filepath.Base(p)))
		if err != nil {
			t.Errorf("make-voice-clips did not write %s: %v", filepath.Base(p), err)
			continue
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("make-voice-clips %s = %d bytes differing from the committed %d bytes; regenerate the set", filepath.Base(p), len(fresh), len(committed))
		}
	}
	if _, err := LoadDir(os.DirFS(out)); err != nil {
		t.Errorf("LoadDir(make-voice-clips output) error %v", err)
	}
}

// clipFS returns a complete clip directory in f, before mutate changes it.
func clipFS(t *testing.T, f Format) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	var man strings.Builder
	man.WriteString("# test set\n\n")
	for _, n := range append(ClipNames(), ClipChime) {
		wav, err := EncodeWAV(f, make([]byte, 4*f.FrameSize()))
		if err != nil {
			t.Fatal(err)
		}
		fsys["rec/"+n+".wav"] = &fstest.MapFile{Data: wav}
		fmt.Fprintf(&man, "%s\trec/%s.wav\n", n, n)
	}
	fsys[ManifestName] = &fstest.MapFile{Data: []byte(man.String())}
	return fsys
}

func TestLoadDir(t *testing.T) {
	fsys := clipFS(t, Format{44100, 2, 16})
	set, err := LoadDir(fsys)
	if err != nil {
		t.Fatalf("LoadDir() error %v", err)
	}
	if got, want := set.Format(), (Format{44100, 2, 16}); got != want {
		t.Errorf("LoadDir().Format() = %v, want %v", got, want)
	}
	if !set.HasChime() {
		t.Errorf("LoadDir().HasChime() = false, want true")
	}
	delete(fsys, "rec/chime.wav")
	fsys[ManifestName].Data = bytes.ReplaceAll(fsys[ManifestName].Data, []byte("chime\trec/chime.wav\n"), nil)
	set, err = LoadDir(fsys)
	if err != nil {
		t.Fatalf("LoadDir(no chime) error %v", err)
	}
	if set.HasChime() {
		t.Errorf("LoadDir(no chime).HasChime() = true, want false")
	}
}

func TestLoadDirErrors(t *testing.T) {
	stereo, _ := EncodeWAV(Format{22050, 2, 16}, make([]byte, 16))
	rate, _ := EncodeWAV(Format{16000, 1, 16}, make([]byte, 16))
	empty, _ := EncodeWAV(mono16, nil)
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		want   string
	}{
		{"no manifest", func(m fstest.MapFS) { delete(m, ManifestName) }, "manifest.txt"},
		{"missing clips", func(m fstest.MapFS) {
			drop(m, "B", "7", ClipWindow)
		}, "lacks 3 clip(s): B 7 hao-chuangkou"},
		{"file missing", func(m fstest.MapFS) { delete(m, "rec/qing.wav") }, `clip "qing": open rec/qing.wav`},
		{"stereo clip", func(m fstest.MapFS) { m["rec/5.wav"].Data = stereo }, `clip "5" (rec/5.wav) is 22050 Hz stereo 16-bit, but clip "qing" is 22050 Hz mono 16-bit`},
		{"other rate", func(m fstest.MapFS) { m["rec/banli.wav"].Data = rate }, `clip "banli" (rec/banli.wav) is 16000 Hz mono 16-bit`},
		{"not a wav", func(m fstest.MapFS) { m["rec/A.wav"].Data = []byte("ID3\x03 mp3 frames here") }, `clip "A" (rec/A.wav): voice: not a RIFF/WAVE file`},
		{"empty clip", func(m fstest.MapFS) { m["rec/shi.wav"].Data = empty }, `clip "shi" (rec/shi.wav) holds no audio`},
		{"unknown name", func(m fstest.MapFS) { appendLine(m, "a rec/A.wav") }, `unknown clip "a"`},
		{"listed twice", func(m fstest.MapFS) { appendLine(m, "dao rec/dao.wav") }, `clip "dao" listed twice`},
		{"three fields", func(m fstest.MapFS) { appendLine(m, "dao rec/dao.wav extra") }, `want "<name> <file>"`},
		{"escaping path", func(m fstest.MapFS) {
			drop(m, "hao")
			appendLine(m, "hao ../hao.wav")
		}, `bad file path "../hao.wav"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := clipFS(t, mono16)
			tc.mutate(fsys)
			_, err := LoadDir(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadDir() error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadDirMissingClipsError(t *testing.T) {
	fsys := clipFS(t, mono16)
	drop(fsys, "Z", "banli")
	_, err := LoadDir(fsys)
	var me *MissingClipsError
	if !errors.As(err, &me) || strings.Join(me.Names, " ") != "Z banli" {
		t.Errorf("LoadDir() error %v, want *MissingClipsError for Z banli", err)
	}
}

// drop removes clips from the manifest of a clipFS.
func drop(m fstest.MapFS, names ...string) {
	man := m[ManifestName]
	for _, n := range names {
		man.Data = bytes.ReplaceAll(man.Data, []byte(n+"\trec/"+n+".wav\n"), nil)
	}
}

func appendLine(m fstest.MapFS, line string) {
	m[ManifestName].Data = append(m[ManifestName].Data, line+"\n"...)
}

func TestWriteDir(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := set.WriteDir(dir); err != nil {
		t.Fatalf("WriteDir() error %v", err)
	}
	back, err := LoadDir(os.DirFS(dir))
	if err != nil {
		t.Fatalf("LoadDir(WriteDir()) error %v", err)
	}
	if back.Format() != set.Format() || back.HasChime() != set.HasChime() {
		t.Errorf("LoadDir(WriteDir()) = %v chime %v, want %v chime %v", back.Format(), back.HasChime(), set.Format(), set.HasChime())
	}
	for _, n := range append(ClipNames(), ClipChime) {
		a, _ := set.Clip(n)
		b, ok := back.Clip(n)
		if !ok || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("LoadDir(WriteDir()).Clip(%q) differs from the original", n)
		}
	}
}
