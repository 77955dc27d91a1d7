package voice

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Names of the word clips. Letters and digits of a ticket number use the
// character itself as the clip name ("A" … "Z", "0" … "9"); the digits also
// build window numbers together with ClipShi.
const (
	ClipChime    = "chime"         // optional signal before the words
	ClipQing     = "qing"          // 请
	ClipHao      = "hao"           // 号, after the ticket number
	ClipDao      = "dao"           // 到
	ClipShi      = "shi"           // 十, in window numbers 10–99
	ClipWindow   = "hao-chuangkou" // 号窗口
	ClipBanli    = "banli"         // 办理
	ManifestName = "manifest.txt"  // the clip list in a clip directory
)

// ClipNames returns the names of the clips every set must hold, in
// manifest order. ClipChime is optional and not among them.
func ClipNames() []string {
	names := []string{ClipQing}
	for c := 'A'; c <= 'Z'; c++ {
		names = append(names, string(c))
	}
	for c := '0'; c <= '9'; c++ {
		names = append(names, string(c))
	}
	return append(names, ClipShi, ClipHao, ClipDao, ClipWindow, ClipBanli)
}

// known reports whether name is a clip a set may hold.
func known(name string) bool {
	if name == ClipChime {
		return true
	}
	for _, n := range ClipNames() {
		if n == name {
			return true
		}
	}
	return false
}

// ClipSet is a validated set of clips: all of ClipNames, optionally
// ClipChime, all in one format. It is immutable and safe for concurrent use.
type ClipSet struct {
	format Format
	clips  map[string]*Audio
}

// Format returns the format shared by every clip.
func (s *ClipSet) Format() Format { return s.format }

// Clip returns the named clip.
func (s *ClipSet) Clip(name string) (*Audio, bool) {
	a, ok := s.clips[name]
	return a, ok
}

// HasChime reports whether the set holds ClipChime.
func (s *ClipSet) HasChime() bool {
	_, ok := s.clips[ClipChime]
	return ok
}

//go:embed clips
var defaultClips embed.FS

var loadDefault = sync.OnceValues(func() (*ClipSet, error) {
	sub, err := fs.Sub(defaultClips, "clips")
	if err != nil {
		return nil, err
	}
	return LoadDir(sub)
})

// Default returns the clip set built into the binary: espeak-ng's Mandarin
// voice, 22050 Hz mono 16-bit, with a chime (see scripts/make-voice-clips).
func Default() (*ClipSet, error) { return loadDefault() }

// LoadDir loads a clip set from fsys, e.g. os.DirFS of a directory of
// recorded clips. fsys must hold manifest.txt: one clip per line as
// "<name> <file>", with blank lines and lines starting with # ignored, the
// file a slash-separated path inside fsys. Every name of ClipNames must be
// listed; ClipChime may be. The error names every missing clip, an unknown or
// repeated name, a file that is not a PCM WAV, an empty clip, and a clip
// whose format differs from the others (naming both formats).
func LoadDir(fsys fs.FS) (*ClipSet, error) {
	man, err := fs.ReadFile(fsys, ManifestName)
	if err != nil {
		return nil, fmt.Errorf("voice: clip set: %w", err)
	}
	s := &ClipSet{clips: map[string]*Audio{}}
	var first string
	sc := bufio.NewScanner(bytes.NewReader(man))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("voice: %s:%d: %q, want \"<name> <file>\"", ManifestName, line, text)
		}
		name, file := fields[0], fields[1]
		if !known(name) {
			return nil, fmt.Errorf("voice: %s:%d: unknown clip %q (clips: %s, %s)", ManifestName, line, name, ClipChime, strings.Join(ClipNames(), " "))
		}
		if _, dup := s.clips[name]; dup {
			return nil, fmt.Errorf("voice: %s:%d: clip %q listed twice", ManifestName, line, name)
		}
		if !fs.ValidPath(file) {
			return nil, fmt.Errorf("voice: %s:%d: clip %q: bad file path %q", ManifestName, line, name, file)
		}
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("voice: clip %q: %w", name, err)
		}
		a, err := ParseWAV(b)
		if err != nil {
			return nil, fmt.Errorf("voice: clip %q (%s): %w", name, file, err)
		}
		if a.Frames() == 0 {
			return nil, fmt.Errorf("voice: clip %q (%s) holds no audio", name, file)
		}
		if first == "" {
			s.format, first = a.Format, name
		} else if a.Format != s.format {
			return nil, fmt.Errorf("voice: clip %q (%s) is %s, but clip %q is %s: all clips must share one format", name, file, a.Format, first, s.format)
		}
		s.clips[name] = a
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("voice: %s: %w", ManifestName, err)
	}
	var missing []string
	for _, n := range ClipNames() {
		if _, ok := s.clips[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingClipsError{Names: missing}
	}
	return s, nil
}

// MissingClipsError lists the clips a set lacks.
type MissingClipsError struct {
	Names []string
}

func (e *MissingClipsError) Error() string {
	return fmt.Sprintf("voice: clip set lacks %d clip(s): %s", len(e.Names), strings.Join(e.Names, " "))
}

// WriteDir writes s to dir as canonical WAV files named <name>.wav plus
// manifest.txt, overwriting files of those names; LoadDir reads it back.
// It is how the built-in set is exported as a starting point for recorded
// clips.
func (s *ClipSet) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	names := make([]string, 0, len(s.clips))
	for n := range s.clips {
		names = append(names, n)
	}
	order := map[string]int{ClipChime: -1}
	for i, n := range ClipNames() {
		order[n] = i
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	var man strings.Builder
	man.WriteString("# Voice clip set: one clip per line, <name> <file>.\n")
	fmt.Fprintf(&man, "# All clips %s PCM WAV.\n", s.format)
	for _, n := range names {
		b, err := s.clips[n].WAV()
		if err != nil {
			return fmt.Errorf("voice: clip %q: %w", n, err)
		}
		if err := os.WriteFile(filepath.Join(dir, n+".wav"), b, 0o644); err != nil {
			return fmt.Errorf("voice: %w", err)
		}
		fmt.Fprintf(&man, "%s %s.wav\n", n, n)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(man.String()), 0o644); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	return nil
}

// errNoChime is returned when a chime is asked of a set without one.
var errNoChime = errors.New("voice: chime enabled but the clip set has no \"chime\" clip")
