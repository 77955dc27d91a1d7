package frontdesk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"hallgw/drivers/voice"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
)

// voiceID is the health id of the calling voice.
const voiceID = "voice"

// voiceOut announces calls and recalls.
type voiceOut struct {
	f       *Frontdesk
	ann     *voice.Announcer
	output  string
	skipped atomic.Uint64 // calls that could not be announced (window over 99, queue full)
	prev    voice.Stats
}

func newVoice(f *Frontdesk, vc config.Voice, player voice.Player) (*voiceOut, error) {
	set, err := voice.Default()
	if vc.Clips != "" {
		set, err = voice.LoadDir(os.DirFS(f.d.Path(vc.Clips)))
	}
	if err != nil {
		return nil, fmt.Errorf("frontdesk: voice clips: %w", err)
	}
	comp, err := voice.New(set, nil)
	if err != nil {
		return nil, fmt.Errorf("frontdesk: voice: %w", err)
	}
	out := vc.OutputOrDefault()
	if player == nil {
		switch out {
		case config.VoiceFiles:
			dir := vc.Dir
			if dir == "" {
				dir = filepath.Join(f.d.DataDir(), "voice")
			} else {
				dir = f.d.Path(dir)
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("frontdesk: voice: %w", err)
			}
			if player, err = voice.NewFilePlayer(dir); err != nil {
				return nil, fmt.Errorf("frontdesk: voice: %w", err)
			}
		case config.VoiceNone:
			player = &SilentPlayer{}
		default:
			o := voice.DefaultALSAOpts
			if vc.Device != "" {
				o.Device = vc.Device
			}
			if player, err = voice.NewALSA(&o); err != nil {
				return nil, fmt.Errorf("frontdesk: voice: %w", err)
			}
		}
	} else {
		out = fmt.Sprint(player)
	}
	ao := voice.DefaultAnnouncerOpts
	ao.Repeat = vc.RepeatOrDefault()
	ann, err := voice.NewAnnouncer(comp, player, &ao)
	if err != nil {
		return nil, fmt.Errorf("frontdesk: voice: %w", err)
	}
	return &voiceOut{f: f, ann: ann, output: out}, nil
}

// announce queues the call of number to the window with id window.
func (v *voiceOut) announce(ctx context.Context, number, window string) {
	n, ok := v.f.numbers[window]
	if !ok {
		v.skipped.Add(1)
		return
	}
	if err := v.ann.Announce(ctx, number, n, 0); err != nil {
		v.skipped.Add(1)
		v.f.log.Debug("call not announced", "number", number, "window", n, "err", err)
	}
}

// run reports the announcer's health until ctx ends.
func (v *voiceOut) run(ctx context.Context) {
	t := v.f.clock.NewTicker(2 * time.Second)
	defer t.Stop()
	v.publish()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			v.publish()
		}
	}
}

func (v *voiceOut) publish() {
	st := v.ann.Stats()
	prev := v.prev
	v.prev = st
	herr := v.ann.Health()
	v.f.d.Health.Update(voiceID, "voice", func(d *health.Device) {
		d.Detail = map[string]any{"output": v.output}
		if herr != nil {
			d.State, d.Reason = health.Down, herr.Error()
		} else {
			d.State, d.Reason = health.Up, ""
		}
		if st.Played > prev.Played {
			d.LastSeen = v.f.d.Now()
		}
		countN(d, "failed", st.Failed-min(st.Failed, prev.Failed))
		countN(d, "dropped", st.Dropped-min(st.Dropped, prev.Dropped))
	})
}

// VoiceStatus is the voice's part of the status.
type VoiceStatus struct {
	Output  string `json:"output"`
	Queued  uint64 `json:"queued"`
	Played  uint64 `json:"played"`
	Failed  uint64 `json:"failed"`
	Merged  uint64 `json:"merged"`
	Dropped uint64 `json:"dropped"`
	Skipped uint64 `json:"skipped"`
	Pending int    `json:"pending"`
}

func (v *voiceOut) status() VoiceStatus {
	st := v.ann.Stats()
	return VoiceStatus{Output: v.output, Queued: st.Queued, Played: st.Played, Failed: st.Failed,
		Merged: st.Merged, Dropped: st.Dropped, Skipped: v.skipped.Load(), Pending: st.Pending}
}

// SilentPlayer plays nothing: it checks each announcement is a WAV file
// and counts it. It is the voice output "none", for halls without
// loudspeakers and for the demo.
type SilentPlayer struct{ plays atomic.Uint64 }

// Play counts wav.
func (p *SilentPlayer) Play(ctx context.Context, wav []byte) error {
	if _, err := voice.ParseWAV(wav); err != nil {
		return err
	}
	p.plays.Add(1)
	return ctx.Err()
}

// Plays returns how many announcements were played.
func (p *SilentPlayer) Plays() uint64 { return p.plays.Load() }

// String describes the player.
func (p *SilentPlayer) String() string { return "silent" }
