package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/uplink"
)

func init() {
	register(&command{
		name:    "watch",
		summary: "show what central ops see of the gateways over MQTT: status, health, faults, events",
		run:     runWatch,
	})
}

var errWatchDone = errors.New("watch: done")

func runWatch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "watch")
	broker := fs.String("broker", "", "broker `URL`, e.g. tcp://127.0.0.1:1883 (required)")
	prefix := fs.String("prefix", "hallgw", "topic `prefix` (mqtt.topic_prefix of the gateways)")
	hallID := fs.String("hall", "", "only this hall `id` (default: every hall)")
	gw := fs.String("gateway", "", "only this gateway `id` (default: every gateway)")
	asJSON := fs.Bool("json", false, "print each message as a JSON line: topic, retained, payload")
	user := fs.String("username", "", "broker user `name`")
	pass := fs.String("password", "", "broker `password`")
	ca := fs.String("ca", "", "CA certificate `file` (PEM) for ssl:// brokers")
	cert := fs.String("cert", "", "client certificate `file` (PEM)")
	key := fs.String("key", "", "client key `file` (PEM)")
	count := fs.Int("count", 0, "stop after `n` messages (0 = until interrupted)")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until interrupted)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *broker == "" {
		return fmt.Errorf("%w: --broker is required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	tc, err := uplink.TLSConfig(config.TLS{CA: *ca, Cert: *cert, Key: *key}, nil)
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	n := 0
	err = uplink.Watch(ctx, uplink.WatchOptions{
		Broker: *broker, Prefix: *prefix, Hall: *hallID, Gateway: *gw, Username: *user, Password: *pass, TLS: tc,
		OnLink: func(s string) {
			if !*asJSON {
				fmt.Fprintf(e.stderr, "%s watch: %s\n", time.Now().Format("15:04:05"), s)
			}
		},
	}, func(m uplink.WatchMessage) error {
		if *asJSON {
			line := struct {
				Topic    string          `json:"topic"`
				Retained bool            `json:"retained"`
				Payload  json.RawMessage `json:"payload"`
			}{m.Topic, m.Retained, m.Payload}
			if !json.Valid(m.Payload) {
				line.Payload, _ = json.Marshal(string(m.Payload))
			}
			b, err := json.Marshal(line)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s\n", b)
		} else {
			s, err := uplink.Describe(*prefix, m, nil)
			if err != nil {
				return nil
			}
			fmt.Fprintf(e.stdout, "%s %s\n", time.Now().Format("15:04:05"), s)
		}
		n++
		if *count > 0 && n >= *count {
			return errWatchDone
		}
		return nil
	})
	if errors.Is(err, errWatchDone) {
		return nil
	}
	return err
}
