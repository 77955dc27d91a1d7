package mqttbroker

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Options configure an embedded broker.
type Options struct {
	// Addr is where it listens; "" = 127.0.0.1 on a free port.
	Addr string
	// Users maps user names to passwords; empty lets anyone connect.
	Users map[string]string
	// TLS, when set, makes the listener TLS (set ClientAuth to require
	// client certificates).
	TLS    *tls.Config
	Logger *slog.Logger
}

// Broker is an embedded MQTT broker (mochi-mqtt) for the demo and tests.
type Broker struct {
	srv    *mqtt.Server
	l      *gatedTCP
	scheme string

	mu      sync.Mutex
	nextSub int
	closed  bool
}

// Start starts a broker.
func Start(opts Options) (*Broker, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	caps := mqtt.NewDefaultServerCapabilities()
	// Retained messages (the gateways' status) never expire.
	caps.MaximumMessageExpiryInterval = 0
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: opts.Logger, Capabilities: caps})
	if err := srv.AddHook(&authHook{users: opts.Users}, nil); err != nil {
		return nil, fmt.Errorf("mqttbroker: %w", err)
	}
	l := &gatedTCP{TCP: listeners.NewTCP(listeners.Config{ID: "tcp", Address: opts.Addr, TLSConfig: opts.TLS}),
		wg: &srv.Listeners.ClientsWg}
	if err := srv.AddListener(l); err != nil {
		return nil, fmt.Errorf("mqttbroker: listen %s: %w", opts.Addr, err)
	}
	b := &Broker{srv: srv, l: l, scheme: "tcp"}
	if opts.TLS != nil {
		b.scheme = "ssl"
	}
	// Serve starts the listeners in the background and returns.
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("mqttbroker: %w", err)
	}
	return b, nil
}

// Addr returns host:port of the listener.
func (b *Broker) Addr() string { return b.l.Address() }

// Port returns the port of the listener.
func (b *Broker) Port() int {
	_, p, _ := net.SplitHostPort(b.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// URL returns the broker's URL, e.g. tcp://127.0.0.1:41883.
func (b *Broker) URL() string { return b.scheme + "://" + b.Addr() }

// Message is a message seen by an inline subscription.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Subscribe calls fn for every message matching filter, synchronously in
// the publishing client's goroutine (fn must be quick), starting with the
// retained ones.
func (b *Broker) Subscribe(filter string, fn func(Message)) error {
	b.mu.Lock()
	b.nextSub++
	id := b.nextSub
	b.mu.Unlock()
	return b.srv.Subscribe(filter, id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		fn(Message{Topic: pk.TopicName, Payload: bytes.Clone(pk.Payload), Retained: pk.FixedHeader.Retain})
	})
}

// Publish sends a message from the broker itself.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return b.srv.Publish(topic, payload, retain, qos)
}

// Close stops the broker and drops every client (their Wills are sent).
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	// mochi v2.7.9 can deadlock in Close when a client disconnects at the
	// same moment (Clients.GetByListener takes its read lock twice, and a
	// writer queued between them blocks both). Close waits a bounded time
	// and then gives up on the server's goroutines rather than hang the
	// process that is stopping.
	b.l.shut()
	done := make(chan error, 1)
	go func() { done <- b.srv.Close() }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("mqttbroker: close: %w", err)
		}
		return nil
	case <-time.After(closeWait):
		return errCloseStuck
	}
}

// gatedTCP is mochi's TCP listener with a gate on new connections. mochi
// v2.7.9 adds each connection to Listeners.ClientsWg inside the goroutine
// that serves it, which races Server.Close's Wait when a client connects
// as the broker closes: an Add from zero concurrent with a Wait, which the
// WaitGroup rules forbid and the race detector reports. The gate holds the
// group above zero for every connection it lets through before Close and
// turns away those that arrive after.
type gatedTCP struct {
	*listeners.TCP
	wg *sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// Serve serves connections through the gate.
func (g *gatedTCP) Serve(establish listeners.EstablishFn) {
	g.TCP.Serve(func(id string, c net.Conn) error {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return c.Close()
		}
		g.wg.Add(1)
		g.mu.Unlock()
		defer g.wg.Done()
		return establish(id, c)
	})
}

// shut turns away every connection from now on.
func (g *gatedTCP) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// closeWait bounds Close.
const closeWait = 5 * time.Second

var errCloseStuck = errors.New("mqttbroker: close: the broker did not stop in time (left to the process exit)")

// authHook lets in anyone when users is empty, else only the users with
// their passwords; every client may use every topic.
type authHook struct {
	mqtt.HookBase
	users map[string]string
}

func (h *authHook) ID() string { return "hallgw-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *authHook) OnConnectAuthenticate(_ *mqtt.Client, pk packets.Packet) bool {
	if len(h.users) == 0 {
		return true
	}
	want, ok := h.users[string(pk.Connect.Username)]
	return ok && subtle.ConstantTimeCompare([]byte(want), pk.Connect.Password) == 1
}

func (h *authHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
