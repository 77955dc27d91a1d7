package otaupdate

import (
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestServerAnswers sends a platform Server requests good and bad and
// reads its answers as a gateway would.
func TestServerAnswers(t *testing.T) {
	b := startBroker(t, "")
	data := randomBytes(2500)
	o := offerOf(data, 1024, "")
	file := writeFile(t, t.TempDir(), "b.tar", data)
	// A retained request, there before the server subscribes: never served.
	stale, _ := EncodeRequest(Request{SHA256: o.SHA256, Index: 0})
	b.Publish(testRoot+"/"+LeafRequest, stale, true, 1)
	srv := platform(t, b.URL(), nil, file)
	if want := testRoot + "/" + LeafRequest; srv.RequestFilter() != want {
		t.Errorf("RequestFilter = %q, want %q", srv.RequestFilter(), want)
	}
	gw := dial(t, b.URL(), "gateway")
	var mu sync.Mutex
	got := map[int]Chunk{}
	if err := subscribe(t.Context(), gw.Subscribe(testRoot+"/"+LeafChunk, 1, func(_ mqtt.Client, m mqtt.Message) {
		if c, err := DecodeChunk(m.Payload()); err == nil {
			mu.Lock()
			got[c.Index] = c
			mu.Unlock()
		}
	}), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	req := func(sha string, i int) []byte {
		p, err := EncodeRequest(Request{SHA256: sha, Index: i})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	reqT := testRoot + "/" + LeafRequest
	b.Publish(reqT, []byte("junk"), false, 1)
	b.Publish(reqT, req(o.SHA256, 2), false, 1)
	b.Publish(reqT, req(o.SHA256, 3), false, 1)
	b.Publish(reqT, req(sha0, 1), false, 1)
	eventually(t, "three answers", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if c := got[2]; string(c.Data) != string(data[2048:]) || c.SHA256 != o.SHA256 {
		t.Errorf("chunk 2 = %d bytes, want the last %d", len(c.Data), len(data)-2048)
	}
	if c := got[3]; !strings.Contains(c.Error, "no chunk 3") {
		t.Errorf("chunk 3 answer = %+v, want an error: the bundle has 3", c)
	}
	if c := got[1]; c.Error != "unknown bundle" || c.SHA256 != sha0 {
		t.Errorf("answer for an unknown bundle = %+v", c)
	}
	if st := srv.Stats(); st.Bad != 1 || st.Dropped != 1 || st.Served != 1 || st.Unknown != 2 || st.Requests != 3 {
		t.Errorf("stats = %+v, want 1 bad, 1 dropped, 3 requests: 1 served, 2 unknown", st)
	}
	if _, err := NewServer(ServerOpts{}); err == nil {
		t.Error("NewServer without a client = nil error")
	}
	srv.Close()
	if _, err := srv.Add(file, 1024); err == nil {
		t.Error("Add after Close = nil error")
	}
}
