package config

import (
	"net/url"
	"strings"
)

// MQTT connects the gateway to the provincial platform (docs/mqtt.md).
// With no brokers the gateway runs on its own and the journal keeps
// everything until a broker is configured.
type MQTT struct {
	// Brokers are tried in order, for failover: tcp://, ssl:// or tls://,
	// ws://, wss://.
	Brokers  []string `yaml:"brokers"`
	ClientID string   `yaml:"client_id"` // default: hallgw-<gateway id>
	Username string   `yaml:"username"`
	Password Secret   `yaml:"password"`
	TLS      TLS      `yaml:"tls"`
	// TopicPrefix starts every topic; topics then carry hall id and
	// gateway id: <prefix>/<hall>/<gateway>/...
	TopicPrefix string `yaml:"topic_prefix"`
	// Inflight bounds the publishes awaiting the broker's PUBACK.
	Inflight  int      `yaml:"inflight"`
	KeepAlive Duration `yaml:"keepalive"`
	// ReconnectMin and ReconnectMax bound the jittered backoff.
	ReconnectMin Duration `yaml:"reconnect_min"`
	ReconnectMax Duration `yaml:"reconnect_max"`
	// TelemetryEvery is the period of gateway and device telemetry.
	TelemetryEvery Duration `yaml:"telemetry_every"`
	// CommandToken, when set, must be in every command from the platform.
	CommandToken Secret `yaml:"command_token"`
}

// TLS holds certificate files for the broker connection.
type TLS struct {
	CA   string `yaml:"ca"`   // PEM file of the CA that signed the broker
	Cert string `yaml:"cert"` // client certificate (PEM)
	Key  string `yaml:"key"`  // client key (PEM)
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

func (m *MQTT) validate(v *validator) {
	for i, b := range m.Brokers {
		p := "mqtt.brokers[" + itoa(i) + "]"
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			v.errf(p, "%q: want a URL like tcp://10.0.0.5:1883 or ssl://broker:8883", b)
			continue
		}
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
		default:
			v.errf(p, "%q: scheme %q: want tcp, ssl, tls, ws or wss", b, u.Scheme)
		}
	}
	if (m.TLS.Cert == "") != (m.TLS.Key == "") {
		v.errf("mqtt.tls", "cert and key go together")
	}
	if strings.ContainsAny(m.TopicPrefix, "+#") {
		v.errf("mqtt.topic_prefix", "%q: may not contain MQTT wildcards", m.TopicPrefix)
	}
	if m.Inflight < 1 || m.Inflight > 1000 {
		v.errf("mqtt.inflight", "%d: want 1…1000", m.Inflight)
	}
	if m.ReconnectMin <= 0 || m.ReconnectMax < m.ReconnectMin {
		v.errf("mqtt.reconnect_max", "want 0 < reconnect_min ≤ reconnect_max")
	}
	if m.TelemetryEvery.D() <= 0 {
		v.errf("mqtt.telemetry_every", "must be positive")
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
