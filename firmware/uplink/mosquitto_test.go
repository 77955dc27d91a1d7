package uplink

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/journal"
	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/testkit"
)

// Environment of the gateway child process (the test binary re-executed).
const (
	childEnv       = "HALLGW_UPLINK_CHILD" // journal directory
	childBrokerEnv = "HALLGW_UPLINK_CHILD_BROKER"
	childWindowEnv = "HALLGW_UPLINK_CHILD_INFLIGHT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(gatewayChild(dir))
	}
	os.Exit(m.Run())
}

// gatewayChild runs an uplink on the journal in dir until SIGTERM (clean
// shutdown) or SIGKILL.
func gatewayChild(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: testGW})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	j.Hold("uplink")
	w, _ := strconv.Atoi(os.Getenv(childWindowEnv))
	u, err := New(Options{Brokers: []string{os.Getenv(childBrokerEnv)}, Journal: j, GatewayID: testGW, HallID: testHall,
		Inflight: w, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := u.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("ready")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if err := j.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func startChild(t *testing.T, dir, broker string, inflight int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childBrokerEnv+"="+broker, childWindowEnv+"="+strconv.Itoa(inflight))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("gateway child did not start")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("gateway child did not start within 20 s")
	}
	return cmd
}

func startMosquitto(t *testing.T, persistence bool) *mqttbroker.Mosquitto {
	t.Helper()
	bin := testkit.Tool(t, "mosquitto")
	m, err := mqttbroker.StartMosquitto(context.Background(), mqttbroker.MosquittoOptions{
		Bin: bin, Dir: filepath.Join(t.TempDir(), "mosquitto"), Persistence: persistence,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", m.Log())
		}
	})
	return m
}

// subscribe connects a platform-side subscriber to everything under
// hallgw/. A persistent session (clean false) keeps the subscription and
// queues messages across a broker restart (with mosquitto persistence).
func subscribe(t *testing.T, url, id string, clean bool) (*seen, mqtt.Client) {
	t.Helper()
	s := newSeen()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond)
	var once sync.Once
	subscribed := make(chan error, 1)
	handler := func(_ mqtt.Client, m mqtt.Message) {
		s.add(mqttbroker.Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained()})
	}
	o.SetOnConnectHandler(func(c mqtt.Client) {
		tok := c.Subscribe("hallgw/#", 1, handler)
		tok.Wait()
		once.Do(func() { subscribed <- tok.Error() })
	})
	c := mqtt.NewClient(o)
	c.Connect()
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("subscriber did not connect")
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return s, c
}

// TestMosquittoOutage: the broker goes down, 10,000 events are produced
// meanwhile, the broker comes back: everything is delivered, in order,
// without a gap, and the retained status is right after the reconnect.
func TestMosquittoOutage(t *testing.T) {
	m := startMosquitto(t, true)
	sub, _ := subscribe(t, m.URL(), "platform-outage", false)
	j := openJournal(t, t.TempDir())
	defer j.Close()
	u := startUplink(t, Options{Brokers: []string{m.URL()}, Journal: j})
	sub.waitFor(t, "the first birth", func(ms []mqttbroker.Message) bool {
		st := statuses(t, ms)
		return len(st) > 0 && st[len(st)-1].Online && st[len(st)-1].Session == 1
	})
	appendProbes(t, j, 100, 200)
	waitAcked(t, u, j.Committed())

	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	waitState(t, u, StateConnecting, StateDown)
	appendProbes(t, j, 10000, 200)
	if err := m.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The link's own down and up records are events too.
	waitState(t, u, StateConnected)
	appendProbes(t, j, 10, 200)
	want := j.Committed()
	waitAcked(t, u, want)
	msgs := sub.waitFor(t, "every event", func(ms []mqttbroker.Message) bool { return maxSeq(events(t, ms)) >= want })
	dups := checkDelivery(t, events(t, msgs), want)
	t.Logf("%d events delivered, %d duplicates", want, dups)

	// After the restart: online again, with a higher session, before the
	// backlog; the backlog is historical.
	var sessions []uint64
	for _, st := range statuses(t, msgs) {
		if st.Online {
			sessions = append(sessions, st.Session)
		}
	}
	if len(sessions) < 2 || sessions[len(sessions)-1] <= sessions[0] {
		t.Errorf("online sessions seen = %v, want a higher one after the reconnect", sessions)
	}
	evs := events(t, msgs)
	hist := 0
	for _, e := range evs {
		if e.Historical {
			hist++
		}
	}
	if hist < 10000 {
		t.Errorf("%d historical events, want the 10,000 of the outage at least", hist)
	}
	// The retained status a newcomer sees is the current online one.
	fresh, _ := subscribe(t, m.URL(), "platform-late", true)
	got := fresh.waitFor(t, "the retained status", func(ms []mqttbroker.Message) bool { return len(statuses(t, ms)) > 0 })
	if st := statuses(t, got)[0]; !st.Online || st.Session != sessions[len(sessions)-1] {
		t.Errorf("retained status = %+v, want online session %d", st, sessions[len(sessions)-1])
	}
}

func waitState(t testing.TB, u *Uplink, states ...string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ch := u.Changed()
		s := u.State().State
		for _, w := range states {
			if s == w {
				return
			}
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("uplink state %s, want one of %v", s, states)
		}
	}
}

// TestMosquittoGatewayKilled: the gateway is SIGKILLed mid-drain; the Last
// Will appears; after a restart nothing is lost, repeats carry the same ids
// and the session counter went up.
func TestMosquittoGatewayKilled(t *testing.T) {
	m := startMosquitto(t, false)
	sub, _ := subscribe(t, m.URL(), "platform-kill", true)
	dir := t.TempDir()
	const n = 20000
	j := openJournal(t, dir)
	appendProbes(t, j, n, 200)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	child := startChild(t, dir, m.URL(), 1)
	sub.waitFor(t, "the drain to start", func(ms []mqttbroker.Message) bool { return maxSeq(events(t, ms)) >= 500 })
	child.Process.Kill()
	child.Wait()
	msgs := sub.waitFor(t, "the Last Will", func(ms []mqttbroker.Message) bool {
		st := statuses(t, ms)
		return len(st) > 0 && !st[len(st)-1].Online
	})
	sts := statuses(t, msgs)
	will := sts[len(sts)-1]
	if will.Reason != "lost" || will.Session != 1 || !will.At.IsZero() {
		t.Errorf("will = %+v, want offline, reason lost, session 1, no time", will)
	}
	j = openJournal(t, dir)
	cur, _ := j.Cursor("uplink")
	if cur >= n {
		t.Fatalf("cursor %d after the kill: the drain had finished, nothing was tested", cur)
	}
	j.Close()

	child = startChild(t, dir, m.URL(), 32)
	sub.waitFor(t, "the rest of the backlog", func(ms []mqttbroker.Message) bool { return maxSeq(events(t, ms)) >= n })
	child.Process.Signal(syscall.SIGTERM)
	if err := child.Wait(); err != nil {
		t.Fatalf("gateway child: %v", err)
	}
	msgs = sub.waitFor(t, "the goodbye", func(ms []mqttbroker.Message) bool {
		st := statuses(t, ms)
		return len(st) > 0 && st[len(st)-1].Reason == "shutdown"
	})
	j = openJournal(t, dir)
	defer j.Close()
	total := j.Committed()
	if cur, _ := j.Cursor("uplink"); cur != total {
		t.Errorf("cursor after a clean stop = %d, want %d", cur, total)
	}
	dups := checkDelivery(t, events(t, msgs), total)
	t.Logf("%d events, %d delivered twice (same ids) after the kill at cursor %d", total, dups, cur)

	var seq []string
	for _, st := range statuses(t, msgs) {
		seq = append(seq, fmt.Sprintf("%v/%d/%s", st.Online, st.Session, st.Reason))
	}
	want := []string{"true/1/", "false/1/lost", "true/2/", "false/2/shutdown"}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", seq, want)
	}
}
