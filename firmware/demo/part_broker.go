package demo

import (
	"context"
	"fmt"
	"sync/atomic"

	"hallgw/firmware/daemon"
	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/uplink" // the MQTT uplink component: the demo always has a platform to talk to
)

func init() {
	RegisterPart("broker", 90, func() Part { return &brokerPart{} })
}

// brokerPart runs an embedded MQTT broker on a free loopback port and
// points the gateway's uplink at it, so `hallgw watch` shows what the
// provincial platform would see.
type brokerPart struct {
	b   *mqttbroker.Broker
	url string
	d   atomic.Pointer[daemon.Daemon]
}

func (p *brokerPart) Setup(ctx context.Context, env *Env) error {
	if len(env.Cfg.MQTT.Brokers) > 0 {
		return nil // a broker is configured: use it
	}
	b, err := mqttbroker.Start(mqttbroker.Options{Logger: env.Logger.With("part", "broker")})
	if err != nil {
		return err
	}
	p.b, p.url = b, b.URL()
	env.Cfg.MQTT.Brokers = []string{p.url}
	fmt.Fprintf(env.Out, "MQTT broker: %s   watch it: hallgw watch --broker %s\n", p.url, p.url)
	return nil
}

func (p *brokerPart) People(d *daemon.Daemon, pp People) People {
	p.d.Store(d)
	return pp
}

func (p *brokerPart) Lines() []string {
	if p.b == nil {
		return nil
	}
	line := "MQTT " + p.url + "   hallgw watch --broker " + p.url
	if d := p.d.Load(); d != nil {
		if u := uplink.For(d); u != nil {
			st := u.State()
			line += fmt.Sprintf("   uplink %s, session %d, %d unsent", st.State, st.Session, d.Journal.Committed()-min(u.Acked(), d.Journal.Committed()))
		}
	}
	return []string{line}
}

func (p *brokerPart) Close() error {
	if p.b == nil {
		return nil
	}
	return p.b.Close()
}
