package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/testkit"
)

// captureHome returns a HOME directory whose .asoundrc sends the default
// ALSA device to a WAV file, and the path of that file.
func captureHome(t *testing.T) (home, out string) {
	t.Helper()
	home = t.TempDir()
	out = filepath.Join(home, "OUT.wav")
	rc := fmt.Sprintf("pcm.!default { type file slave.pcm \"null\" file %q format \"wav\" }\n", out)
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	return home, out
}

// checkCaptured checks that the WAV file ALSA wrote holds ann's audio. aplay
// pads the last period with silence, so the capture may be longer by up to
// a buffer of zeros.
func checkCaptured(t *testing.T, out string, ann Announcement) {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("aplay wrote no capture: %v", err)
	}
	got, err := ParseWAV(b)
	if err != nil {
		t.Fatalf("ParseWAV(capture) error %v", err)
	}
	want, _ := ParseWAV(ann.WAV)
	if got.Format != want.Format {
		t.Errorf("capture format %v, want %v", got.Format, want.Format)
	}
	if len(got.Data) < len(want.Data) || !bytes.Equal(got.Data[:len(want.Data)], want.Data) {
		t.Fatalf("capture of %d bytes does not start with the %d bytes of the announcement", len(got.Data), len(want.Data))
	}
	tail := got.Data[len(want.Data):]
	if len(tail) > got.Format.SampleRate*got.Format.FrameSize() || len(bytes.Trim(tail, "\x00")) != 0 {
		t.Errorf("capture ends with %d bytes after the announcement, want at most 1 s of silence", len(tail))
	}
}

func composeDefault(t *testing.T, number string, window int) Announcement {
	t.Helper()
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := c.Compose(number, window)
	if err != nil {
		t.Fatal(err)
	}
	return ann
}

// TestALSAPlayerCapture plays an announcement with the real aplay through
// the default device, which a private .asoundrc turns into a WAV file.
func TestALSAPlayerCapture(t *testing.T) {
	aplay := testkit.Tool(t, "aplay")
	home, out := captureHome(t)
	p, err := NewALSA(&ALSAOpts{Device: "default", Command: aplay, Margin: 10 * time.Second, Env: []string{"HOME=" + home}})
	if err != nil {
		t.Fatal(err)
	}
	ann := composeDefault(t, "A012", 5)
	if err := p.Play(t.Context(), ann.WAV); err != nil {
		t.Fatalf("Play() error %v", err)
	}
	checkCaptured(t, out, ann)
}

// TestALSAPlayerNoCard plays on a sound card that does not exist: aplay
// fails with "audio open error", which Play returns.
func TestALSAPlayerNoCard(t *testing.T) {
	aplay := testkit.Tool(t, "aplay")
	p, err := NewALSA(&ALSAOpts{Device: "hw:29,0", Command: aplay, Margin: 10 * time.Second, Env: []string{"HOME=" + t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Play(t.Context(), composeDefault(t, "B1", 2).WAV)
	if err == nil || !strings.Contains(err.Error(), "audio open error") || !strings.HasPrefix(err.Error(), "voice: aplay -D hw:29,0: ") {
		t.Errorf("Play() on hw:29,0 error %v, want \"voice: aplay -D hw:29,0: …audio open error…\"", err)
	}
}

// fakeAplay writes a shell script that stands in for aplay: it reads
// nothing and sleeps, like a player stuck on a hung device.
func fakeAplay(t *testing.T, body string) string {
	t.Helper()
	testkit.Tool(t, "sh")
	testkit.Tool(t, "sleep")
	p := filepath.Join(t.TempDir(), "aplay")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestALSAPlayerTimeout(t *testing.T) {
	p, err := NewALSA(&ALSAOpts{Command: fakeAplay(t, "exec sleep 60"), Margin: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := EncodeWAV(mono16, make([]byte, 2*441)) // 20 ms
	err = p.Play(t.Context(), wav)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not done 70ms after start (clip 20ms)") {
		t.Errorf("Play() on a hung aplay error %v, want a deadline error naming 70ms", err)
	}
}

func TestALSAPlayerHalt(t *testing.T) {
	p, err := NewALSA(&ALSAOpts{Command: fakeAplay(t, "exec sleep 60"), Margin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := EncodeWAV(mono16, make([]byte, 2*220))
	done := make(chan error, 1)
	go func() { done <- p.Play(context.Background(), wav) }()
	// Halt until the play has registered and been cut off.
	for {
		if err := p.Halt(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Play() after Halt error %v, want context.Canceled", err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestALSAPlayerExitStatus(t *testing.T) {
	p, err := NewALSA(&ALSAOpts{Command: fakeAplay(t, "cat >/dev/null; echo 'ALSA lib noise' >&2; echo 'aplay: pcm_write:2146: write error: Input/output error' >&2; exit 1"), Margin: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := EncodeWAV(mono16, make([]byte, 2*220))
	err = p.Play(t.Context(), wav)
	if want := "voice: aplay -D default: exit status 1: aplay: pcm_write:2146: write error: Input/output error"; err == nil || err.Error() != want {
		t.Errorf("Play() error %v, want %q", err, want)
	}
}

func TestALSAPlayerBadWAV(t *testing.T) {
	p, err := NewALSA(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Play(t.Context(), []byte("not audio")); !errors.Is(err, ErrNotWAV) {
		t.Errorf("Play(garbage) error %v, want ErrNotWAV", err)
	}
	if got, want := p.String(), "aplay -D default"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestNewALSAErrors(t *testing.T) {
	tests := []struct {
		name string
		o    ALSAOpts
		want string
	}{
		{"device with space", ALSAOpts{Device: "hw:0 -v", Margin: time.Second}, "white space"},
		{"no margin", ALSAOpts{}, "margin 0s"},
		{"bad env", ALSAOpts{Margin: time.Second, Env: []string{"HOME"}}, `entry "HOME"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewALSA(&tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewALSA(%+v) error %v, want one containing %q", tc.o, err, tc.want)
			}
		})
	}
}

func TestFilePlayer(t *testing.T) {
	dir := t.TempDir()
	p, err := NewFilePlayer(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := composeDefault(t, "A1", 1)
	b := composeDefault(t, "A2", 2)
	for _, w := range [][]byte{a.WAV, b.WAV} {
		if err := p.Play(t.Context(), w); err != nil {
			t.Fatalf("Play() error %v", err)
		}
	}
	if err := p.Play(t.Context(), []byte("RIFF")); err == nil {
		t.Errorf("Play(garbage) error nil, want one")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Play(ctx, a.WAV); !errors.Is(err, context.Canceled) {
		t.Errorf("Play(cancelled) error %v, want context.Canceled", err)
	}
	files := p.Files()
	want := []string{filepath.Join(dir, "announce-0001.wav"), filepath.Join(dir, "announce-0002.wav")}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Fatalf("Files() = %q, want %q", files, want)
	}
	for i, w := range [][]byte{a.WAV, b.WAV} {
		got, _ := os.ReadFile(files[i])
		if !bytes.Equal(got, w) {
			t.Errorf("%s holds %d bytes, want the %d played", files[i], len(got), len(w))
		}
	}
	if _, err := NewFilePlayer(filepath.Join(dir, "announce-0001.wav")); err == nil {
		t.Errorf("NewFilePlayer(file) error nil, want not a directory")
	}
}
