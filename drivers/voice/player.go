package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3"
)

// Player plays one WAV file and returns when it has finished, failed, or ctx
// is done; an implementation must stop playing when ctx is done.
type Player interface {
	Play(ctx context.Context, wav []byte) error
}

// ALSAOpts configures an ALSAPlayer.
type ALSAOpts struct {
	// Device is the ALSA PCM to play on ("default", "plughw:0,0", …).
	Device string
	// Command is the aplay program, a name looked up in PATH or a path.
	Command string
	// Margin is added to the length of the clip to bound one run of aplay
	// (opening the device, buffering); a run that takes longer is killed.
	Margin time.Duration
	// Env holds extra environment entries for aplay, e.g. "HOME=/var/lib/hallgw"
	// to select the ALSA configuration in that home's .asoundrc.
	Env []string
}

// DefaultALSAOpts plays on the default device with a 3 s margin.
var DefaultALSAOpts = ALSAOpts{Device: "default", Command: "aplay", Margin: 3 * time.Second}

// ALSAPlayer plays through ALSA by piping the WAV to
// "aplay -q -D <device> -" (Debian package alsa-utils). Without a sound card
// aplay fails at once with "audio open error"; the error returned carries
// aplay's last message. Plays may run concurrently (the Announcer never does
// that).
type ALSAPlayer struct {
	o ALSAOpts

	mu      sync.Mutex
	next    int
	running map[int]context.CancelFunc
}

var (
	_ Player        = (*ALSAPlayer)(nil)
	_ conn.Resource = (*ALSAPlayer)(nil)
)

// NewALSA returns an ALSAPlayer; o nil means DefaultALSAOpts. Empty Device
// and Command take the defaults.
func NewALSA(o *ALSAOpts) (*ALSAPlayer, error) {
	if o == nil {
		o = &DefaultALSAOpts
	}
	oo := *o
	if oo.Device == "" {
		oo.Device = DefaultALSAOpts.Device
	}
	if oo.Command == "" {
		oo.Command = DefaultALSAOpts.Command
	}
	if strings.ContainsAny(oo.Device, " \t\n") {
		return nil, fmt.Errorf("voice: ALSA device %q contains white space", oo.Device)
	}
	if oo.Margin <= 0 {
		return nil, fmt.Errorf("voice: ALSA margin %v, want more than 0", oo.Margin)
	}
	for _, kv := range oo.Env {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("voice: ALSA environment entry %q, want KEY=value", kv)
		}
	}
	oo.Env = append([]string(nil), oo.Env...)
	return &ALSAPlayer{o: oo, running: map[int]context.CancelFunc{}}, nil
}

// String describes the player as "aplay -D default".
func (p *ALSAPlayer) String() string { return "aplay -D " + p.o.Device }

// Halt stops every playback in progress; later calls to Play work.
func (p *ALSAPlayer) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.running {
		cancel()
	}
	return nil
}

// Play plays wav and waits for aplay to finish. A run is killed when ctx is
// done or after the clip's length plus Margin; the error then wraps
// ctx's error or context.DeadlineExceeded.
func (p *ALSAPlayer) Play(ctx context.Context, wav []byte) error {
	a, err := ParseWAV(wav)
	if err != nil {
		return err
	}
	limit := a.Duration() + p.o.Margin
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p.mu.Lock()
	id := p.next
	p.next++
	p.running[id] = cancel
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.running, id)
		p.mu.Unlock()
	}()

	cmd := exec.CommandContext(ctx, p.o.Command, "-q", "-D", p.o.Device, "-")
	cmd.Stdin = bytes.NewReader(wav)
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), p.o.Env...)
	cmd.WaitDelay = time.Second // do not wait on a stuck pipe after the kill
	err = cmd.Run()
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("voice: %s: not done %v after start (clip %v): %w", p, limit, a.Duration(), ctxErr)
		}
		return fmt.Errorf("voice: %s: %w", p, ctxErr)
	}
	if msg := stderr.lastLine(); msg != "" {
		return fmt.Errorf("voice: %s: %w: %s", p, err, msg)
	}
	return fmt.Errorf("voice: %s: %w", p, err)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line, which for aplay is its own
// message ("aplay: main:831: audio open error: …") after ALSA's library noise.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// FilePlayer "plays" by writing each WAV to a new file in a directory,
// named announce-0001.wav, announce-0002.wav, … It is for tests and for
// halls without loudspeakers that archive what would have been said.
type FilePlayer struct {
	dir string

	mu    sync.Mutex
	n     int
	files []string
}

var (
	_ Player        = (*FilePlayer)(nil)
	_ conn.Resource = (*FilePlayer)(nil)
)

// NewFilePlayer returns a FilePlayer writing into dir, which must exist.
func NewFilePlayer(dir string) (*FilePlayer, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("voice: %s is not a directory", dir)
	}
	return &FilePlayer{dir: dir}, nil
}

// String describes the player.
func (p *FilePlayer) String() string { return "files in " + p.dir }

// Halt does nothing: a write is not interrupted.
func (p *FilePlayer) Halt() error { return nil }

// Play checks that wav is a PCM WAV file and writes it to the next file.
func (p *FilePlayer) Play(ctx context.Context, wav []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("voice: %s: %w", p, err)
	}
	if _, err := ParseWAV(wav); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	name := filepath.Join(p.dir, fmt.Sprintf("announce-%04d.wav", p.n))
	if err := os.WriteFile(name, wav, 0o644); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	p.files = append(p.files, name)
	return nil
}

// Files returns the paths written so far, oldest first.
func (p *FilePlayer) Files() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.files...)
}
