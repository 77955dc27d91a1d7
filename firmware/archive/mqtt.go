package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/uplink"
)

// MQTTOptions configure an MQTTTransport.
type MQTTOptions struct {
	// Client returns the uplink's current client, nil while there is none.
	// The uplink makes a new client per session; the transport subscribes
	// to the acknowledgements on each one it sees.
	Client func() mqtt.Client
	// Root is the gateway's topic root, <prefix>/<hall id>/<gateway id>:
	// chunks go to <Root>/archive/chunk, acknowledgements come on
	// <Root>/archive/ack.
	Root string
	// QoS of chunks and of the acknowledgement subscription; 0 means 1.
	QoS byte
}

// MQTTTransport sends chunks over the uplink's MQTT connection. Its
// message handler never blocks the client: an acknowledgement is handed to
// the waiting Send, or dropped when nobody waits for it.
type MQTTTransport struct {
	o       MQTTOptions
	chunkT  string
	ackT    string
	badAcks atomic.Uint64

	mu         sync.Mutex
	subscribed mqtt.Client
	waiters    map[string]chan Ack
}

// NewMQTTTransport returns a transport on the clients o.Client gives.
func NewMQTTTransport(o MQTTOptions) (*MQTTTransport, error) {
	if o.Client == nil || o.Root == "" {
		return nil, errors.New("archive: mqtt transport needs a client and a topic root")
	}
	if o.QoS == 0 {
		o.QoS = 1
	}
	if o.QoS > 2 {
		return nil, fmt.Errorf("archive: qos %d", o.QoS)
	}
	return &MQTTTransport{o: o, chunkT: o.Root + "/" + LeafChunk, ackT: o.Root + "/" + LeafAck,
		waiters: map[string]chan Ack{}}, nil
}

// ChunkTopic and AckTopic return the topics in use.
func (t *MQTTTransport) ChunkTopic() string { return t.chunkT }

// AckTopic returns the topic acknowledgements arrive on.
func (t *MQTTTransport) AckTopic() string { return t.ackT }

// BadAcks counts acknowledgement messages that did not decode.
func (t *MQTTTransport) BadAcks() uint64 { return t.badAcks.Load() }

func ackKey(upload string, offset int64) string {
	return upload + "@" + strconv.FormatInt(offset, 10)
}

// Send publishes c and waits for its acknowledgement until ctx ends. It
// returns ErrNotConnected when the uplink has no open connection.
func (t *MQTTTransport) Send(ctx context.Context, c Chunk) (Ack, error) {
	cl := t.o.Client()
	if cl == nil || !cl.IsConnectionOpen() {
		return Ack{}, ErrNotConnected
	}
	msg, err := EncodeChunk(c)
	if err != nil {
		return Ack{}, err
	}
	if err := t.subscribe(ctx, cl); err != nil {
		return Ack{}, err
	}
	key := ackKey(c.Upload, c.Offset)
	ch := make(chan Ack, 1)
	t.mu.Lock()
	t.waiters[key] = ch
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.waiters[key] == ch {
			delete(t.waiters, key)
		}
		t.mu.Unlock()
	}()
	if err := wait(ctx, cl.Publish(t.chunkT, t.o.QoS, false, msg)); err != nil {
		return Ack{}, fmt.Errorf("archive: publish chunk: %w", err)
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		// The subscription may have been lost with a reconnection of the
		// same client: make the next Send subscribe again.
		t.mu.Lock()
		if t.subscribed == cl {
			t.subscribed = nil
		}
		t.mu.Unlock()
		return Ack{}, fmt.Errorf("archive: waiting for the acknowledgement: %w", ctx.Err())
	}
}

// subscribe subscribes to the acknowledgements on cl once.
func (t *MQTTTransport) subscribe(ctx context.Context, cl mqtt.Client) error {
	t.mu.Lock()
	done := t.subscribed == cl
	t.mu.Unlock()
	if done {
		return nil
	}
	tok := cl.Subscribe(t.ackT, t.o.QoS, t.onAck)
	err := wait(ctx, tok)
	if err == nil {
		err = uplink.SubscribeResult(tok)
	}
	if err != nil {
		return fmt.Errorf("archive: subscribe %s: %w", t.ackT, err)
	}
	t.mu.Lock()
	t.subscribed = cl
	t.mu.Unlock()
	return nil
}

// onAck runs in the client's goroutine: decode, hand over, never block.
func (t *MQTTTransport) onAck(_ mqtt.Client, m mqtt.Message) {
	if m.Retained() {
		return
	}
	a, err := DecodeAck(m.Payload())
	if err != nil {
		t.badAcks.Add(1)
		return
	}
	t.mu.Lock()
	ch := t.waiters[ackKey(a.Upload, a.Offset)]
	t.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- a:
	default:
	}
}

// wait waits for a paho token until ctx ends.
func wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
