package mqttbroker

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/testkit"
)

func connect(t *testing.T, url, user, pass string) (mqtt.Client, error) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("t-" + user).SetUsername(user).
		SetPassword(pass).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, context.DeadlineExceeded
	}
	return c, tok.Error()
}

// inbox collects messages.
type inbox struct {
	mu sync.Mutex
	m  []Message
	ch chan struct{}
}

func (b *inbox) add(m Message) {
	b.mu.Lock()
	b.m = append(b.m, m)
	b.mu.Unlock()
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

func (b *inbox) wait(t *testing.T, n int) []Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		got := append([]Message(nil), b.m...)
		b.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-b.ch:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("got %d messages, want %d", len(got), n)
		}
	}
}

func TestEmbeddedBroker(t *testing.T) {
	b, err := Start(Options{Users: map[string]string{"gw": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || b.Port() == 0 {
		t.Fatalf("URL = %q, port %d", b.URL(), b.Port())
	}
	tests := []struct {
		name, user, pass string
		ok               bool
	}{{"right password", "gw", "pw", true}, {"wrong password", "gw", "nope", false}, {"unknown user", "x", "pw", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := connect(t, b.URL(), tt.user, tt.pass)
			if (err == nil) != tt.ok {
				t.Fatalf("connect(%s/%s) = %v, want ok %v", tt.user, tt.pass, err, tt.ok)
			}
			if c != nil && c.IsConnected() {
				c.Disconnect(50)
			}
		})
	}
	// Retained messages reach a later inline subscriber, flagged; live ones
	// follow in order.
	if err := b.Publish("a/status", []byte("online"), true, 1); err != nil {
		t.Fatal(err)
	}
	in := &inbox{ch: make(chan struct{}, 1)}
	if err := b.Subscribe("a/#", in.add); err != nil {
		t.Fatal(err)
	}
	c, err := connect(t, b.URL(), "gw", "pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"1", "2", "3"} {
		c.Publish("a/events", 1, false, p).Wait()
	}
	got := in.wait(t, 4)
	if got[0].Topic != "a/status" || !got[0].Retained || string(got[0].Payload) != "online" {
		t.Errorf("first = %+v, want the retained status", got[0])
	}
	for i, want := range []string{"1", "2", "3"} {
		if m := got[i+1]; m.Topic != "a/events" || string(m.Payload) != want || m.Retained {
			t.Errorf("message %d = %+v, want %s on a/events", i+1, m, want)
		}
	}
	// Closing drops the clients.
	lost := make(chan struct{})
	c2 := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("t-lost").SetUsername("gw").
		SetPassword("pw").SetAutoReconnect(false).SetConnectionLostHandler(func(mqtt.Client, error) { close(lost) }))
	if tok := c2.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Error("client not dropped by Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestStartBadAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if b, err := Start(Options{Addr: l.Addr().String()}); err == nil {
		b.Close()
		t.Fatal("Start on a busy port succeeded")
	}
}

func TestMosquitto(t *testing.T) {
	bin := testkit.Tool(t, "mosquitto")
	m, err := StartMosquitto(context.Background(), MosquittoOptions{Bin: bin, Dir: filepath.Join(t.TempDir(), "m"), Persistence: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	c, err := connect(t, m.URL(), "a", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Publish("x/status", 1, true, "kept").Wait()
	c.Disconnect(50)
	// Persistence keeps the retained message across a restart on the same port.
	if err := m.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	c, err = connect(t, m.URL(), "b", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Subscribe("x/#", 1, func(_ mqtt.Client, msg mqtt.Message) {
		select {
		case got <- string(msg.Payload()):
		default:
		}
	}).Wait()
	select {
	case s := <-got:
		if s != "kept" {
			t.Errorf("retained after restart = %q, want kept", s)
		}
	case <-time.After(10 * time.Second):
		t.Error("retained message lost across the restart")
	}
	c.Disconnect(50)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, m.URL(), "c", ""); err == nil {
		t.Error("connected to a killed mosquitto")
	}
	if !strings.Contains(m.Log(), "New client connected") {
		t.Errorf("log = %q, want connection notices", m.Log())
	}
}

// TestCloseWhileClientsConnect closes the broker while clients keep
// connecting; under -race it would report mochi's WaitGroup race without
// the listener's gate, and Close must not hang.
func TestCloseWhileClientsConnect(t *testing.T) {
	for range 5 {
		b, err := Start(Options{})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.Dial("tcp", b.Addr())
					if err != nil {
						continue // closed: keep trying until told to stop
					}
					c.Close()
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		if err := b.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		close(stop)
		wg.Wait()
	}
}
