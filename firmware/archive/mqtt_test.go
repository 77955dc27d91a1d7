package archive

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"hallgw/drivers/scanner"
)

// allowAll lets every client connect and use every topic.
type allowAll struct{ mochi.HookBase }

func (allowAll) ID() string { return "allow-all" }

func (allowAll) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (allowAll) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }

func (allowAll) OnACLCheck(*mochi.Client, string, bool) bool { return true }

// startBroker runs the embedded mochi broker on a free loopback port.
func startBroker(t *testing.T) string {
	t.Helper()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(l); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return "tcp://" + l.Address()
}

func connect(t *testing.T, url, id string) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetOrderMatters(false).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// mqttPlatform is the fake platform: a client that takes the chunks,
// answers through a Receiver and can stop answering.
type mqttPlatform struct {
	rcv *Receiver
	c   paho.Client

	mu     sync.Mutex
	log    []Chunk
	answer int // chunks still answered; <0 all
	onLast func(Chunk)
}

func startPlatform(t *testing.T, url, root string) *mqttPlatform {
	t.Helper()
	p := &mqttPlatform{rcv: NewReceiver(), answer: -1}
	p.c = connect(t, url, "platform")
	tok := p.c.Subscribe(root+"/"+LeafChunk, 1, func(c paho.Client, m paho.Message) {
		ch, err := DecodeChunk(m.Payload())
		if err != nil {
			t.Errorf("platform: %v", err)
			return
		}
		p.mu.Lock()
		h := ch
		h.Data = nil
		p.log = append(p.log, h)
		if p.answer == 0 {
			p.mu.Unlock()
			return
		}
		if p.answer > 0 {
			p.answer--
		}
		onLast := p.onLast
		p.mu.Unlock()
		if ch.Last() && onLast != nil {
			onLast(ch)
		}
		b, err := EncodeAck(p.rcv.Handle(ch))
		if err != nil {
			t.Error(err)
			return
		}
		c.Publish(root+"/"+LeafAck, 1, false, b) // not waited for: never block the handler
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("platform subscribe: %v", tok.Error())
	}
	return p
}

func (p *mqttPlatform) offsets(file string) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int64
	for _, c := range p.log {
		if c.File == file {
			out = append(out, c.Offset)
		}
	}
	return out
}

// TestMQTTUploadResumesAfterRestart uploads over the embedded broker to a
// fake platform that stops answering mid-file; the gateway restarts with a
// new connection and a new archive on the same directory, and the upload
// resumes from the last acknowledged chunk. Files are deleted only after
// the platform's final acknowledgement.
func TestMQTTUploadResumesAfterRestart(t *testing.T) {
	url := startBroker(t)
	root := TopicRoot("hallgw", "hall-t", gwID)
	p := startPlatform(t, url, root)
	r := newRig(t, rigOpts{scanners: map[string]scanner.Opts{"w1": feeder(2)},
		arch: Opts{ChunkSize: 1024, AckTimeout: 500 * time.Millisecond}})
	res := r.mustScan("w1", caseNo)
	want := content(r, res)
	first := res.Files[0].Name
	if res.Files[0].Size <= 3072 {
		t.Fatalf("first page of %d bytes: this test needs more than 3 chunks", res.Files[0].Size)
	}
	p.onLast = func(c Chunk) {
		if _, err := os.Stat(filepath.Join(r.root, c.Case, c.File)); err != nil {
			t.Errorf("%s deleted before the final acknowledgement: %v", c.File, err)
		}
	}

	// Session 1: three chunks are answered, then the platform falls silent.
	p.mu.Lock()
	p.answer = 3
	p.mu.Unlock()
	c1 := connect(t, url, "gw-session-1")
	t1, err := NewMQTTTransport(MQTTOptions{Client: func() paho.Client { return c1 }, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	r.a.SetTransport(t1)
	if n, err := r.a.Drain(r.ctx); !errors.Is(err, ErrAckTimeout) || n != 0 {
		t.Fatalf("Drain = %d, %v; want ErrAckTimeout on the fourth chunk", n, err)
	}
	c1.Disconnect(100)

	// Restart: new connection, archive reopened from disk.
	p.mu.Lock()
	p.answer = -1
	p.mu.Unlock()
	c2 := connect(t, url, "gw-session-2")
	t2, err := NewMQTTTransport(MQTTOptions{Client: func() paho.Client { return c2 }, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	r.open(Opts{ChunkSize: 1024, AckTimeout: 5 * time.Second, Transport: t2})
	if n, err := r.a.Drain(r.ctx); err != nil || n != 2 {
		t.Fatalf("Drain after restart = %d, %v; want 2 files", n, err)
	}
	offs := p.offsets(first)
	if len(offs) < 5 || offs[0] != 0 || offs[3] != 3072 || offs[4] != 3072 {
		t.Fatalf("chunk offsets of %s = %v; want 0 1024 2048 3072, then from 3072 again after the restart", first, offs)
	}
	got := p.rcv.Received()
	if len(got) != 2 {
		t.Fatalf("platform holds %d files, want 2", len(got))
	}
	for _, f := range got {
		if !bytes.Equal(f.Data, want[f.File]) {
			t.Errorf("platform's %s differs from the scan", f.File)
		}
	}
	if _, err := os.Stat(filepath.Join(r.root, caseNo)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("case kept after delivery: %v", err)
	}
	if recs := records[DeliveredRecord](t, r.j, KindDelivered); len(recs) != 1 || recs[0].Files != 2 {
		t.Errorf("delivery records = %+v", recs)
	}

	// A malformed acknowledgement is counted and ignored.
	if tok := p.c.Publish(root+"/"+LeafAck, 1, false, []byte("garbage")); !tok.WaitTimeout(5 * time.Second) {
		t.Fatal("publish garbage")
	}
	deadline := time.Now().Add(10 * time.Second)
	for t2.BadAcks() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the malformed acknowledgement was not counted")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMQTTNotConnected(t *testing.T) {
	tr, err := NewMQTTTransport(MQTTOptions{Client: func() paho.Client { return nil }, Root: "hallgw/h/g"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.ChunkTopic() != "hallgw/h/g/archive/chunk" || tr.AckTopic() != "hallgw/h/g/archive/ack" {
		t.Errorf("topics = %s, %s", tr.ChunkTopic(), tr.AckTopic())
	}
	if _, err := tr.Send(context.Background(), sampleChunk()); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Send without a client = %v, want ErrNotConnected", err)
	}
	if _, err := NewMQTTTransport(MQTTOptions{Root: "x"}); err == nil {
		t.Error("NewMQTTTransport without a client accepted")
	}
	if got := TopicRoot("/hallgw/", "hall-1", "gw-1"); got != "hallgw/hall-1/gw-1" {
		t.Errorf("TopicRoot = %q", got)
	}
	if got := TopicRoot("", "hall-1", "gw-1"); got != "hall-1/gw-1" {
		t.Errorf("TopicRoot without prefix = %q", got)
	}
}
