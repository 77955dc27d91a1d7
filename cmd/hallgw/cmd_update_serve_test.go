package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/install"
	"hallgw/firmware/mqttbroker"
	"hallgw/firmware/update"
)

// TestUpdateServeEndToEnd runs the real program twice: "hallgw run" as the
// gateway on a root laid down by the installer, and "hallgw update serve"
// pushing a signed bundle to it through a broker. The gateway installs the
// bundle into slot b and exits to restart into the trial.
func TestUpdateServeEndToEnd(t *testing.T) {
	bin := hallgwBinary(t)
	b := startServeBroker(t)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	root, tmp := t.TempDir(), t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("keys/"+update.KeyID(pub)+".pub", update.MarshalPublicKey(pub))
	cfg := write("hallgw.yaml", []byte(`version: v1
gateway:
  id: gw-e2e
  hall_id: hall-e2e
  data_dir: /var/lib/hallgw/data
http:
  listen: 127.0.0.1:0
mqtt:
  brokers: ["`+b.URL()+`"]
  reconnect_min: 50ms
  reconnect_max: 200ms
  command_token: e2e-token
`))
	if _, err := install.Install(install.Opts{Root: root, Binary: write("hallgw-1.0.0", []byte("\x7fELF hallgw 1.0.0")),
		Version: "1.0.0", SecurityVersion: 1, Board: "hallgw-e2e", KeysDir: filepath.Join(tmp, "keys"), ConfigFile: cfg}); err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	if _, err := update.WriteBundle(&bundle, update.BundleSpec{Version: "1.1.0", SecurityVersion: 2, Compatible: "hallgw-e2e",
		Payloads: []update.Payload{{Name: update.BinaryFileName(update.HostArch()), Arch: update.HostArch(), Mode: 0o755,
			Data: bytes.Repeat([]byte("\x7fELF hallgw 1.1.0 "), 400)}}}, priv); err != nil {
		t.Fatal(err)
	}
	bundlePath := write("hallgw-1.1.0.tar", bundle.Bytes())

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var gwOut bytes.Buffer
	gw := exec.CommandContext(ctx, bin, "run", "--root", root, "--config", filepath.Join(root, install.ConfigFile))
	gw.Stdout, gw.Stderr = &gwOut, &gwOut
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	gwDone := make(chan error, 1)
	go func() { gwDone <- gw.Wait() }()
	defer func() {
		if gw.ProcessState == nil {
			gw.Process.Kill()
			<-gwDone
		}
	}()

	serve := exec.CommandContext(ctx, bin, "update", "serve", "--broker", b.URL(), "--hall", "hall-e2e", "--gateway", "gw-e2e",
		"--token", "e2e-token", "--chunk-size", "1024", "--timeout", "60s", bundlePath)
	out, err := serve.CombinedOutput()
	if err != nil {
		t.Fatalf("hallgw update serve: %v\n%s\ngateway:\n%s", err, out, gwOut.String())
	}
	for _, want := range []string{"offering " + bundlePath + ": version 1.1.0", "installed version 1.1.0 (security version 2", "into slot b"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("hallgw update serve printed\n%s\nwant %q", out, want)
		}
	}
	select {
	case err := <-gwDone:
		if err != nil {
			t.Errorf("hallgw run exited with %v, want 0 (restart into the trial)\n%s", err, gwOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("hallgw run did not exit after the install\n%s", gwOut.String())
	}
	rep, err := update.Status(root)
	if err != nil || rep.Trial != "b" || rep.Current != "b" || rep.Slots[1].Version != "1.1.0" {
		t.Errorf("update.Status = %+v, %v, want 1.1.0 on trial in slot b", rep, err)
	}
}

func TestUpdateServeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no flags", []string{"update", "serve"}, 2},
		{"no bundle", []string{"update", "serve", "--broker", "tcp://127.0.0.1:1", "--hall", "h", "--gateway", "g"}, 2},
		{"no gateway", []string{"update", "serve", "--broker", "tcp://127.0.0.1:1", "--hall", "h", "x.tar"}, 2},
		{"missing bundle", []string{"update", "serve", "--broker", "tcp://127.0.0.1:1", "--hall", "h", "--gateway", "g", "/nonexistent.tar"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := dispatch(context.Background(), &env{stdout: &out, stderr: &errOut}, tt.args); code != tt.code {
				t.Errorf("hallgw %v = exit %d, want %d: %s", tt.args, code, tt.code, errOut.String())
			}
		})
	}
	// A gateway that never comes online: the push gives up at --timeout.
	b := startServeBroker(t)
	bundle := filepath.Join(t.TempDir(), "b.tar")
	if err := os.WriteFile(bundle, bytes.Repeat([]byte("x"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), &env{stdout: &out, stderr: &errOut},
		[]string{"update", "serve", "--broker", b.URL(), "--hall", "h", "--gateway", "g", "--timeout", "300ms", "--chunk-size", "1024", bundle})
	if code != 1 || !strings.Contains(errOut.String(), context.DeadlineExceeded.Error()) {
		t.Errorf("push to an offline gateway = exit %d, %q, want 1 and a deadline error", code, errOut.String())
	}
}

// startServeBroker starts an embedded broker that closes with the test,
// a moment after its clients left (mochi v2.7.9 can deadlock when a client
// detaches while it closes).
func startServeBroker(t *testing.T) *mqttbroker.Broker {
	t.Helper()
	b, err := mqttbroker.Start(mqttbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		time.Sleep(100 * time.Millisecond)
		b.Close()
	})
	return b
}
