package demo

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/drivers/idcard"
	"hallgw/firmware/daemon"
	"hallgw/firmware/frontdesk"
	"hallgw/firmware/health"
	"hallgw/firmware/testkit"
)

// TestDemoDevices runs the demo and checks that every front device worked
// through its emulator: tickets printed at both kiosks, presses on the
// bus, calls announced, and every device's health up at the end. Citizens
// lay ID cards on the reader meanwhile: no ID number or name may appear in
// the clear in anything published over MQTT or in the log.
func TestDemoDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	out := &testkit.Buffer{}
	dataDir := t.TempDir()
	published := &payloads{}
	var d *daemon.Daemon
	type figures struct {
		st   frontdesk.Status
		devs []health.Device
	}
	got := make(chan figures, 1)
	start := time.Date(2026, 11, 30, 9, 40, 0, 0, mustLoc(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Run(ctx, Options{
		Speed: 300, Duration: 8 * time.Second, Windows: 6, Listen: "127.0.0.1:0", Seed: 5, Start: start, Out: out,
		DataDir: dataDir,
		Ready: func(dd *daemon.Daemon) {
			d = dd
			published.subscribe(t, out.String())
			go func() { // the figures just before the demo ends
				select {
				case <-time.After(7 * time.Second):
				case <-ctx.Done():
					return
				}
				got <- figures{frontdesk.For(dd).Status(), dd.Health.All()}
			}()
		},
	})
	if err != nil {
		t.Fatalf("Run = %v\n%s", err, out)
	}
	var fg figures
	select {
	case fg = <-got:
	default:
		t.Fatalf("no figures taken while the demo ran\n%s", out)
	}
	st, devs := fg.st, fg.devs
	if d == nil || len(st.Kiosks) != 2 || len(st.Buses) != 1 || st.Voice == nil {
		t.Fatalf("front devices %+v, want 2 kiosks, a bus and the voice\n%s", st, out)
	}
	for _, k := range st.Kiosks {
		if k.Printed == 0 {
			t.Errorf("kiosk %s printed nothing", k.ID)
		}
	}
	if b := st.Buses[0]; b.Presses == 0 || b.Terminals != 6 || b.Displays != 1 {
		t.Errorf("bus %+v, want presses on 6 terminals and a display", b)
	}
	if st.Voice.Played == 0 {
		t.Error("no call announced")
	}
	up := map[health.State]int{}
	for _, dv := range devs {
		up[dv.State]++
		if dv.State == health.Down {
			t.Errorf("device %s down: %s", dv.ID, dv.Reason)
		}
	}
	if up[health.Up] < 6+1+1+4 { // terminals, display, bus, printers, reader, scanner, voice
		t.Errorf("devices by state %v, want every device up", up)
	}
	s := out.String()
	m := regexp.MustCompile(`printers: kiosk-1 (\d+) printed`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no printer line on the screen:\n%s", s)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("the screen says kiosk 1 printed nothing:\n%s", s)
	}
	for _, re := range []string{`bus-1 \(modbus \d+ baud\): 6 terminals \+ display 201, \d+ presses`, `voice: \d+ calls announced`} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("screen lacks %s:\n%s", re, s)
		}
	}

	// Personal data: ID numbers and names stay out of MQTT and the log.
	cards := regexp.MustCompile(`ID cards: (\d+) read`).FindAllStringSubmatch(s, -1)
	if len(cards) == 0 {
		t.Fatalf("no ID card line on the screen:\n%s", s)
	}
	if n, _ := strconv.Atoi(cards[len(cards)-1][1]); n == 0 {
		t.Fatalf("no ID card was read: the privacy check below would test nothing\n%s", s)
	}
	log, err := os.ReadFile(filepath.Join(dataDir, "hallgw.log"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := published.all()
	if len(msgs) == 0 {
		t.Fatal("nothing was published over MQTT while the demo ran")
	}
	for i, line := range strings.Split(string(log), "\n") {
		if leak := personal(line); leak != "" {
			t.Errorf("log line %d holds %q in the clear: %s", i+1, leak, line)
		}
	}
	for _, m := range msgs {
		if leak := personal(m.payload); leak != "" {
			t.Errorf("MQTT %s holds %q in the clear: %.300s", m.topic, leak, m.payload)
		}
	}
	t.Logf("%d MQTT messages and %d log bytes checked, %s ID cards read", len(msgs), len(log), cards[len(cards)-1][1])
}

// idNumber matches an 18-character resident ID number standing alone.
var idNumber = regexp.MustCompile(`(?:^|[^0-9A-Za-z])([0-9]{17}[0-9X])(?:[^0-9A-Za-z]|$)`)

// personal returns the first valid ID number or demo citizen's name in s,
// or "".
func personal(s string) string {
	for _, m := range idNumber.FindAllStringSubmatch(s, -1) {
		if idcard.ValidNumber(m[1]) == nil {
			return m[1]
		}
	}
	for _, name := range demoNames {
		if strings.Contains(s, name) {
			return name
		}
	}
	return ""
}

func TestPersonalFindsADemoCard(t *testing.T) {
	c := demoCard(demoNames[2], time.Date(1950, 6, 1, 0, 0, 0, 0, time.UTC), 7)
	for _, s := range []string{c.Number, `{"id":"` + c.Number + `"}`, "holder=" + c.Number + " ok", "name " + c.Name} {
		if personal(s) == "" {
			t.Errorf("personal(%q) found nothing", s)
		}
	}
	masked := c.Number[:4] + "**********" + c.Number[14:]
	for _, s := range []string{masked, "seq 1795842517404315000", "hash 3f2a" + c.Number[1:] + "b"} {
		if got := personal(s); got != "" {
			t.Errorf("personal(%q) = %q, want nothing", s, got)
		}
	}
}

// payloads records every message published on the demo's broker.
type payloads struct {
	mu   sync.Mutex
	msgs []message
}

type message struct{ topic, payload string }

var brokerURL = regexp.MustCompile(`MQTT broker: (tcp://[0-9.:]+)`)

// subscribe connects to the broker named on the demo's screen and records
// everything published from now on.
func (p *payloads) subscribe(t *testing.T, screen string) {
	m := brokerURL.FindStringSubmatch(screen)
	if m == nil {
		t.Errorf("no MQTT broker on the screen:\n%s", screen)
		return
	}
	o := mqtt.NewClientOptions().AddBroker(m[1]).SetClientID("privacy-check").SetConnectTimeout(10 * time.Second)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Errorf("connect to %s: %v", m[1], tok.Error())
		return
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe("#", 1, func(_ mqtt.Client, msg mqtt.Message) {
		p.mu.Lock()
		p.msgs = append(p.msgs, message{msg.Topic(), string(msg.Payload())})
		p.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Errorf("subscribe: %v", tok.Error())
	}
}

func (p *payloads) all() []message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]message(nil), p.msgs...)
}
