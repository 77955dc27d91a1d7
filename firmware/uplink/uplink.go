package uplink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/daemon"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Hall runs hall commands durably; *gateway.Gateway is one.
type Hall interface {
	Do(ctx context.Context, cmd hall.Command) ([]gateway.Committed, error)
}

// ConfigApplier validates and applies a pushed configuration file
// atomically; (*daemon.Daemon).ApplyConfig is one.
type ConfigApplier func(ctx context.Context, data []byte, source string) (daemon.ApplyResult, error)

// Options configure an Uplink. Zero values take the defaults below.
type Options struct {
	// Brokers are tried in order on every connection attempt (failover):
	// tcp://, ssl:// (tls://, mqtts://), ws://, wss://.
	Brokers  []string
	ClientID string // default "hallgw-<gateway id>"
	Username string
	Password string
	TLS      *tls.Config // client certificates, CA; nil = system defaults for ssl://
	Topics   Topics      // default NewTopics("hallgw", HallID, GatewayID)

	// Inflight bounds the publishes awaiting their PUBACK (default 32). The
	// window slides: a new event goes out as soon as the oldest is
	// acknowledged (docs/mqtt.md explains why waiting for a whole window
	// stalls 40 ms per window against brokers that leave Nagle on).
	Inflight       int
	KeepAlive      time.Duration // default 30 s
	ConnectTimeout time.Duration // default 10 s
	ReconnectMin   time.Duration // default 1 s
	ReconnectMax   time.Duration // default 60 s
	TelemetryEvery time.Duration // default 30 s
	// CommandToken, when set, must be the "token" of every command.
	CommandToken string

	GatewayID string // required
	HallID    string // required
	Journal   *journal.Journal
	// Cursor names the journal cursor of acknowledged events (default
	// daemon.UplinkCursor); the daemon holds reclaim at it.
	Cursor string
	Health *health.Registry // nil: an empty registry
	// Hall runs window and appointment commands; nil answers them
	// "unavailable".
	Hall Hall
	// ApplyConfig applies pushed configurations; nil answers them
	// "unavailable".
	ApplyConfig   ConfigApplier
	Firmware      string
	ConfigVersion string
	// Extra returns the status sections published in the birth message
	// and the telemetry (Status.Extra); nil for none.
	Extra   func() map[string]any
	Started time.Time // gateway start; default now
	// DataDir is the directory whose file system is reported (default: the
	// journal's).
	DataDir    string
	FaultRules health.FaultRules // zero = health.DefaultFaultRules
	Now        func() time.Time  // default time.Now
	Logger     *slog.Logger
	// Rand seeds the reconnect jitter; nil = random.
	Rand *rand.Rand
	// ReadClock reports the clock state; nil = health.ReadClock.
	ReadClock func() health.Clock
}

// Connection states reported in the gateway health.
const (
	StateConnecting = "connecting"
	StateConnected  = "connected"
	StateDown       = "down"
)

// cursorEvery is the least time between two durable cursor writes.
const cursorEvery = 100 * time.Millisecond

// uplinkDevice is the health registry id of the link itself.
const uplinkDevice = "uplink"

// sessionMetaKey is the journal metadata key of the session counter.
const sessionMetaKey = "uplink.session"

// Uplink drains the journal to the platform's broker and takes its
// commands. It is a daemon.Component.
type Uplink struct {
	o       Options
	log     *slog.Logger
	j       *journal.Journal
	reg     *health.Registry
	faults  *health.Faults
	backoff Backoff

	acked   atomic.Uint64 // highest seq of the contiguous acknowledged prefix
	curWake chan struct{}
	cmds    chan cmdMsg
	cmdMu   sync.Mutex // held while a command runs and is answered
	replies *replyCache

	healthWake chan struct{}
	sideWake   chan struct{}

	mu            sync.Mutex
	client        mqtt.Client // of the current session; nil when not connected
	state         string
	broker        string
	sess          uint64
	configVersion string
	dirtyDevs     map[string]bool
	dirtyFaults   bool
	alarms        []journal.Alarm
	stateCh       chan struct{} // closed and replaced on every state change

	startOnce sync.Once
	stopOnce  sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup // run, command worker, health loop
	curDone   chan struct{}
	curStop   chan struct{}
	unsub     func()
	stopErr   error
}

var _ daemon.Component = (*Uplink)(nil)

// New checks opts and returns an Uplink; Start connects it.
func New(opts Options) (*Uplink, error) {
	o := opts
	switch {
	case len(o.Brokers) == 0:
		return nil, errors.New("uplink: no broker")
	case o.Journal == nil:
		return nil, errors.New("uplink: no journal")
	case o.GatewayID == "" || o.HallID == "":
		return nil, errors.New("uplink: gateway and hall ids are required")
	}
	if o.ClientID == "" {
		o.ClientID = "hallgw-" + o.GatewayID
	}
	if o.Topics.Root == "" {
		o.Topics = NewTopics("hallgw", o.HallID, o.GatewayID)
	}
	if o.Inflight == 0 {
		o.Inflight = 32
	}
	if o.Inflight < 1 || o.Inflight > 1000 {
		return nil, fmt.Errorf("uplink: inflight %d: want 1…1000", o.Inflight)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.KeepAlive, 30*time.Second)
	def(&o.ConnectTimeout, 10*time.Second)
	def(&o.ReconnectMin, time.Second)
	def(&o.ReconnectMax, time.Minute)
	def(&o.TelemetryEvery, 30*time.Second)
	if o.ReconnectMax < o.ReconnectMin {
		return nil, errors.New("uplink: reconnect max below min")
	}
	if o.Cursor == "" {
		o.Cursor = daemon.UplinkCursor
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Started.IsZero() {
		o.Started = o.Now()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Health == nil {
		o.Health = health.NewRegistry(o.Now)
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Dir(o.Journal.Path())
	}
	if o.ReadClock == nil {
		o.ReadClock = health.ReadClock
	}
	u := &Uplink{
		o: o, log: o.Logger, j: o.Journal, reg: o.Health,
		backoff: Backoff{Min: o.ReconnectMin, Max: o.ReconnectMax, Rand: o.Rand},
		curWake: make(chan struct{}, 1), cmds: make(chan cmdMsg, 64), replies: newReplyCache(256),
		healthWake: make(chan struct{}, 1), sideWake: make(chan struct{}, 1),
		state: StateDown, configVersion: o.ConfigVersion, dirtyDevs: map[string]bool{},
		stateCh: make(chan struct{}), curDone: make(chan struct{}), curStop: make(chan struct{}),
	}
	var err error
	u.faults, err = health.NewFaults(health.FaultOptions{
		GatewayID: o.GatewayID, Now: o.Now, Store: o.Journal, Rules: o.FaultRules, OnChange: u.onFault,
	})
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	cur, err := o.Journal.Cursor(o.Cursor)
	if err != nil {
		return nil, fmt.Errorf("uplink: read cursor: %w", err)
	}
	u.acked.Store(cur)
	return u, nil
}

// String names the uplink.
func (u *Uplink) String() string { return "uplink(" + u.o.Topics.Root + ")" }

// Faults returns the fault tracker.
func (u *Uplink) Faults() *health.Faults { return u.faults }

// Acked returns the highest seq the broker acknowledged, with every event
// before it (the cursor, possibly ahead of its durable copy).
func (u *Uplink) Acked() uint64 { return u.acked.Load() }

// LinkState describes the connection.
type LinkState struct {
	State   string // StateConnecting, StateConnected or StateDown
	Broker  string // the broker connected to, credentials removed
	Session uint64
}

// State returns the connection state.
func (u *Uplink) State() LinkState {
	u.mu.Lock()
	defer u.mu.Unlock()
	return LinkState{State: u.state, Broker: u.broker, Session: u.sess}
}

// Changed returns a channel closed at the next change of State.
func (u *Uplink) Changed() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stateCh
}

func (u *Uplink) setState(state, broker string, session uint64, c mqtt.Client) {
	u.mu.Lock()
	u.state, u.broker, u.client = state, broker, c
	if session != 0 {
		u.sess = session
	}
	close(u.stateCh)
	u.stateCh = make(chan struct{})
	u.mu.Unlock()
}

// Client returns the current session's MQTT client, or nil while
// disconnected, for parts that publish on their own topics (the case
// archive's uploads).
func (u *Uplink) Client() mqtt.Client { return u.currentClient() }

func (u *Uplink) currentClient() mqtt.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.client
}

// Start begins connecting and draining; it returns at once.
func (u *Uplink) Start(ctx context.Context) error {
	started := false
	u.startOnce.Do(func() {
		started = true
		ctx, u.cancel = context.WithCancel(ctx)
		u.unsub = u.reg.Subscribe(u.onHealth)
		u.wg.Add(3)
		go u.cursorLoop()
		go u.healthLoop(ctx)
		go u.commandLoop(ctx)
		go u.run(ctx)
	})
	if !started {
		return errors.New("uplink: started twice")
	}
	return nil
}

// Stop ends the session cleanly: what is in flight is given a moment to be
// acknowledged, the offline status is published before disconnecting, and
// the cursor is written. It returns when everything stopped or ctx ends.
func (u *Uplink) Stop(ctx context.Context) error {
	u.stopOnce.Do(func() {
		if u.cancel == nil {
			close(u.curDone)
			return
		}
		u.cancel()
		done := make(chan struct{})
		go func() { u.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			u.stopErr = fmt.Errorf("uplink: stop: %w", ctx.Err())
		}
		u.unsub()
		close(u.curStop)
		select {
		case <-u.curDone:
		case <-ctx.Done():
			u.stopErr = fmt.Errorf("uplink: stop: %w", ctx.Err())
		}
	})
	return u.stopErr
}

// Halt stops the uplink within 10 s.
func (u *Uplink) Halt() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return u.Stop(ctx)
}

// cursorLoop writes the acknowledged position to the journal. Each write is
// a durable transaction, so acknowledgements that arrive meanwhile are
// coalesced into the next one; a crash at worst resends events after the
// durable cursor, with their ids.
func (u *Uplink) cursorLoop() {
	defer close(u.curDone)
	stored, _ := u.j.Cursor(u.o.Cursor)
	var last time.Time
	write := func() {
		a := u.acked.Load()
		if a <= stored {
			return
		}
		if err := u.j.SetCursor(u.o.Cursor, a); err != nil {
			u.log.Error("uplink: write cursor", "seq", a, "err", err)
			return
		}
		stored, last = a, time.Now()
	}
	for {
		select {
		case <-u.curWake:
			// At most one durable write per cursorEvery: a crash resends at
			// most that much, with the same ids.
			if wait := cursorEvery - time.Since(last); wait > 0 {
				select {
				case <-time.After(wait):
				case <-u.curStop:
					write()
					return
				}
			}
			write()
		case <-u.curStop:
			write()
			return
		}
	}
}

func (u *Uplink) ack(seq uint64) {
	u.acked.Store(seq)
	select {
	case u.curWake <- struct{}{}:
	default:
	}
}

// nextSession bumps the persistent session counter.
func (u *Uplink) nextSession() (uint64, error) {
	b, err := u.j.Meta(sessionMetaKey)
	if err != nil {
		return 0, fmt.Errorf("uplink: read session counter: %w", err)
	}
	var n uint64
	if b != nil {
		if n, err = strconv.ParseUint(string(b), 10, 64); err != nil {
			return 0, fmt.Errorf("uplink: session counter %q: %w", b, err)
		}
	}
	n++
	if err := u.j.SetMeta(sessionMetaKey, []byte(strconv.FormatUint(n, 10))); err != nil {
		return 0, fmt.Errorf("uplink: write session counter: %w", err)
	}
	return n, nil
}

// run connects, runs a session until the connection is lost, and
// reconnects after a jittered backoff, until ctx ends.
func (u *Uplink) run(ctx context.Context) {
	defer u.wg.Done()
	attempt := 0
	for {
		connected, err := u.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			attempt = 0
		}
		d := u.backoff.Delay(attempt)
		attempt++
		u.log.Warn("uplink: disconnected", "err", err, "retry_in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (u *Uplink) clientOptions(session uint64, lost chan<- error, broker *atomic.Value) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions()
	for _, b := range u.o.Brokers {
		o.AddBroker(b)
	}
	will, _ := json.Marshal(Status{V: SchemaVersion, Online: false, Session: session,
		Gateway: u.o.GatewayID, Hall: u.o.HallID, Reason: "lost"})
	o.SetClientID(u.o.ClientID).
		SetUsername(u.o.Username).SetPassword(u.o.Password).
		SetCleanSession(true). // the journal is the outbox, not the broker session
		SetStore(mqtt.NewMemoryStore()).
		SetAutoReconnect(false). // reconnects are ours: a new session, a new Will, resend from the cursor
		SetConnectRetry(false).
		SetOrderMatters(false). // handlers run on their own goroutines and never block the client
		SetKeepAlive(u.o.KeepAlive).
		SetPingTimeout(u.o.KeepAlive/2+time.Second).
		SetConnectTimeout(u.o.ConnectTimeout).
		SetWriteTimeout(10*time.Second).
		SetCustomOpenConnectionFn(openConn).
		SetBinaryWill(u.o.Topics.Status(), will, 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		}).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
			if b, ok := n.(mqtt.ConnectionNotificationBroker); ok && b.Broker != nil {
				broker.Store(b.Broker.Redacted())
			}
		})
	if u.o.TLS != nil {
		o.SetTLSConfig(u.o.TLS)
	}
	return o
}

// waitToken waits for tok until d passes or ctx ends.
func waitToken(ctx context.Context, tok mqtt.Token, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-t.C:
		return errors.New("timed out")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session runs one connection. It reports whether the connection was
// made.
func (u *Uplink) session(ctx context.Context) (bool, error) {
	sess, err := u.nextSession()
	if err != nil {
		return false, err
	}
	lost := make(chan error, 1)
	var broker atomic.Value
	c := mqtt.NewClient(u.clientOptions(sess, lost, &broker))
	u.setState(StateConnecting, "", 0, nil)
	limit := u.o.ConnectTimeout*time.Duration(len(u.o.Brokers)) + time.Second
	tok := c.Connect()
	if err := waitToken(ctx, tok, limit); err != nil {
		// paho may still be connecting: let it finish, then drop it, so no
		// stray connection outlives the attempt.
		go func() {
			tok.WaitTimeout(limit)
			c.Disconnect(0)
		}()
		if ctx.Err() != nil {
			u.setState(StateDown, "", 0, nil)
			return false, ctx.Err()
		}
		u.linkDown("no broker reachable", "connect_failed")
		return false, fmt.Errorf("uplink: connect: %w", err)
	}
	url, _ := broker.Load().(string)
	u.setState(StateConnecting, url, sess, c) // replies may go out from now on
	err = u.runSession(ctx, c, sess, url, lost)
	if ctx.Err() != nil {
		u.goodbye(c, sess)
		u.setState(StateDown, "", 0, nil)
		return true, nil
	}
	c.Disconnect(0)
	u.linkDown("connection lost", "connection_lost")
	return true, err
}

func (u *Uplink) linkDown(reason, counter string) {
	u.setState(StateDown, "", 0, nil)
	u.reg.Update(uplinkDevice, health.KindUplink, func(d *health.Device) {
		if d.State != health.Down {
			d.State, d.Reason = health.Down, reason
		}
		if d.Errors == nil {
			d.Errors = map[string]uint64{}
		}
		d.Errors[counter]++
	})
}

// runSession publishes the birth, the retained device health and faults,
// then drains the journal until the connection is lost or ctx ends.
func (u *Uplink) runSession(ctx context.Context, c mqtt.Client, sess uint64, url string, lost <-chan error) error {
	tok := c.Subscribe(u.o.Topics.Command(), 1, u.onCommand)
	err := waitToken(ctx, tok, u.o.ConnectTimeout)
	if err == nil {
		err = SubscribeResult(tok)
	}
	if err != nil {
		// The session ends and the next connection subscribes again.
		return fmt.Errorf("uplink: subscribe %s: %w", u.o.Topics.Command(), err)
	}
	// Events committed from now on are live; those before are the backlog.
	liveFrom := u.j.Committed() + 1
	u.reg.Update(uplinkDevice, health.KindUplink, func(d *health.Device) {
		d.State, d.Reason = health.Up, ""
		d.LastSeen = u.o.Now()
		d.Detail = map[string]any{"broker": url, "session": sess}
	})
	birth, err := json.Marshal(u.birth(sess))
	if err != nil {
		return err
	}
	c.Publish(u.o.Topics.Status(), 1, true, birth)
	u.log.Info("uplink: connected", "broker", url, "session", sess, "backlog", u.backlog())
	u.setState(StateConnected, url, sess, c)
	u.mu.Lock()
	clear(u.dirtyDevs)
	u.dirtyFaults = false
	u.mu.Unlock()
	for _, d := range u.reg.All() {
		u.publishHealth(c, d)
	}
	u.publishFaults(c)

	sctx, cancel := context.WithCancel(ctx)
	var side sync.WaitGroup
	side.Add(2)
	go func() {
		defer side.Done()
		u.sideLoop(sctx, c)
	}()
	go func() {
		defer side.Done()
		u.alertLoop(sctx, c, liveFrom)
	}()
	err = u.drain(sctx, c, lost, liveFrom)
	cancel()
	side.Wait()
	return err
}

// birth is the status published after each connect.
func (u *Uplink) birth(sess uint64) Status {
	devs := u.reg.All()
	brief := make([]DeviceBrief, len(devs))
	for i, d := range devs {
		brief[i] = DeviceBrief{ID: d.ID, Kind: d.Kind, State: d.State}
	}
	u.mu.Lock()
	cv := u.configVersion
	u.mu.Unlock()
	return Status{
		V: SchemaVersion, Online: true, Session: sess, Gateway: u.o.GatewayID, Hall: u.o.HallID,
		At: u.o.Now().UTC(), Firmware: u.o.Firmware, ConfigVersion: cv, Started: u.o.Started.UTC(),
		Backlog: ptr(u.backlog()), Devices: brief, Extra: u.extra(),
	}
}

func ptr[T any](v T) *T { return &v }

func (u *Uplink) backlog() uint64 {
	c, a := u.j.Committed(), u.acked.Load()
	if a >= c {
		return 0
	}
	return c - a
}

// goodbye publishes the offline status (a clean disconnect discards the
// Will) and disconnects, after any command being answered.
func (u *Uplink) goodbye(c mqtt.Client, sess uint64) {
	locked := make(chan struct{})
	go func() { u.cmdMu.Lock(); close(locked) }()
	t := time.NewTimer(5 * time.Second)
	select {
	case <-locked:
		defer u.cmdMu.Unlock()
	case <-t.C:
		go func() { <-locked; u.cmdMu.Unlock() }()
	}
	t.Stop()
	b, _ := json.Marshal(Status{V: SchemaVersion, Online: false, Session: sess, Gateway: u.o.GatewayID,
		Hall: u.o.HallID, At: u.o.Now().UTC(), Reason: "shutdown", Backlog: ptr(u.backlog())})
	if err := waitToken(context.Background(), c.Publish(u.o.Topics.Status(), 1, true, b), 3*time.Second); err != nil {
		u.log.Warn("uplink: offline status not acknowledged", "err", err)
	}
	c.Disconnect(250)
	u.log.Info("uplink: disconnected cleanly", "session", sess, "acked", u.acked.Load())
}

func (u *Uplink) publishHealth(c mqtt.Client, d health.Device) {
	b, err := json.Marshal(Health{V: SchemaVersion, Device: d, At: u.o.Now().UTC()})
	if err != nil {
		u.log.Error("uplink: encode health", "device", d.ID, "err", err)
		return
	}
	b, _ = MaskIDNumbers(b)
	c.Publish(u.o.Topics.Health(d.ID), 1, true, b)
}

func (u *Uplink) faultList() FaultList {
	n, s := u.faults.Levels()
	return FaultList{V: SchemaVersion, At: u.o.Now().UTC(), Network: n, System: s, Faults: u.faults.List()}
}

func (u *Uplink) publishFaults(c mqtt.Client) {
	b, err := json.Marshal(u.faultList())
	if err != nil {
		u.log.Error("uplink: encode faults", "err", err)
		return
	}
	b, _ = MaskIDNumbers(b)
	c.Publish(u.o.Topics.Faults(), 1, true, b)
}

// sideLoop publishes, while a session lasts, the retained health of devices
// that changed, the fault list when it changed, and the periodic telemetry.
func (u *Uplink) sideLoop(ctx context.Context, c mqtt.Client) {
	tick := time.NewTicker(u.o.TelemetryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.sideWake:
			u.mu.Lock()
			ids := make([]string, 0, len(u.dirtyDevs))
			for id := range u.dirtyDevs {
				ids = append(ids, id)
			}
			clear(u.dirtyDevs)
			faults := u.dirtyFaults
			u.dirtyFaults = false
			u.mu.Unlock()
			for _, id := range ids {
				if d, ok := u.reg.Get(id); ok {
					u.publishHealth(c, d)
				}
			}
			if faults {
				u.publishFaults(c)
			}
		case <-tick.C:
			b, err := json.Marshal(u.Telemetry())
			if err != nil {
				u.log.Error("uplink: encode telemetry", "err", err)
				continue
			}
			b, _ = MaskIDNumbers(b)
			c.Publish(u.o.Topics.Telemetry(), 0, false, b)
		}
	}
}

// GatewayHealth returns the gateway's own health figures.
func (u *Uplink) GatewayHealth() health.Gateway {
	now := u.o.Now()
	us := u.j.Usage()
	ls := u.State()
	g := health.Gateway{
		Uptime: now.Sub(u.o.Started), Backlog: u.backlog(), JournalRecords: us.BusinessRecords, JournalBytes: us.FileBytes,
		Disk: health.Disk(u.o.DataDir), Clock: u.o.ReadClock(), Broker: ls.State, Session: ls.Session,
	}
	g.UptimeS = int64(g.Uptime / time.Second)
	if !us.OldestAt.IsZero() && g.Backlog > 0 {
		g.OldestUnsentS = max(0, int64(now.Sub(us.OldestAt)/time.Second))
	}
	g.Network, g.System = u.faults.Levels()
	return g
}

// Telemetry returns the current telemetry message.
func (u *Uplink) Telemetry() Telemetry {
	devs := u.reg.All()
	stats := make([]DeviceStats, len(devs))
	for i, d := range devs {
		stats[i] = DeviceStats{ID: d.ID, State: d.State, LastSeen: d.LastSeen, Errors: d.Errors}
	}
	return Telemetry{V: SchemaVersion, At: u.o.Now().UTC(), Gateway: u.GatewayHealth(), Devices: stats, Extra: u.extra()}
}

func (u *Uplink) extra() map[string]any {
	if u.o.Extra == nil {
		return nil
	}
	return u.o.Extra()
}

// KindAlert is the journal kind of alerts (a 差评, written by the ratings
// component): they go to the alerts topic as soon as they are committed,
// besides their place in the ordered event stream.
const KindAlert = "alert"

// alertLoop publishes, while a session lasts, every alert committed from
// liveFrom on to the alerts topic at once, ahead of any backlog. The same
// record, with the same id, reaches the events topic in order too.
func (u *Uplink) alertLoop(ctx context.Context, c mqtt.Client, liveFrom uint64) {
	next := liveFrom
	for {
		changed := u.j.Changed()
		recs, err := u.j.Read(next, 256)
		if err != nil {
			u.log.Warn("uplink: alerts: read journal", "err", err)
			return
		}
		for _, r := range recs {
			next = r.Seq + 1
			if r.Kind != KindAlert {
				continue
			}
			b, err := EncodeEvent(u.o.GatewayID, r, false)
			if err != nil {
				u.log.Error("uplink: encode alert", "seq", r.Seq, "err", err)
				continue
			}
			c.Publish(u.o.Topics.Alerts(), 1, false, b)
		}
		if len(recs) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

func (u *Uplink) wakeSide() {
	select {
	case u.sideWake <- struct{}{}:
	default:
	}
}

func (u *Uplink) wakeHealth() {
	select {
	case u.healthWake <- struct{}{}:
	default:
	}
}

// onHealth journals a device health change as an event and schedules its
// retained publication and the fault classification. It runs inside
// Registry.Update: it only queues.
func (u *Uplink) onHealth(c health.Change) {
	rec := DeviceChange{Type: "device_health", Device: c.New}
	if !c.Added {
		rec.From = c.Old.State
	}
	u.submit(KindHealth, rec)
	u.mu.Lock()
	u.dirtyDevs[c.New.ID] = true
	u.mu.Unlock()
	u.wakeSide()
	u.wakeHealth()
}

// onFault journals a fault change and schedules the retained fault list.
func (u *Uplink) onFault(c health.FaultChange) {
	u.submit(KindFault, c)
	u.log.Warn("uplink: fault "+c.Type, "fault", c.Fault.ID, "category", c.Fault.Category,
		"level", c.Fault.Level.String(), "device", c.Fault.Device, "cause", c.Fault.Cause)
	u.mu.Lock()
	u.dirtyFaults = true
	u.mu.Unlock()
	u.wakeSide()
}

// submit journals one of the uplink's own records; it does not wait.
func (u *Uplink) submit(kind string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		u.log.Error("uplink: encode record", "kind", kind, "err", err)
		return
	}
	if _, err := u.j.Submit(journal.Record{Kind: kind, At: u.o.Now().UTC(), Data: b}); err != nil {
		u.log.Error("uplink: journal record", "kind", kind, "err", err)
	}
}

// Alarm receives a journal alarm (daemon.OnAlarm): it is journaled as an
// event and a write failure marks the journal down, which opens an
// information-system fault. It only queues: it runs on the journal's writer.
func (u *Uplink) Alarm(a journal.Alarm) {
	u.mu.Lock()
	if len(u.alarms) < 1000 {
		u.alarms = append(u.alarms, a)
	}
	u.mu.Unlock()
	u.wakeHealth()
}

// healthLoop classifies faults on every health change and periodically
// (information-system faults escalate with time), and handles alarms.
func (u *Uplink) healthLoop(ctx context.Context) {
	defer u.wg.Done()
	every := min(10*time.Second, max(time.Second, u.faults.Rules().Grace/3))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.healthWake:
		case <-tick.C:
		}
		u.mu.Lock()
		alarms := u.alarms
		u.alarms = nil
		u.mu.Unlock()
		for _, a := range alarms {
			u.submit(KindAlarm, AlarmRecord{Type: "journal_alarm", Alarm: a.Kind, Msg: a.Msg, At: a.At})
			switch a.Kind {
			case journal.AlarmWriteFailed:
				u.reg.Update("gateway/journal", health.KindJournal, func(d *health.Device) {
					d.State, d.Reason = health.Down, "journal writes failing"
				})
			case journal.AlarmRecovered:
				u.reg.Update("gateway/journal", health.KindJournal, func(d *health.Device) {
					d.State, d.Reason = health.Up, ""
				})
			}
		}
		u.faults.Observe(u.reg.All())
	}
}
