package voice

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestWindowSegments(t *testing.T) {
	tests := []struct {
		window int
		want   string
	}{
		{1, "1"}, {2, "2"}, {5, "5"}, {9, "9"},
		{10, "shi"}, {11, "shi 1"}, {12, "shi 2"}, {19, "shi 9"},
		{20, "2 shi"}, {21, "2 shi 1"}, {30, "3 shi"}, {35, "3 shi 5"},
		{70, "7 shi"}, {90, "9 shi"}, {99, "9 shi 9"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.window), func(t *testing.T) {
			segs, err := WindowSegments(tc.window)
			if err != nil {
				t.Fatalf("WindowSegments(%d) error %v", tc.window, err)
			}
			if got := strings.Join(segs, " "); got != tc.want {
				t.Errorf("WindowSegments(%d) = %q, want %q", tc.window, got, tc.want)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name   string
		number string
		window int
		want   string
	}{
		{"spec example", "A012", 5, "qing A 0 1 2 hao dao 5 hao-chuangkou banli"},
		{"window 12", "B100", 12, "qing B 1 0 0 hao dao shi 2 hao-chuangkou banli"},
		{"window 20", "C007", 20, "qing C 0 0 7 hao dao 2 shi hao-chuangkou banli"},
		{"window 35", "Z999", 35, "qing Z 9 9 9 hao dao 3 shi 5 hao-chuangkou banli"},
		{"window 10", "A1", 10, "qing A 1 hao dao shi hao-chuangkou banli"},
		{"window 99", "K0", 99, "qing K 0 hao dao 9 shi 9 hao-chuangkou banli"},
		{"lower case", "vip3", 1, "qing V I P 3 hao dao 1 hao-chuangkou banli"},
		{"digits only", "0815", 7, "qing 0 8 1 5 hao dao 7 hao-chuangkou banli"},
		{"two letters", "AB12", 3, "qing A B 1 2 hao dao 3 hao-chuangkou banli"},
		{"longest", "AB123456", 4, "qing A B 1 2 3 4 5 6 hao dao 4 hao-chuangkou banli"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := Segments(tc.number, tc.window)
			if err != nil {
				t.Fatalf("Segments(%q, %d) error %v", tc.number, tc.window, err)
			}
			if got := strings.Join(segs, " "); got != tc.want {
				t.Errorf("Segments(%q, %d) = %q, want %q", tc.number, tc.window, got, tc.want)
			}
		})
	}
}

func TestSegmentsErrors(t *testing.T) {
	tests := []struct {
		name   string
		number string
		window int
		want   string
	}{
		{"empty number", "", 5, "empty ticket number"},
		{"too long", "A12345678", 5, "longer than 8"},
		{"dash", "A-12", 5, `character '-'`},
		{"space", "A 12", 5, `character ' '`},
		{"hanzi", "号12", 5, "not a letter"},
		{"window 0", "A012", 0, "window 0, want 1 to 99"},
		{"window 100", "A012", 100, "window 100"},
		{"negative window", "A012", -3, "window -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := Segments(tc.number, tc.window)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Segments(%q, %d) = %q, %v, want error containing %q", tc.number, tc.window, segs, err, tc.want)
			}
		})
	}
}

// toneSet returns a clip set in f where every clip is a distinct constant
// sample value, so that the composed stream shows each segment's place.
func toneSet(t testing.TB, f Format, chime bool) (*ClipSet, map[string][]byte) {
	t.Helper()
	fsys := fstest.MapFS{}
	var man strings.Builder
	names := ClipNames()
	if chime {
		names = append(names, ClipChime)
	}
	data := map[string][]byte{}
	for i, n := range names {
		frames := 3 + i%5
		d := bytes.Repeat([]byte{byte(i + 1)}, frames*f.FrameSize())
		wav, err := EncodeWAV(f, d)
		if err != nil {
			t.Fatal(err)
		}
		fsys[n+".wav"] = &fstest.MapFile{Data: wav}
		fmt.Fprintf(&man, "%s %s.wav\n", n, n)
		data[n] = d
	}
	fsys[ManifestName] = &fstest.MapFile{Data: []byte(man.String())}
	set, err := LoadDir(fsys)
	if err != nil {
		t.Fatalf("LoadDir(tone set) error %v", err)
	}
	return set, data
}

func TestCompose(t *testing.T) {
	tests := []struct {
		name   string
		f      Format
		o      Opts
		number string
		window int
		gap    int // frames
	}{
		{"chime and gap", Format{1000, 1, 16}, Opts{Gap: 5 * time.Millisecond, Chime: true}, "A012", 5, 5},
		{"no chime no gap", Format{1000, 1, 16}, Opts{}, "b7", 35, 0},
		{"gap rounds to frames", Format{8000, 1, 16}, Opts{Gap: 1060 * time.Microsecond}, "Q1", 20, 8},
		{"stereo 24-bit", Format{2000, 2, 24}, Opts{Gap: 2 * time.Millisecond, Chime: true}, "Z9", 99, 4},
		{"8-bit silence is mid-scale", Format{1000, 1, 8}, Opts{Gap: 3 * time.Millisecond}, "C3", 12, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, clips := toneSet(t, tc.f, tc.o.Chime)
			c, err := New(set, &tc.o)
			if err != nil {
				t.Fatalf("New() error %v", err)
			}
			ann, err := c.Compose(tc.number, tc.window)
			if err != nil {
				t.Fatalf("Compose() error %v", err)
			}
			want, _ := Segments(tc.number, tc.window)
			if tc.o.Chime {
				want = append([]string{ClipChime}, want...)
			}
			if got := strings.Join(ann.Segments, " "); got != strings.Join(want, " ") {
				t.Errorf("Compose().Segments = %q, want %q", got, strings.Join(want, " "))
			}
			silence := byte(0)
			if tc.f.BitsPerSample == 8 {
				silence = 0x80
			}
			gap := bytes.Repeat([]byte{silence}, tc.gap*tc.f.FrameSize())
			var pcm []byte
			for i, s := range want {
				if i > 0 {
					pcm = append(pcm, gap...)
				}
				pcm = append(pcm, clips[s]...)
			}
			a, err := ParseWAV(ann.WAV)
			if err != nil {
				t.Fatalf("ParseWAV(Compose().WAV) error %v", err)
			}
			if a.Format != tc.f || !bytes.Equal(a.Data, pcm) {
				t.Errorf("Compose().WAV = %v % x, want %v % x", a.Format, a.Data, tc.f, pcm)
			}
			if got, want := binary.LittleEndian.Uint32(ann.WAV[4:]), uint32(len(ann.WAV)-8); got != want {
				t.Errorf("RIFF size = %d, want %d", got, want)
			}
			if got, want := ann.Duration, tc.f.Duration(len(pcm)/tc.f.FrameSize()); got != want {
				t.Errorf("Compose().Duration = %v, want %v", got, want)
			}
			if got, want := ann.Number, strings.ToUpper(tc.number); got != want {
				t.Errorf("Compose().Number = %q, want %q", got, want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	set, _ := toneSet(t, Format{1000, 1, 16}, false)
	tests := []struct {
		name string
		set  *ClipSet
		o    *Opts
		want string
	}{
		{"no set", nil, nil, "no clip set"},
		{"negative gap", set, &Opts{Gap: -time.Millisecond}, "gap -1ms"},
		{"gap too long", set, &Opts{Gap: 2 * time.Second}, "gap 2s"},
		{"chime missing", set, &Opts{Chime: true}, `no "chime" clip`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.set, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestComposeErrors(t *testing.T) {
	set, _ := toneSet(t, Format{1000, 1, 16}, true)
	c, err := New(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		number string
		window int
	}{{"", 1}, {"A1", 0}, {"A1", 100}, {"A_1", 3}} {
		t.Run(fmt.Sprintf("%q,%d", tc.number, tc.window), func(t *testing.T) {
			ann, err := c.Compose(tc.number, tc.window)
			if err == nil {
				t.Errorf("Compose(%q, %d) = %v, want an error", tc.number, tc.window, ann.Segments)
			}
		})
	}
}

func ExampleComposer_Compose() {
	set, err := Default()
	if err != nil {
		panic(err)
	}
	c, err := New(set, &Opts{Gap: 60 * time.Millisecond, Chime: true})
	if err != nil {
		panic(err)
	}
	ann, err := c.Compose("A012", 35)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(ann.Segments, " "))
	fmt.Println(set.Format())
	// Output:
	// chime qing A 0 1 2 hao dao 3 shi 5 hao-chuangkou banli
	// 22050 Hz mono 16-bit
}

// BenchmarkCompose measures assembling a five-character call on the default
// set; BenchmarkComposeBaseline copies the same number of bytes once, so
// the ratio of the two shows the cost of composition over a bare memmove.
func BenchmarkCompose(b *testing.B) {
	set, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(set, nil)
	if err != nil {
		b.Fatal(err)
	}
	ann, _ := c.Compose("A0123", 35)
	b.SetBytes(int64(len(ann.WAV)))
	for b.Loop() {
		if _, err := c.Compose("A0123", 35); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComposeBaseline(b *testing.B) {
	set, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(set, nil)
	if err != nil {
		b.Fatal(err)
	}
	ann, _ := c.Compose("A0123", 35)
	b.SetBytes(int64(len(ann.WAV)))
	for b.Loop() {
		_ = bytes.Clone(ann.WAV)
	}
}
