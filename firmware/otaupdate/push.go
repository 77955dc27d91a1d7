package otaupdate

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/journal"
	"hallgw/firmware/uplink"
)

// PushOpts say which bundle to push to which gateway, and how to reach
// the broker.
type PushOpts struct {
	Broker             string // required: tcp://, ssl://, ws://, …
	Username, Password string
	TLS                *tls.Config
	ClientID           string // default "hallgw-update-serve-<random>"
	// Prefix ("" means "hallgw"), Hall and Gateway name the gateway;
	// hall and gateway are required.
	Prefix, Hall, Gateway string
	// Token is the gateway's mqtt.command_token, if it has one.
	Token string
	// Bundle is the path of the bundle file. Required.
	Bundle    string
	ChunkSize int    // 0: DefaultChunkSize
	RequestID string // the command's id; default "update-<random>"
	// ReplyTimeout bounds the wait for the gateway to be online (its
	// retained status), then for the command's reply; 0 means 2 minutes.
	// The download itself is bounded only by ctx.
	ReplyTimeout time.Duration
	// Intercept and Progress, when set, see the requests (ServerOpts) and
	// the count of distinct chunks served so far.
	Intercept func(root string, r Request) bool
	Progress  func(served, chunks int)
}

// Outcome is how a push ended: the gateway's last firmware record of it.
type Outcome struct {
	Accepted Accepted
	Record   Record
	Event    string // the record's event id
}

// Installed reports whether the gateway installed the bundle (it then
// restarts into the trial).
func (o *Outcome) Installed() bool { return o.Record.Type == StepInstalled }

// Push offers a bundle to one gateway with the update command, serves its
// chunks until the gateway reports the outcome on its events topic
// (installed, refused or failed), and returns that outcome. A command the
// gateway refuses is returned as a *uplink.CommandError. The connection
// comes back by itself after a broker outage, and the download resumes.
func Push(ctx context.Context, o PushOpts) (*Outcome, error) {
	if o.Broker == "" || o.Hall == "" || o.Gateway == "" || o.Bundle == "" {
		return nil, errors.New("otaupdate: push needs a broker, a hall, a gateway and a bundle")
	}
	if o.Prefix == "" {
		o.Prefix = "hallgw"
	}
	if o.ClientID == "" {
		o.ClientID = "hallgw-update-serve-" + randomHex(4)
	}
	if o.RequestID == "" {
		o.RequestID = "update-" + randomHex(6)
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = 2 * time.Minute
	}
	offer, err := BundleOffer(o.Bundle, o.ChunkSize)
	if err != nil {
		return nil, err
	}
	args, err := json.Marshal(Args{Version: offer.Version, SHA256: offer.SHA256, Size: offer.Size, ChunkSize: offer.ChunkSize})
	if err != nil {
		return nil, err
	}
	cmd, err := uplink.EncodeCommand(&uplink.Request{ID: o.RequestID, Cmd: Cmd, Token: o.Token, Args: args})
	if err != nil {
		return nil, fmt.Errorf("otaupdate: %w", err)
	}
	topics := uplink.NewTopics(o.Prefix, o.Hall, o.Gateway)

	var (
		mu       sync.Mutex
		replies  []uplink.Reply
		records  []firmwareEvent
		online   bool
		served   = map[int]bool{}
		wake     = make(chan struct{}, 1)
		subErr   = make(chan error, 1)
		srv      *Server
		notifyFn = func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	)
	onReply := func(_ mqtt.Client, m mqtt.Message) {
		var r uplink.Reply
		if json.Unmarshal(m.Payload(), &r) == nil && r.ID == o.RequestID {
			mu.Lock()
			replies = append(replies, r)
			mu.Unlock()
			notifyFn()
		}
	}
	onStatus := func(_ mqtt.Client, m mqtt.Message) {
		var st uplink.Status
		if json.Unmarshal(m.Payload(), &st) == nil {
			mu.Lock()
			online = st.Online
			mu.Unlock()
			notifyFn()
		}
	}
	onEvent := func(_ mqtt.Client, m mqtt.Message) {
		ev, ok := decodeFirmwareEvent(m.Payload())
		if ok && ev.rec.SHA256 == offer.SHA256 {
			mu.Lock()
			records = append(records, ev)
			mu.Unlock()
			notifyFn()
		}
	}
	co := mqtt.NewClientOptions().AddBroker(o.Broker).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(5 * time.Second).SetConnectTimeout(10 * time.Second).
		SetOnConnectHandler(func(c mqtt.Client) {
			// A clean session forgets the subscriptions: make them again
			// on every connection (off the client's goroutine).
			go func() {
				subs := map[string]byte{topics.Reply(): 1, topics.Events(): 1, topics.Status(): 1}
				handler := func(c mqtt.Client, m mqtt.Message) {
					switch m.Topic() {
					case topics.Reply():
						onReply(c, m)
					case topics.Status():
						onStatus(c, m)
					default:
						onEvent(c, m)
					}
				}
				var err error
				// A refused subscription is tried again (see subscribe).
				for try := 0; try < 5 && ctx.Err() == nil; try++ {
					if err = subscribe(ctx, c.SubscribeMultiple(subs, handler), 10*time.Second); err == nil {
						err = srv.Subscribe(ctx)
					}
					if !errors.Is(err, ErrSubscribe) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				select {
				case subErr <- err:
				default:
				}
			}()
		})
	if o.TLS != nil {
		co.SetTLSConfig(o.TLS)
	}
	client := mqtt.NewClient(co)
	srv, err = NewServer(ServerOpts{Client: client, Prefix: o.Prefix, Hall: o.Hall, Gateway: o.Gateway, Intercept: o.Intercept,
		Served: func(_ string, r Request) {
			if r.SHA256 != offer.SHA256 || o.Progress == nil {
				return
			}
			mu.Lock()
			served[r.Index] = true
			n := len(served)
			mu.Unlock()
			o.Progress(n, offer.Chunks())
		}})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	if _, err := srv.Add(o.Bundle, offer.ChunkSize); err != nil {
		return nil, err
	}
	if err := waitToken(ctx, client.Connect(), 15*time.Second); err != nil {
		return nil, fmt.Errorf("otaupdate: connect %s: %w", o.Broker, err)
	}
	defer client.Disconnect(250)
	select {
	case err := <-subErr:
		if err != nil {
			return nil, fmt.Errorf("otaupdate: subscribe: %w", err)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	// The gateway takes commands once its status says online (its
	// subscription to commands comes before the birth).
	replyBy := time.NewTimer(o.ReplyTimeout)
	defer replyBy.Stop()
	for {
		mu.Lock()
		up := online
		mu.Unlock()
		if up {
			break
		}
		select {
		case <-wake:
		case <-replyBy.C:
			return nil, fmt.Errorf("otaupdate: %s is not online (no birth within %v)", topics.Root, o.ReplyTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := waitToken(ctx, client.Publish(topics.Command(), 1, false, cmd), 15*time.Second); err != nil {
		return nil, fmt.Errorf("otaupdate: send the command: %w", err)
	}

	// The reply.
	replyBy.Reset(o.ReplyTimeout)
	var acc Accepted
	var from uint64
	for {
		mu.Lock()
		rs := replies
		mu.Unlock()
		if len(rs) > 0 {
			r := rs[0]
			if !r.OK {
				return nil, &uplink.CommandError{Code: r.Code, Msg: r.Error, Details: r.Errors}
			}
			if err := json.Unmarshal(r.Result, &acc); err != nil || len(acc.Events) == 0 {
				return nil, fmt.Errorf("otaupdate: unexpected reply %s", r.Result)
			}
			if _, from, err = journal.ParseEventID(acc.Events[0]); err != nil {
				return nil, fmt.Errorf("otaupdate: reply names event %q: %w", acc.Events[0], err)
			}
			break
		}
		select {
		case <-wake:
		case <-replyBy.C:
			return nil, fmt.Errorf("otaupdate: no reply from %s within %v (is the gateway online?)", topics.Root, o.ReplyTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	// The outcome: the first final record after the accepted one.
	for {
		mu.Lock()
		evs := records
		mu.Unlock()
		for _, ev := range evs {
			switch ev.rec.Type {
			case StepInstalled, StepRefused, StepFailed:
				if ev.seq > from {
					return &Outcome{Accepted: acc, Record: ev.rec, Event: ev.id}, nil
				}
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// firmwareEvent is a firmware record seen on a gateway's events topic.
type firmwareEvent struct {
	id  string
	seq uint64
	rec Record
}

// decodeFirmwareEvent picks the firmware records out of the events topic.
func decodeFirmwareEvent(p []byte) (firmwareEvent, bool) {
	var ev uplink.Event
	if json.Unmarshal(p, &ev) != nil || ev.Kind != KindFirmware {
		return firmwareEvent{}, false
	}
	var r Record
	if json.Unmarshal(ev.Data, &r) != nil {
		return firmwareEvent{}, false
	}
	return firmwareEvent{id: ev.ID, seq: ev.Seq, rec: r}, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
