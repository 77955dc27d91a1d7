package uplink

import "strings"

// Topics names the MQTT topics of one gateway: every topic starts with
// <prefix>/<hall id>/<gateway id>.
type Topics struct {
	Root string // <prefix>/<hall id>/<gateway id>
}

// Topic leaves under Root.
const (
	LeafStatus    = "status"    // retained: online (birth) or offline (will, shutdown)
	LeafHealth    = "health"    // retained per device: health/<device id>
	LeafFaults    = "faults"    // retained: the unresolved faults and the levels
	LeafEvents    = "events"    // every business event, QoS 1, in journal order
	LeafAlerts    = "alerts"    // alerts (a 差评) the moment they happen, QoS 1; also in events
	LeafTelemetry = "telemetry" // periodic gateway and device figures, QoS 0
	LeafCommand   = "cmd"       // commands from the platform (subscribed)
	LeafReply     = "reply"     // replies to commands
)

// NewTopics returns the topics of gateway gw in hall under prefix.
func NewTopics(prefix, hall, gw string) Topics {
	prefix = strings.Trim(prefix, "/")
	root := hall + "/" + gw
	if prefix != "" {
		root = prefix + "/" + root
	}
	return Topics{Root: root}
}

// Status is the retained online/offline topic.
func (t Topics) Status() string { return t.Root + "/" + LeafStatus }

// Health is the retained health topic of one device.
func (t Topics) Health(device string) string {
	return t.Root + "/" + LeafHealth + "/" + topicSafe(device)
}

// Faults is the retained fault list topic.
func (t Topics) Faults() string { return t.Root + "/" + LeafFaults }

// Events is the business event topic.
func (t Topics) Events() string { return t.Root + "/" + LeafEvents }

// Alerts is the live alert topic.
func (t Topics) Alerts() string { return t.Root + "/" + LeafAlerts }

// Telemetry is the periodic telemetry topic.
func (t Topics) Telemetry() string { return t.Root + "/" + LeafTelemetry }

// Command is the topic the gateway takes commands on.
func (t Topics) Command() string { return t.Root + "/" + LeafCommand }

// Reply is the topic command replies go to.
func (t Topics) Reply() string { return t.Root + "/" + LeafReply }

// topicSafe keeps a device id from adding wildcards or empty levels.
func topicSafe(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '+', '#', 0:
			return '_'
		}
		return r
	}, s)
}

// Filter returns the subscription filter for everything gateways publish
// under prefix; an empty hall or gateway matches all.
func Filter(prefix, hall, gw string) string {
	if hall == "" {
		hall = "+"
	}
	if gw == "" {
		gw = "+"
	}
	return NewTopics(prefix, hall, gw).Root + "/#"
}

// Split parses a topic under prefix into hall, gateway and the rest (e.g.
// "events" or "health/kiosk-1/printer").
func Split(prefix, topic string) (hall, gw, rest string, ok bool) {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		var found bool
		topic, found = strings.CutPrefix(topic, prefix+"/")
		if !found {
			return "", "", "", false
		}
	}
	parts := strings.SplitN(topic, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
