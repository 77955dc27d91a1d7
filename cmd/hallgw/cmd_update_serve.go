package main

import (
	"context"
	"fmt"
	"time"

	"hallgw/firmware/otaupdate"
)

func init() {
	register(&command{
		name:    "update serve",
		summary: "push a signed bundle to a gateway over MQTT and serve its chunks until it is installed",
		run:     runUpdateServe,
	})
}

func runUpdateServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "update serve")
	broker := fs.String("broker", "", "broker `URL` (tcp://, ssl://, ws://, …)")
	prefix := fs.String("prefix", "hallgw", "topic `prefix` (mqtt.topic_prefix)")
	hall := fs.String("hall", "", "hall `id` of the gateway")
	gw := fs.String("gateway", "", "gateway `id`")
	token := fs.String("token", "", "the gateway's command `token` (mqtt.command_token)")
	user := fs.String("username", "", "broker user `name`")
	pass := fs.String("password", "", "broker `password`")
	chunk := fs.Int("chunk-size", otaupdate.DefaultChunkSize, "chunk size in `bytes`")
	timeout := fs.Duration("timeout", time.Hour, "give up after this `duration`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *broker == "" || *hall == "" || *gw == "" {
		return fmt.Errorf("%w: want --broker URL --hall H --gateway G BUNDLE", errUsage)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	bundle := fs.Arg(0)
	offer, err := otaupdate.BundleOffer(bundle, *chunk)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "offering %s: version %s, %d bytes in %d chunks, sha256 %s\n",
		bundle, dashIfEmpty(offer.Version), offer.Size, offer.Chunks(), offer.SHA256)
	step := max(1, offer.Chunks()/10)
	out, err := otaupdate.Push(ctx, otaupdate.PushOpts{
		Broker: *broker, Username: *user, Password: *pass, Prefix: *prefix, Hall: *hall, Gateway: *gw,
		Token: *token, Bundle: bundle, ChunkSize: *chunk,
		Progress: func(served, chunks int) {
			if served%step == 0 || served == chunks {
				fmt.Fprintf(e.stdout, "served %d of %d chunks\n", served, chunks)
			}
		},
	})
	if err != nil {
		return err
	}
	r := out.Record
	if !out.Installed() {
		return fmt.Errorf("the gateway %s the bundle (%s): %s", r.Type, dashIfEmpty(r.Code), r.Reason)
	}
	fmt.Fprintf(e.stdout, "installed version %s (security version %d, signed by key %s) into slot %s; the gateway restarts into its trial\n",
		r.Version, r.SecurityVersion, r.KeyID, r.Slot)
	return nil
}

// dashIfEmpty shows an empty field as "-".
func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
