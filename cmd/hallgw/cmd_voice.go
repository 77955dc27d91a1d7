package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"hallgw/drivers/voice"
)

func init() {
	register(&command{
		name:    "voice say",
		summary: "say one call announcement (or write it to a WAV file)",
		run:     runVoiceSay,
	})
	register(&command{
		name:    "voice clips",
		summary: "export the voice clip set (a start for recorded clips)",
		run:     runVoiceClips,
	})
}

// loadClips returns the clip set in dir, or the built-in one when dir is "".
func loadClips(dir string) (*voice.ClipSet, error) {
	if dir == "" {
		return voice.Default()
	}
	return voice.LoadDir(os.DirFS(dir))
}

func runVoiceSay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "voice say")
	number := fs.String("number", "", "ticket number to call, e.g. A012")
	window := fs.Int("window", 0, fmt.Sprintf("window number, 1 to %d", voice.MaxWindow))
	out := fs.String("out", "", "write the announcement to this WAV file instead of playing it")
	clips := fs.String("clips", "", "directory with manifest.txt and recorded clips (default: built-in set)")
	gap := fs.Duration("gap", voice.DefaultOpts.Gap, "silence between words")
	chime := fs.Bool("chime", voice.DefaultOpts.Chime, "start with the chime")
	repeat := fs.Int("repeat", 1, fmt.Sprintf("times to play it, 1 to %d", voice.MaxRepeat))
	device := fs.String("device", voice.DefaultALSAOpts.Device, "ALSA device for aplay")
	aplay := fs.String("aplay", voice.DefaultALSAOpts.Command, "aplay program")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *number == "" {
		return fmt.Errorf("%w: --number is required", errUsage)
	}
	set, err := loadClips(*clips)
	if err != nil {
		return err
	}
	comp, err := voice.New(set, &voice.Opts{Gap: *gap, Chime: *chime})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ann, err := comp.Compose(*number, *window)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Fprintf(e.stdout, "%s to window %d: %s (%.2f s)\n", ann.Number, ann.Window,
		strings.Join(ann.Segments, " "), ann.Duration.Seconds())
	if *out != "" {
		if err := os.WriteFile(*out, ann.WAV, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", *out)
		return nil
	}

	o := voice.DefaultALSAOpts
	o.Device, o.Command = *device, *aplay
	player, err := voice.NewALSA(&o)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ao := voice.DefaultAnnouncerOpts
	ao.Repeat = 1
	a, err := voice.NewAnnouncer(comp, player, &ao)
	if err != nil {
		return err
	}
	defer a.Halt()
	if err := a.Announce(ctx, *number, *window, *repeat); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := a.Wait(ctx); err != nil {
		return err
	}
	return a.Health()
}

func runVoiceClips(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "voice clips")
	out := fs.String("out", "", "directory to write manifest.txt and the WAV clips to")
	clips := fs.String("clips", "", "clip directory to check and re-export (default: built-in set)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	set, err := loadClips(*clips)
	if err != nil {
		return err
	}
	if err := set.WriteDir(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %d clips (%s) and %s to %s\n",
		len(voice.ClipNames())+boolInt(set.HasChime()), set.Format(), voice.ManifestName, *out)
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
