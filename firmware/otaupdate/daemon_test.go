package otaupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hallgw/firmware/daemon"
	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/update"
	"hallgw/firmware/uplink"
)

// shortTimeouts makes the daemon's updater ask again after 2 s instead of
// 30 s, so a request lost while the platform resubscribes costs little.
func shortTimeouts(t *testing.T) {
	saved := componentOpts
	componentOpts.Transport.Timeout = 2 * time.Second
	componentOpts.Transport.Poll = 50 * time.Millisecond
	componentOpts.RetryMin, componentOpts.RetryMax = 100*time.Millisecond, time.Second
	t.Cleanup(func() { componentOpts = saved })
}

func startBroker(t testing.TB, addr string) *mqttbroker.Broker {
	t.Helper()
	b, err := mqttbroker.Start(mqttbroker.Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// mochi v2.7.9 can deadlock when a client detaches while it closes
		// (Clients.GetByListener takes its read lock twice): let the
		// clients the test just disconnected go first.
		time.Sleep(100 * time.Millisecond)
		b.Close()
	})
	return b
}

// pushAsync runs Push in the background.
func pushAsync(ctx context.Context, o PushOpts) <-chan pushResult {
	ch := make(chan pushResult, 1)
	go func() {
		out, err := Push(ctx, o)
		ch <- pushResult{out, err}
	}()
	return ch
}

type pushResult struct {
	out *Outcome
	err error
}

func waitPush(t *testing.T, ch <-chan pushResult) *Outcome {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Push = %v", r.err)
		}
		return r.out
	case <-time.After(60 * time.Second):
		t.Fatal("Push did not finish")
		return nil
	}
}

func pushOpts(broker, bundle string, log *requestLog) PushOpts {
	o := PushOpts{Broker: broker, Hall: testHall, Gateway: testGW, Token: testToken, Bundle: bundle, ChunkSize: 1024}
	if log != nil {
		o.Intercept = log.intercept
	}
	return o
}

// checkInstalled checks that the root runs slot a with 1.1.0 on trial in b.
func checkInstalled(t *testing.T, root, version string) {
	t.Helper()
	rep, err := update.Status(root)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Active != "a" || rep.Trial != "b" || rep.Current != "b" || rep.Slots[1].Version != version {
		t.Errorf("after the update: active %s, trial %s, current %s, slot b %q; want a, b, b, %s",
			rep.Active, rep.Trial, rep.Current, rep.Slots[1].Version, version)
	}
	if !stagingEmpty(t, root) {
		t.Error("the staging area still holds the download")
	}
	if _, err := os.Stat(filepath.Join(root, update.DataDir, JobFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("job file after the install: %v, want it gone", err)
	}
}

// waitReceived waits until the gateway's download has k chunks on disk.
func waitReceived(t *testing.T, g *gateway, k int, log *requestLog) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d := For(g.d).Status().Download
		if d != nil && d.Received == k {
			return
		}
		if time.Now().After(deadline) {
			log.mu.Lock()
			counts := fmt.Sprint(log.counts)
			log.mu.Unlock()
			b, _ := json.Marshal(For(g.d).Status())
			t.Fatalf("timed out waiting for %d chunks on disk: status %s; requests by index %s; transport %+v", k, b, counts,
				For(g.d).o.Link.(*Transport).Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonUpdateOverMQTT pushes a bundle to a running daemon: the
// command is accepted, the chunks fetched, the bundle installed into the
// inactive slot with a trial armed, and the daemon exits to restart.
func TestDaemonUpdateOverMQTT(t *testing.T) {
	shortTimeouts(t)
	b := startBroker(t, "")
	births := make(chan []byte, 16)
	if err := b.Subscribe(uplink.NewTopics("hallgw", testHall, testGW).Status(), func(m mqttbroker.Message) {
		select {
		case births <- m.Payload:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	pub, priv := testKey(1)
	root := newRoot(t, 1, b.URL(), pub)
	g := startGateway(t, root)

	// The birth carries the firmware section.
	select {
	case p := <-births:
		var st struct {
			Extra struct {
				Firmware Status `json:"firmware"`
			} `json:"extra"`
		}
		if err := json.Unmarshal(p, &st); err != nil || st.Extra.Firmware.Report == nil || st.Extra.Firmware.Active != "a" ||
			st.Extra.Firmware.Version != "1.0.0" {
			t.Errorf("birth = %s, want extra.firmware with slot a active, version 1.0.0", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no birth")
	}

	raw := makeBundle(t, bundleSpec("1.1.0", 2, 30000), priv)
	bundle := writeFile(t, t.TempDir(), "hallgw-1.1.0.tar", raw)
	log := newRequestLog()
	var progress []int
	o := pushOpts(b.URL(), bundle, log)
	o.Progress = func(served, _ int) { progress = append(progress, served) }
	out := waitPush(t, pushAsync(t.Context(), o))
	n := offerOf(raw, 1024, "").Chunks()
	if !out.Installed() || out.Record.Slot != "b" || out.Record.Version != "1.1.0" || out.Record.SecurityVersion != 2 {
		t.Fatalf("Push outcome = %+v, want installed 1.1.0 (sv 2) into slot b", out.Record)
	}
	if !out.Accepted.Accepted || out.Accepted.Chunks != n || out.Accepted.Version != "1.1.0" || len(out.Accepted.Events) != 1 {
		t.Errorf("reply = %+v, want accepted with %d chunks and the record's id", out.Accepted, n)
	}
	if len(progress) != n || progress[n-1] != n {
		t.Errorf("progress calls = %d (last %v), want %d ending at %d", len(progress), progress[len(progress)-1:], n, n)
	}
	for i := range n {
		if log.counts[i] == 0 {
			t.Errorf("chunk %d was never requested", i)
		}
	}
	if err := g.wait(20 * time.Second); !errors.Is(err, daemon.ErrRestart) {
		t.Fatalf("daemon.Run = %v, want ErrRestart", err)
	}
	checkInstalled(t, root, "1.1.0")
	got := records(t, root)
	if want := []string{StepAccepted, StepDownloaded, StepInstalled}; !slices.Equal(steps(got), want) {
		t.Fatalf("firmware records = %v, want %v", steps(got), want)
	}
	if r := got[2]; r.SHA256 != out.Accepted.SHA256 || r.KeyID != update.KeyID(pub) || r.Slot != "b" {
		t.Errorf("installed record = %+v, want sha256 %s, key %s, slot b", r, out.Accepted.SHA256, update.KeyID(pub))
	}
}

// TestDaemonUpdateResumesAcrossReconnect loses the broker mid-download:
// after the reconnect only the missing chunks are asked for.
func TestDaemonUpdateResumesAcrossReconnect(t *testing.T) {
	shortTimeouts(t)
	b1, err := mqttbroker.Start(mqttbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Close()
	pub, priv := testKey(2)
	root := newRoot(t, 1, b1.URL(), pub)
	g := startGateway(t, root)
	raw := makeBundle(t, bundleSpec("1.1.0", 2, 30000), priv)
	bundle := writeFile(t, t.TempDir(), "b.tar", raw)
	n := offerOf(raw, 1024, "").Chunks()
	const k = 10
	log := newRequestLog()
	log.setHold(func(i int) bool { return i >= k })
	log.mark()
	res := pushAsync(t.Context(), pushOpts(b1.URL(), bundle, log))

	waitReceived(t, g, k, log)
	b1.Close()
	log.mark()
	startBroker(t, b1.Addr())
	log.setHold(nil)

	out := waitPush(t, res)
	if !out.Installed() {
		t.Fatalf("Push outcome = %+v, want installed", out.Record)
	}
	since := log.since()
	for i := range n {
		switch {
		case i < k && since[i] != 0:
			t.Errorf("chunk %d, on disk before the outage, was asked for %d times after it", i, since[i])
		case i >= k && since[i] == 0:
			t.Errorf("chunk %d was not asked for after the outage", i)
		}
	}
	if err := g.wait(20 * time.Second); !errors.Is(err, daemon.ErrRestart) {
		t.Fatalf("daemon.Run = %v, want ErrRestart", err)
	}
	checkInstalled(t, root, "1.1.0")
	if got, want := steps(records(t, root)), []string{StepAccepted, StepDownloaded, StepInstalled}; !slices.Equal(got, want) {
		t.Errorf("firmware records = %v, want %v", got, want)
	}
}

// TestDaemonUpdateResumesAfterRestart stops the gateway mid-download: the
// next start continues from the chunks on disk.
func TestDaemonUpdateResumesAfterRestart(t *testing.T) {
	shortTimeouts(t)
	b := startBroker(t, "")
	pub, priv := testKey(3)
	root := newRoot(t, 1, b.URL(), pub)
	g1 := startGateway(t, root)
	raw := makeBundle(t, bundleSpec("1.2.0", 2, 30000), priv)
	bundle := writeFile(t, t.TempDir(), "b.tar", raw)
	n := offerOf(raw, 1024, "").Chunks()
	const k = 7
	log := newRequestLog()
	log.setHold(func(i int) bool { return i >= k })
	res := pushAsync(t.Context(), pushOpts(b.URL(), bundle, log))

	waitReceived(t, g1, k, log)
	if err := g1.stop(); err != nil {
		t.Fatalf("stopping the gateway: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, update.DataDir, JobFile)); err != nil {
		t.Fatalf("job file after the stop: %v", err)
	}
	log.mark()
	log.setHold(nil)
	g2 := startGateway(t, root)

	out := waitPush(t, res)
	if !out.Installed() {
		t.Fatalf("Push outcome = %+v, want installed", out.Record)
	}
	since := log.since()
	for i := range n {
		switch {
		case i < k && since[i] != 0:
			t.Errorf("chunk %d, on disk before the restart, was asked for %d times after it", i, since[i])
		case i >= k && since[i] == 0:
			t.Errorf("chunk %d was not asked for after the restart", i)
		}
	}
	if err := g2.wait(20 * time.Second); !errors.Is(err, daemon.ErrRestart) {
		t.Fatalf("daemon.Run = %v, want ErrRestart", err)
	}
	checkInstalled(t, root, "1.2.0")
	got := records(t, root)
	if want := []string{StepAccepted, StepResumed, StepDownloaded, StepInstalled}; !slices.Equal(steps(got), want) {
		t.Fatalf("firmware records = %v, want %v", steps(got), want)
	}
	if got[1].Received != k {
		t.Errorf("resumed record says %d chunks received, want %d", got[1].Received, k)
	}
}

// TestDaemonRefusesBundles pushes bundles the device must refuse: each is
// reported with its reason and nothing changes.
func TestDaemonRefusesBundles(t *testing.T) {
	shortTimeouts(t)
	b := startBroker(t, "")
	pub, priv := testKey(4)
	_, stranger := testKey(5)
	root := newRoot(t, 5, b.URL(), pub)
	g := startGateway(t, root)
	otherBoard := bundleSpec("1.3.0", 6, 6000)
	otherBoard.Compatible = "another-board"
	tests := []struct {
		name   string
		bundle []byte
		code   string
	}{
		{"tampered payload", tamper(t, makeBundle(t, bundleSpec("1.3.0", 6, 6000), priv)), CodeTampered},
		{"untrusted key", makeBundle(t, bundleSpec("1.3.0", 6, 6000), stranger), CodeBadSignature},
		{"downgrade", makeBundle(t, bundleSpec("1.3.0", 3, 6000), priv), CodeDowngrade},
		{"wrong board", makeBundle(t, otherBoard, priv), CodeWrongBoard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slotState(t, root)
			bundle := writeFile(t, t.TempDir(), "b.tar", tt.bundle)
			out := waitPush(t, pushAsync(t.Context(), pushOpts(b.URL(), bundle, nil)))
			if out.Record.Type != StepRefused || out.Record.Code != tt.code || out.Record.Reason == "" {
				t.Fatalf("Push outcome = %+v, want refused with code %s and a reason", out.Record, tt.code)
			}
			if after := slotState(t, root); string(after) != string(before) {
				t.Errorf("state.json changed:\n%s\nwant\n%s", after, before)
			}
			eventually(t, "the download cleared", func() bool {
				st := For(g.d).Status()
				return st.Download == nil && stagingEmpty(t, root)
			})
			if st := For(g.d).Status(); st.Last == nil || st.Last.Code != tt.code {
				t.Errorf("status last = %+v, want the refusal", st.Last)
			}
			if g.exited() {
				t.Fatalf("the daemon stopped after a refused bundle: %v", g.err)
			}
		})
	}
}

// TestDaemonUpdateCommandErrors sends update commands the gateway answers
// with an error.
func TestDaemonUpdateCommandErrors(t *testing.T) {
	b := startBroker(t, "")
	pub, priv := testKey(6)
	good := offerOf([]byte("bundle"), 4096, "1.4.0")
	args := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	// One root with an update already on trial, one never installed.
	trial := newRoot(t, 1, b.URL(), pub)
	if _, err := update.New(trial).Install(t.Context(), bytes.NewReader(makeBundle(t, bundleSpec("1.1.0", 1, 2000), priv))); err != nil {
		t.Fatal(err)
	}
	bare := t.TempDir()
	writeFile(t, bare, "etc/hallgw/hallgw.yaml", []byte(gatewayYAML(startBroker(t, "").URL())))
	gTrial, gBare := startGateway(t, trial), startGateway(t, bare)

	tests := []struct {
		name string
		g    *gateway
		args json.RawMessage
		code string
	}{
		{"no args", gTrial, nil, uplink.CodeInvalid},
		{"upper-case sha256", gTrial, args(map[string]any{"sha256": "AB" + good.SHA256[2:], "size": 6, "chunk_size": 4096}), uplink.CodeInvalid},
		{"chunk too small", gTrial, args(map[string]any{"sha256": good.SHA256, "size": 6, "chunk_size": 100}), uplink.CodeInvalid},
		{"unknown field", gTrial, args(map[string]any{"sha256": good.SHA256, "size": 6, "chunk_size": 4096, "url": "x"}), uplink.CodeInvalid},
		{"update on trial", gTrial, args(Args{SHA256: good.SHA256, Size: 6, ChunkSize: 4096}), uplink.CodeRejected},
		{"no slots", gBare, args(Args{SHA256: good.SHA256, Size: 6, ChunkSize: 4096}), uplink.CodeUnavailable},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := uplink.For(tt.g.d)
			if u == nil {
				t.Fatal("no uplink")
			}
			p, err := uplink.EncodeCommand(&uplink.Request{ID: "u" + string(rune('a'+i)), Cmd: Cmd, Token: testToken, Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			r := u.Execute(t.Context(), p)
			if r.OK || r.Code != tt.code {
				t.Errorf("Execute(%s) = %+v, want code %s", p, r, tt.code)
			}
		})
	}
	if For(gBare.d) != nil {
		t.Error("a root without slots has an updater")
	}
	if _, ok := gBare.d.Status()[StatusSection]; ok {
		t.Error("a root without slots has a firmware status section")
	}
}
