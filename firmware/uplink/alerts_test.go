package uplink

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"hallgw/firmware/journal"
	"hallgw/firmware/mqttbroker"
)

// A 差评 alert committed while a large backlog is still draining reaches the
// alerts topic at once, and the events topic in its place with the same id;
// the birth message carries the extra status sections.
func TestAlertsGoOutAheadOfTheBacklog(t *testing.T) {
	b := startBroker(t, mqttbroker.Options{})
	s := newSeen()
	if err := b.Subscribe("hallgw/#", s.add); err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, t.TempDir())
	defer j.Close()
	appendProbes(t, j, 20000, 300)
	extra := map[string]any{"ratings": map[string]any{"public_key": "AAAA", "key_id": "k1"}}
	startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, Inflight: 1,
		Extra: func() map[string]any { return extra }})
	s.waitFor(t, "the birth", func(m []mqttbroker.Message) bool { return len(m) > 0 })

	alert, _ := json.Marshal(map[string]any{"type": "bad_rating", "window": "5", "grade": 5})
	seq, err := j.Append(context.Background(), journal.Record{Class: journal.Business, Kind: KindAlert, At: time.Now(), Data: alert})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.waitFor(t, "the alert", func(m []mqttbroker.Message) bool {
		for _, x := range m {
			if hasSuffix(x.Topic, LeafAlerts) {
				return true
			}
		}
		return false
	})
	var got Event
	delivered := uint64(0)
	for _, x := range msgs {
		if hasSuffix(x.Topic, LeafAlerts) {
			if err := json.Unmarshal(x.Payload, &got); err != nil {
				t.Fatal(err)
			}
			break
		}
		if hasSuffix(x.Topic, LeafEvents) {
			delivered++
		}
	}
	if got.Seq != seq || got.ID != journal.EventID("gw-t1", seq) || got.Kind != KindAlert {
		t.Errorf("alert = %+v, want seq %d kind alert", got, seq)
	}
	if delivered >= seq-1 {
		t.Errorf("the alert waited for the backlog (%d of %d events first); want it at once", delivered, seq-1)
	}
	st := statuses(t, msgs[:1])[0]
	if st.Extra["ratings"] == nil {
		t.Errorf("birth extra = %v, want the ratings section", st.Extra)
	}
	// The same record arrives in order on the events topic, same id.
	s.waitFor(t, "the alert in the event stream", func(m []mqttbroker.Message) bool {
		for _, e := range events(t, m) {
			if e.Seq == seq && e.ID == got.ID {
				return true
			}
		}
		return false
	})
}
