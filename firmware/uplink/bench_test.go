package uplink

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/testkit"
	"hallgw/hall"
)

// benchEvents is the backlog size of BenchmarkDrain.
const benchEvents = 50000

// hallRecords returns n ticket_issued hall events whose journal records are
// size bytes (the personal blob, never published, makes up the rest).
func hallRecords(t testing.TB, n, size int) []journal.Record {
	t.Helper()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recs := make([]journal.Record, n)
	for i := range recs {
		ev := hall.Event{
			Type: hall.EvTicketIssued, At: at.Add(time.Duration(i) * time.Second), Ticket: hall.TicketID(i + 1),
			Number: fmt.Sprintf("A%03d", i%1000), Service: "A", Source: "kiosk", Count: i + 1, Ahead: i % 40,
			Estimate: hall.Estimate{Point: 12 * time.Minute, Lo: 10 * time.Minute, Hi: 14 * time.Minute, Known: true},
		}
		b, err := ev.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if pad := size - len(b); pad > 0 {
			ev.Personal = bytes.Repeat([]byte{0xA5}, pad)
			for {
				b, _ = ev.MarshalBinary()
				if len(b) <= size || len(ev.Personal) == 0 {
					break
				}
				ev.Personal = ev.Personal[:len(ev.Personal)-1]
			}
		}
		recs[i] = journal.Record{Kind: gateway.KindHall, At: ev.At, Data: b}
	}
	return recs
}

// BenchmarkDrain measures the drain of 50,000 buffered 300-byte hall events
// to a private mosquitto against the baseline, mosquitto_pub -l -q 1
// sending as many messages of the same size (the mean payload the uplink
// published) to the same broker in the same run. It reports both rates and
// their ratio; scripts/bench-uplink runs it.
func BenchmarkDrain(b *testing.B) {
	bin := testkit.Tool(b, "mosquitto")
	pubBin := testkit.Tool(b, "mosquitto_pub")
	inflight := 32
	if s := os.Getenv("HALLGW_BENCH_INFLIGHT"); s != "" {
		inflight, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	m, err := mqttbroker.StartMosquitto(context.Background(), mqttbroker.MosquittoOptions{Bin: bin, Dir: filepath.Join(dir, "broker")})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	recs := hallRecords(b, benchEvents, 300)
	var size int
	for _, r := range recs[:1000] {
		p, err := EncodeEvent(testGW, r, true)
		if err != nil {
			b.Fatal(err)
		}
		size += len(p)
	}
	size /= 1000
	lines := bytes.Repeat(append(bytes.Repeat([]byte("x"), size), '\n'), benchEvents)

	var pubTotal, upTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		jdir := filepath.Join(dir, fmt.Sprintf("j%d", i))
		os.MkdirAll(jdir, 0o750)
		j := openJournal(b, jdir)
		for k := 0; k < len(recs); k += 4096 {
			if _, err := j.Append(context.Background(), recs[k:min(k+4096, len(recs))]...); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		runPub := func() {
			start := time.Now()
			cmd := exec.Command(pubBin, "-h", "127.0.0.1", "-p", strconv.Itoa(m.Port()), "-q", "1", "-l",
				"-t", "bench/"+testHall+"/"+testGW+"/events", "-i", "bench-pub")
			cmd.Stdin = bytes.NewReader(lines)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("mosquitto_pub: %v: %s", err, out)
			}
			pubTotal += time.Since(start)
		}
		runUplink := func() {
			start := time.Now()
			u, err := New(Options{Brokers: []string{m.URL()}, Journal: j, GatewayID: testGW, HallID: testHall,
				Inflight: inflight, Topics: NewTopics("bench", testHall, testGW)})
			if err != nil {
				b.Fatal(err)
			}
			if err := u.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			for u.Acked() < uint64(benchEvents) {
				select {
				case <-time.After(time.Millisecond):
				}
			}
			upTotal += time.Since(start)
			b.StopTimer()
			u.Halt()
			b.StartTimer()
		}
		// Alternate the order so neither side always runs on a warmer broker.
		if i%2 == 0 {
			runPub()
			runUplink()
		} else {
			runUplink()
			runPub()
		}
		b.StopTimer()
		j.Close()
		os.RemoveAll(jdir)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(benchEvents * b.N)
	pubRate := n / pubTotal.Seconds()
	upRate := n / upTotal.Seconds()
	b.ReportMetric(upRate, "uplink_msg/s")
	b.ReportMetric(pubRate, "mosquitto_pub_msg/s")
	b.ReportMetric(upRate/pubRate, "ratio")
	b.ReportMetric(float64(size), "payload_bytes")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWindow measures paho publishing 1000 QoS 1 messages of 300 bytes
// with different ways of bounding the unacknowledged publishes, against
// mosquitto with its default socket options (Nagle's algorithm on) and
// with set_tcp_nodelay. Waiting for a whole window of acknowledgements
// stalls about 40 ms per window against the default broker: mosquitto
// sends the first PUBACK of a burst, Nagle holds the rest until the client
// acknowledges that segment, and the client, which has nothing to send while
// it waits for the window, delays its ACK (Linux: 40 ms). A sliding window
// sends the next publish as soon as one PUBACK arrives, which carries the
// ACK at once. The uplink slides.
func BenchmarkWindow(b *testing.B) {
	bin := testkit.Tool(b, "mosquitto")
	for _, broker := range []struct {
		name  string
		extra []string
	}{{"nagle", nil}, {"nodelay", []string{"set_tcp_nodelay true"}}} {
		m, err := mqttbroker.StartMosquitto(context.Background(), mqttbroker.MosquittoOptions{
			Bin: bin, Dir: filepath.Join(b.TempDir(), broker.name), Extra: broker.extra})
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name    string
			window  int
			sliding bool
		}{{"stop-and-wait", 1, true}, {"batch-16", 16, false}, {"sliding-16", 16, true}, {"sliding-32", 32, true}} {
			b.Run(broker.name+"/"+mode.name, func(b *testing.B) {
				c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID("bench-window").
					SetAutoReconnect(false).SetCustomOpenConnectionFn(openConn))
				if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					b.Fatalf("connect: %v", tok.Error())
				}
				defer c.Disconnect(100)
				payload := bytes.Repeat([]byte("x"), 300)
				const n = 1000
				var total time.Duration
				for i := 0; i < b.N; i++ {
					start := time.Now()
					var q []mqtt.Token
					for k := 0; k < n; k++ {
						if len(q) == mode.window {
							if mode.sliding {
								q[0].Wait()
								q = q[1:]
							} else {
								for _, t := range q {
									t.Wait()
								}
								q = q[:0]
							}
						}
						q = append(q, c.Publish("bench/window", 1, false, payload))
					}
					for _, t := range q {
						t.Wait()
					}
					total += time.Since(start)
				}
				b.ReportMetric(float64(n*b.N)/total.Seconds(), "msg/s")
				b.ReportMetric(0, "ns/op")
			})
		}
		m.Stop()
	}
}
