package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"hallgw/drivers/voice"
	"hallgw/firmware/config"
	"hallgw/firmware/selftest"
)

func init() {
	register(&command{
		name:    "selftest",
		summary: "test every configured device (ticket, LED bars, voice, UPS, card readers): pass or fail each",
		run:     runSelftest,
	})
}

func runSelftest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "selftest")
	cfgPath := fs.String("config", "/etc/hallgw/hallgw.yaml", "configuration `file`")
	root := fs.String("root", "", "prefix every configured path with `dir`, as for run")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cardWait := fs.Duration("card-wait", 10*time.Second, "how long each card reader waits for a card (0: do not wait)")
	barHold := fs.Duration("bar-hold", 3*time.Second, "how long the LED bars and displays show the test text")
	readers := fs.String("reader", "", "comma-separated ports of ID-card readers to test")
	readerBaud := fs.Int("reader-baud", config.DefaultReaderBaud, "line speed of the --reader ports")
	upsPort := fs.String("ups", "", "test the UPS on this `port` (default: power.ups.port of the configuration)")
	noVoice := fs.Bool("no-voice", false, "skip the test announcement")
	voiceDev := fs.String("voice-device", voice.DefaultALSAOpts.Device, "ALSA device of the announcement")
	voiceDir := fs.String("voice-dir", "", "write the announcement as a WAV file into `dir` instead of playing it")
	clips := fs.String("clips", "", "directory with manifest.txt and recorded clips (default: built-in set)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hallgw selftest [--config FILE] [--json] [flags]")
		fmt.Fprintln(fs.Output(), "Stop the daemon first (systemctl stop hallgw): the devices are opened directly.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *cardWait < 0 || *cardWait > 10*time.Minute:
		return fmt.Errorf("%w: --card-wait %v: want 0 to 10m", errUsage, *cardWait)
	case *barHold < 0 || *barHold > time.Minute:
		return fmt.Errorf("%w: --bar-hold %v: want 0 to 1m", errUsage, *barHold)
	}
	l, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	o := selftest.Opts{Config: l.Config, Root: *root, CardWait: *cardWait, BarHold: *barHold}
	for _, p := range strings.Split(*readers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.Readers = append(o.Readers, config.WindowReader{Port: p, Baud: *readerBaud})
		}
	}
	if *upsPort != "" {
		o.Power = config.PowerOf(l.Config)
		o.Power.UPS = config.UPSPort{Port: *upsPort, Baud: o.Power.UPS.Baud, BatteryNominal: o.Power.UPS.BatteryNominal}
	}
	if !*noVoice {
		if o.Voice, o.Clips, err = selftestVoice(*voiceDev, *voiceDir, *clips); err != nil {
			return err
		}
	}
	pl := newProgressLine(e.stderr)
	o.Progress = func(d string) { pl.show("testing " + d + " …") }
	rep, err := selftest.Run(ctx, o)
	pl.done()
	if err != nil && rep.Checks == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tKIND\tPORT\tRESULT\tDETAIL")
		for _, c := range rep.Checks {
			res, detail := "PASS", c.Result
			if !c.Pass {
				res, detail = "FAIL", c.Error
				if c.Result != "" {
					detail += " (" + c.Result + ")"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Device, c.Kind, dash(c.Port), res, detail)
		}
		if ferr := tw.Flush(); ferr != nil {
			return ferr
		}
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, c := range rep.Checks {
		if !c.Pass {
			failed++
		}
	}
	if len(rep.Checks) == 0 {
		return fmt.Errorf("no device configured in %s", *cfgPath)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d devices failed", failed, len(rep.Checks))
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "all %d devices passed\n", len(rep.Checks))
	}
	return nil
}

// selftestVoice returns the player and clip set of the test announcement.
func selftestVoice(device, dir, clips string) (voice.Player, *voice.ClipSet, error) {
	set, err := loadClips(clips)
	if err != nil {
		return nil, nil, err
	}
	if dir != "" {
		p, err := voice.NewFilePlayer(dir)
		if err != nil {
			return nil, nil, err
		}
		return p, set, nil
	}
	o := voice.DefaultALSAOpts
	o.Device = device
	p, err := voice.NewALSA(&o)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return p, set, nil
}
