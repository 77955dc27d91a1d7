package voice

import (
	"fmt"
	"strings"
	"time"
)

// Limits of what can be announced.
const (
	MaxNumberLen = 8  // characters of a ticket number
	MaxWindow    = 99 // highest window number that can be read out
	MaxGap       = time.Second
)

// Opts configures a Composer.
type Opts struct {
	// Gap is the silence between two segments, 0 to MaxGap. It is rounded
	// to whole frames.
	Gap time.Duration
	// Chime starts every announcement with the ClipChime clip, which the
	// clip set must then hold.
	Chime bool
}

// DefaultOpts is a chime and 60 ms between words.
var DefaultOpts = Opts{Gap: 60 * time.Millisecond, Chime: true}

// Composer assembles announcements from a clip set. It is safe for
// concurrent use.
type Composer struct {
	set *ClipSet
	o   Opts
	gap int // frames of silence between segments
}

// New returns a Composer for set; o nil means DefaultOpts.
func New(set *ClipSet, o *Opts) (*Composer, error) {
	if set == nil {
		return nil, fmt.Errorf("voice: no clip set")
	}
	if o == nil {
		o = &DefaultOpts
	}
	if o.Gap < 0 || o.Gap > MaxGap {
		return nil, fmt.Errorf("voice: gap %v, want 0 to %v", o.Gap, MaxGap)
	}
	if o.Chime && !set.HasChime() {
		return nil, errNoChime
	}
	return &Composer{set: set, o: *o, gap: set.Format().Frames(o.Gap)}, nil
}

// Announcement is one assembled call.
type Announcement struct {
	Number   string   // ticket number as spoken, upper case
	Window   int      // window number
	Segments []string // clip names in the order spoken, chime included
	WAV      []byte   // the whole announcement as a canonical WAV file
	Duration time.Duration
}

// Segments returns the clip names that speak "请 <number> 号到 <window> 号窗口办理",
// without the chime: each letter and digit of number on its own (lower-case
// letters are read as upper case), the window as a Chinese number.
// number must be 1 to MaxNumberLen letters and digits; window 1 to MaxWindow.
func Segments(number string, window int) ([]string, error) {
	num, err := normNumber(number)
	if err != nil {
		return nil, err
	}
	win, err := WindowSegments(window)
	if err != nil {
		return nil, err
	}
	segs := make([]string, 0, len(num)+len(win)+5)
	segs = append(segs, ClipQing)
	for _, c := range num {
		segs = append(segs, string(c))
	}
	segs = append(segs, ClipHao, ClipDao)
	segs = append(segs, win...)
	return append(segs, ClipWindow, ClipBanli), nil
}

// normNumber checks a ticket number and returns it in upper case.
func normNumber(number string) (string, error) {
	if number == "" {
		return "", fmt.Errorf("voice: empty ticket number")
	}
	if len(number) > MaxNumberLen {
		return "", fmt.Errorf("voice: ticket number %q longer than %d characters", number, MaxNumberLen)
	}
	up := strings.ToUpper(number)
	for i := 0; i < len(up); i++ {
		c := up[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return "", fmt.Errorf("voice: ticket number %q: character %q is not a letter A-Z or digit", number, number[i])
		}
	}
	return up, nil
}

// WindowSegments returns the clip names that read window n as a Chinese
// number: 5 → 5, 10 → shi, 12 → shi 2, 20 → 2 shi, 35 → 3 shi 5. n must be
// 1 to MaxWindow.
func WindowSegments(n int) ([]string, error) {
	if n < 1 || n > MaxWindow {
		return nil, fmt.Errorf("voice: window %d, want 1 to %d", n, MaxWindow)
	}
	tens, ones := n/10, n%10
	var segs []string
	if tens > 1 {
		segs = append(segs, digit(tens))
	}
	if tens > 0 {
		segs = append(segs, ClipShi)
	}
	if ones > 0 {
		segs = append(segs, digit(ones))
	}
	return segs, nil
}

func digit(d int) string { return string(rune('0' + d)) }

// Compose assembles the announcement calling ticket number to window: the
// chime (if configured), then Segments(number, window), with Opts.Gap of
// silence between consecutive segments and none at the ends.
func (c *Composer) Compose(number string, window int) (Announcement, error) {
	segs, err := Segments(number, window)
	if err != nil {
		return Announcement{}, err
	}
	if c.o.Chime {
		segs = append([]string{ClipChime}, segs...)
	}
	f := c.set.Format()
	gap := make([]byte, c.gap*f.FrameSize())
	if f.BitsPerSample == 8 {
		for i := range gap {
			gap[i] = 0x80 // 8-bit PCM is unsigned: silence is mid-scale
		}
	}
	n := len(gap) * (len(segs) - 1)
	for _, s := range segs {
		a, ok := c.set.Clip(s)
		if !ok {
			return Announcement{}, fmt.Errorf("voice: clip %q missing", s)
		}
		n += len(a.Data)
	}
	wav, err := appendHeader(make([]byte, 0, wavHeaderLen+n+1), f, n)
	if err != nil {
		return Announcement{}, err
	}
	for i, s := range segs {
		if i > 0 {
			wav = append(wav, gap...)
		}
		a, _ := c.set.Clip(s)
		wav = append(wav, a.Data...)
	}
	wav = finishWAV(wav)
	num, _ := normNumber(number)
	return Announcement{
		Number:   num,
		Window:   window,
		Segments: segs,
		WAV:      wav,
		Duration: f.Duration(n / f.FrameSize()),
	}, nil
}
