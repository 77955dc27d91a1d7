package uplink

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/health"
)

// WatchOptions configure Watch, the platform-side view of the gateways.
type WatchOptions struct {
	Broker             string
	Prefix             string // default "hallgw"
	Hall, Gateway      string // "" = every hall, every gateway
	Username, Password string
	TLS                *tls.Config
	// OnLink is told about the watcher's own connection ("connected",
	// "connection lost: …"); nil ignores it.
	OnLink func(string)
}

// WatchMessage is one message seen by Watch.
type WatchMessage struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Watch subscribes to everything the gateways publish under the prefix and
// calls fn with each message, in the order received, until ctx ends or fn
// returns an error. The retained messages (status, device health, faults)
// come first. fn runs on Watch's own goroutine: a slow fn never holds up the
// MQTT client (messages queue in memory meanwhile).
func Watch(ctx context.Context, o WatchOptions, fn func(WatchMessage) error) error {
	if o.Prefix == "" {
		o.Prefix = "hallgw"
	}
	filter := Filter(o.Prefix, o.Hall, o.Gateway)
	var q msgQueue
	q.wake = make(chan struct{}, 1)
	id := make([]byte, 4)
	rand.Read(id)
	note := func(s string) {
		if o.OnLink != nil {
			o.OnLink(s)
		}
	}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		q.push(WatchMessage{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained()})
	}
	subErr := make(chan error, 1)
	opts := mqtt.NewClientOptions().AddBroker(o.Broker).SetClientID("hallgw-watch-" + hex.EncodeToString(id)).
		SetUsername(o.Username).SetPassword(o.Password).SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(10 * time.Second).SetConnectTimeout(10 * time.Second).
		SetOnConnectHandler(func(c mqtt.Client) {
			// Subscribing again after every reconnect brings the retained
			// state again too.
			go func() {
				var err error
				for try := 0; try < 5; try++ {
					tok := c.Subscribe(filter, 1, handler)
					if !tok.WaitTimeout(10 * time.Second) {
						err = errors.New("no answer from the broker")
						continue
					}
					if err = SubscribeResult(tok); err == nil {
						break
					}
				}
				if err != nil {
					note("subscribe: " + err.Error())
				} else {
					note("connected, watching " + filter)
				}
				select {
				case subErr <- err:
				default:
				}
			}()
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { note("connection lost: " + err.Error()) })
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	c := mqtt.NewClient(opts)
	if err := waitToken(ctx, c.Connect(), 15*time.Second); err != nil {
		return fmt.Errorf("uplink: watch: connect %s: %w", o.Broker, err)
	}
	defer c.Disconnect(100)
	select {
	case err := <-subErr:
		if err != nil {
			return fmt.Errorf("uplink: watch: subscribe %s: %w", filter, err)
		}
	case <-ctx.Done():
		return nil
	}
	for {
		for _, m := range q.take() {
			if err := fn(m); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		}
	}
}

// msgQueue is an unbounded FIFO: pushing never blocks.
type msgQueue struct {
	mu   sync.Mutex
	msgs []WatchMessage
	wake chan struct{}
}

func (q *msgQueue) push(m WatchMessage) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *msgQueue) take() []WatchMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs
	q.msgs = nil
	return m
}

// ErrNotOurs is returned by Describe for a topic outside the prefix.
var ErrNotOurs = errors.New("uplink: not a gateway topic")

// Describe renders one message as a line for people watching the hall from
// the platform: "<hall>/<gateway> <what> <details>". Times are shown in
// loc. A payload that does not parse is shown by size.
func Describe(prefix string, m WatchMessage, loc *time.Location) (string, error) {
	if prefix == "" {
		prefix = "hallgw"
	}
	hall, gw, rest, ok := Split(prefix, m.Topic)
	if !ok {
		return "", ErrNotOurs
	}
	if loc == nil {
		loc = time.Local
	}
	who := hall + "/" + gw
	leaf, _, _ := strings.Cut(rest, "/")
	ret := ""
	if m.Retained {
		ret = " (retained)"
	}
	clock := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("15:04:05")
	}
	bad := func() (string, error) {
		return fmt.Sprintf("%s %-9s %d bytes not understood", who, leaf, len(m.Payload)), nil
	}
	switch leaf {
	case LeafStatus:
		if len(m.Payload) == 0 {
			return fmt.Sprintf("%s %-9s cleared", who, "status"), nil
		}
		var s Status
		if json.Unmarshal(m.Payload, &s) != nil {
			return bad()
		}
		if !s.Online {
			why := s.Reason
			if why == "lost" {
				why = "connection lost (last will)"
			}
			return fmt.Sprintf("%s %-9s OFFLINE session %d: %s%s", who, "status", s.Session, why, ret), nil
		}
		return fmt.Sprintf("%s %-9s ONLINE session %d, firmware %s, config %s, started %s, backlog %d, %d devices%s",
			who, "status", s.Session, orDash(s.Firmware), orDash(s.ConfigVersion), s.Started.In(loc).Format("01-02 15:04"),
			deref(s.Backlog), len(s.Devices), ret), nil
	case LeafHealth:
		var h Health
		if json.Unmarshal(m.Payload, &h) != nil {
			return bad()
		}
		line := fmt.Sprintf("%s %-9s %s %s since %s", who, "health", orDash(h.ID), h.State, clock(h.Since))
		if h.Reason != "" {
			line += ": " + h.Reason
		}
		return line + ret, nil
	case LeafFaults:
		var fl FaultList
		if json.Unmarshal(m.Payload, &fl) != nil {
			return bad()
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %-9s network %s, system %s, %d unresolved", who, "faults", levelOrNone(fl.Network), levelOrNone(fl.System), len(fl.Faults))
		for _, f := range fl.Faults {
			state := "ongoing"
			if !f.Ongoing() {
				state = "cleared " + clock(f.End)
			}
			fmt.Fprintf(&b, "; %s %s %s %s (%s, since %s)", f.ID, f.Category, f.Level, f.Cause, state, clock(f.Start))
		}
		return b.String() + ret, nil
	case LeafEvents:
		var e Event
		if json.Unmarshal(m.Payload, &e) != nil {
			return bad()
		}
		return fmt.Sprintf("%s %-9s #%d %s %s%s", who, "event", e.Seq, clock(e.At), eventText(&e), histMark(e.Historical)), nil
	case LeafTelemetry:
		var tm Telemetry
		if json.Unmarshal(m.Payload, &tm) != nil {
			return bad()
		}
		g := tm.Gateway
		counts := map[health.State]int{}
		for _, d := range tm.Devices {
			counts[d.State]++
		}
		states := make([]string, 0, len(counts))
		for s, n := range counts {
			states = append(states, fmt.Sprintf("%d %s", n, s))
		}
		sort.Strings(states)
		return fmt.Sprintf("%s %-9s up %s, backlog %d (oldest %ds), disk %.1f%% used, clock %s, broker %s; devices %s",
			who, "telemetry", (time.Duration(g.UptimeS) * time.Second).String(), g.Backlog, g.OldestUnsentS,
			g.Disk.UsedPercent, g.Clock.State, g.Broker, orDash(strings.Join(states, ", "))), nil
	case LeafCommand:
		var env struct {
			ID  string `json:"id"`
			Cmd string `json:"cmd"`
		}
		if json.Unmarshal(m.Payload, &env) != nil {
			return bad()
		}
		return fmt.Sprintf("%s %-9s %s %s%s", who, "command", orDash(env.ID), orDash(env.Cmd), ret), nil
	case LeafReply:
		var r Reply
		if json.Unmarshal(m.Payload, &r) != nil {
			return bad()
		}
		if r.OK {
			return fmt.Sprintf("%s %-9s %s %s ok %s", who, "reply", orDash(r.ID), r.Cmd, compact(r.Result, 120)), nil
		}
		line := fmt.Sprintf("%s %-9s %s %s %s: %s", who, "reply", orDash(r.ID), r.Cmd, r.Code, r.Error)
		for _, e := range r.Errors {
			line += "\n    " + e
		}
		return line, nil
	}
	return fmt.Sprintf("%s %-9s %d bytes", who, rest, len(m.Payload)), nil
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func levelOrNone(l health.Level) string {
	if l == health.LevelNone {
		return "none"
	}
	return l.String()
}

func histMark(h bool) string {
	if h {
		return " [historical]"
	}
	return ""
}

func compact(b []byte, n int) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return ""
	}
	return clip(buf.String(), n)
}

// eventText describes an event in a few words.
func eventText(e *Event) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+v)
		}
	}
	parts = append(parts, e.Type)
	switch e.Kind {
	case "hall":
		add("", e.Number)
		add("service ", e.Service)
		add("window ", e.Window)
		add("→ service ", e.ToService)
		add("→ window ", e.ToWindow)
		add("staff ", e.Staff)
		if e.Ahead != nil {
			parts = append(parts, fmt.Sprintf("%d ahead", *e.Ahead))
		}
		if e.Estimate != nil && e.Estimate.Known {
			parts = append(parts, fmt.Sprintf("wait %d–%d min", e.Estimate.Lo/60, e.Estimate.Hi/60))
		}
		if e.Appts > 0 {
			parts = append(parts, fmt.Sprintf("%d appointments", e.Appts))
		}
		add("", e.Reason)
	case KindHealth:
		var c DeviceChange
		if json.Unmarshal(e.Data, &c) == nil {
			s := c.Device.ID + " "
			if c.From != "" {
				s += string(c.From) + " → "
			}
			s += string(c.Device.State)
			parts = append(parts, s)
			add("", c.Device.Reason)
		}
	case KindFault:
		var c health.FaultChange
		if json.Unmarshal(e.Data, &c) == nil {
			f := c.Fault
			parts = append(parts, fmt.Sprintf("%s %s level %s: %s", f.ID, f.Category, f.Level, f.Cause))
			add("note: ", f.Note)
		}
	case KindCommand:
		var c CommandRecord
		if json.Unmarshal(e.Data, &c) == nil {
			parts = append(parts, c.Request+" "+c.Cmd+": "+c.Summary)
		}
	case KindAlarm:
		var a AlarmRecord
		if json.Unmarshal(e.Data, &a) == nil {
			parts = append(parts, a.Alarm+": "+a.Msg)
		}
	default:
		if len(e.Data) > 0 {
			parts = append(parts, compact(e.Data, 80))
		}
	}
	return strings.Join(parts, " ")
}
