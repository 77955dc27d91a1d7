package voice

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/testkit"
)

// soxInfo runs "sox --i <flag> file" and returns its trimmed output.
func soxInfo(t *testing.T, sox, flag, file string) string {
	t.Helper()
	out, err := exec.Command(sox, "--i", flag, file).Output()
	if err != nil {
		t.Fatalf("sox --i %s %s: %v", flag, file, err)
	}
	return strings.TrimSpace(string(out))
}

// TestRenderSox renders announcements with the default clip set to WAV
// files and checks them with sox: the header sox reads, the duration (the
// sum of the segments plus the gaps), and every segment and gap cut out by
// sox at the frame where it should start.
func TestRenderSox(t *testing.T) {
	sox := testkit.Tool(t, "sox")
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		o      Opts
		number string
		window int
		gap    int // frames of silence between segments
	}{
		{"spec example with chime", Opts{Gap: 60 * time.Millisecond, Chime: true}, "A012", 5, 1323},
		{"window 35 no chime", Opts{Gap: 100 * time.Millisecond}, "B207", 35, 2205},
		{"no gap", Opts{}, "Z9", 20, 0},
		{"long gap", Opts{Gap: 333 * time.Millisecond, Chime: true}, "K0815", 12, 7343},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(set, &tc.o)
			if err != nil {
				t.Fatal(err)
			}
			ann, err := c.Compose(tc.number, tc.window)
			if err != nil {
				t.Fatalf("Compose(%q, %d) error %v", tc.number, tc.window, err)
			}
			file := filepath.Join(t.TempDir(), "call.wav")
			if err := os.WriteFile(file, ann.WAV, 0o644); err != nil {
				t.Fatal(err)
			}
			for flag, want := range map[string]string{"-r": "22050", "-c": "1", "-b": "16", "-e": "Signed Integer PCM"} {
				if got := soxInfo(t, sox, flag, file); got != want {
					t.Errorf("sox --i %s = %q, want %q", flag, got, want)
				}
			}

			rate := set.Format().SampleRate
			gap := tc.gap
			type span struct {
				name         string
				start, count int // frames
			}
			var spans []span
			pos := 0
			for i, s := range ann.Segments {
				if i > 0 {
					spans = append(spans, span{"gap", pos, gap})
					pos += gap
				}
				a, _ := set.Clip(s)
				spans = append(spans, span{s, pos, a.Frames()})
				pos += a.Frames()
			}

			if got := soxInfo(t, sox, "-s", file); got != strconv.Itoa(pos) {
				t.Errorf("sox --i -s = %s samples, want %d (segments + %d gaps of %d)", got, pos, len(ann.Segments)-1, gap)
			}
			secs, err := strconv.ParseFloat(soxInfo(t, sox, "-D", file), 64)
			if err != nil {
				t.Fatal(err)
			}
			if want := float64(pos) / float64(rate); math.Abs(secs-want) > 1/float64(rate) {
				t.Errorf("sox --i -D = %.6f s, want %.6f s within one frame", secs, want)
			}

			for i, sp := range spans {
				if sp.count == 0 {
					continue
				}
				raw, err := exec.Command(sox, file, "-t", "raw", "-", "trim",
					fmt.Sprintf("%ds", sp.start), fmt.Sprintf("%ds", sp.count)).Output()
				if err != nil {
					t.Fatalf("sox trim %d %d: %v", sp.start, sp.count, err)
				}
				want := make([]byte, sp.count*2)
				if sp.name != "gap" {
					a, _ := set.Clip(sp.name)
					want = a.Data
				}
				if !bytes.Equal(raw, want) {
					t.Errorf("segment %d %q at frame %d: sox cut %d bytes that differ from the %d expected", i, sp.name, sp.start, len(raw), len(want))
				}
			}
		})
	}
}
