package uplink

import (
	"context"
	"testing"
	"time"

	"hallgw/firmware/health"
	"hallgw/firmware/mqttbroker"
)

func startBroker(t testing.TB, opts mqttbroker.Options) *mqttbroker.Broker {
	t.Helper()
	b, err := mqttbroker.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func startUplink(t testing.TB, o Options) *Uplink {
	t.Helper()
	if o.GatewayID == "" {
		o.GatewayID, o.HallID = testGW, testHall
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin, o.ReconnectMax = 50*time.Millisecond, 200*time.Millisecond
	}
	u, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Halt() })
	return u
}

func TestEmbeddedBirthThenBacklogThenLive(t *testing.T) {
	b := startBroker(t, mqttbroker.Options{})
	s := newSeen()
	if err := b.Subscribe("hallgw/#", s.add); err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, t.TempDir())
	defer j.Close()
	appendProbes(t, j, 300, 100)
	reg := health.NewRegistry(nil)
	reg.Seen("kiosk-1/printer", "printer")
	u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, Health: reg, Firmware: "1.2.3", ConfigVersion: "cv-9"})

	msgs := s.waitFor(t, "the backlog", func(m []mqttbroker.Message) bool { return maxSeq(events(t, m)) >= 300 })
	// Birth first, then the retained device health, then the faults, then events.
	if !hasSuffix(msgs[0].Topic, LeafStatus) {
		t.Fatalf("first message on %s, want the status", msgs[0].Topic)
	}
	st := statuses(t, msgs[:1])[0]
	if !st.Online || st.Session != 1 || st.Firmware != "1.2.3" || st.ConfigVersion != "cv-9" || st.Backlog == nil || *st.Backlog < 300 {
		t.Errorf("birth = %+v, want online session 1 firmware 1.2.3 config cv-9 backlog ≥ 300", st)
	}
	firstEvent := -1
	sawHealth, sawFaults := false, false
	for i, m := range msgs {
		switch {
		case hasSuffix(m.Topic, LeafEvents) && firstEvent < 0:
			firstEvent = i
		case m.Topic == "hallgw/hall-t/gw-t1/health/kiosk-1/printer":
			sawHealth = firstEvent < 0
		case hasSuffix(m.Topic, LeafFaults):
			sawFaults = firstEvent < 0
		}
	}
	if !sawHealth || !sawFaults {
		t.Errorf("health before events %v, faults before events %v; want both", sawHealth, sawFaults)
	}
	evs := events(t, msgs)
	checkDelivery(t, evs, maxSeq(evs))
	for _, e := range evs[:300] {
		if !e.Historical || e.Kind != "probe" || e.Type != "probe" || e.V != SchemaVersion {
			t.Fatalf("backlog event %+v: want historical probe v1", e)
		}
	}
	// Live events are not historical.
	appendProbes(t, j, 5, 100)
	want := j.Committed()
	msgs = s.waitFor(t, "live events", func(m []mqttbroker.Message) bool { return maxSeq(events(t, m)) >= want })
	evs = events(t, msgs)
	if last := evs[len(evs)-1]; last.Historical {
		t.Errorf("live event %+v marked historical", last)
	}
	waitAcked(t, u, want)
}

func waitAcked(t testing.TB, u *Uplink, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for u.Acked() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("acked = %d, want %d", u.Acked(), seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
