package archive

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"

	"hallgw/drivers/scanner"
	"hallgw/drivers/scanner/scannersim"
	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/firmware/testkit"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

func TestScannerOpts(t *testing.T) {
	ac := config.Archive{Program: "/usr/bin/scanimage", SANEConfigDir: "/etc/hallgw/sane"}
	root := func(p string) string { return "/root" + p }
	tests := []struct {
		name string
		s    config.Scanner
		want scanner.Opts
	}{
		{"defaults", config.Scanner{Window: "w1", Device: "test:0"},
			scanner.Opts{Program: "/usr/bin/scanimage", Device: "test:0", ConfigDir: "/root/etc/hallgw/sane", Resolution: 200,
				Mode: "Gray", Format: scanner.PNG, MaxPages: 100, Timeout: 2 * time.Minute}},
		{"feeder", config.Scanner{Window: "w1", Device: "fujitsu:fi-7160:1", Source: "adf", Format: "tiff", MaxPages: 30, Mode: "Color", Resolution: 300},
			scanner.Opts{Program: "/usr/bin/scanimage", Device: "fujitsu:fi-7160:1", ConfigDir: "/root/etc/hallgw/sane", Source: scanner.ADF,
				Feeder: true, Resolution: 300, Mode: "Color", Format: scanner.TIFF, MaxPages: 30, Timeout: 2 * time.Minute}},
		{"duplex feeder by name", config.Scanner{Window: "w1", Device: "d", Source: "adf", SourceName: "ADF Duplex"},
			scanner.Opts{Program: "/usr/bin/scanimage", Device: "d", ConfigDir: "/root/etc/hallgw/sane", Source: "ADF Duplex",
				Feeder: true, Resolution: 200, Mode: "Gray", Format: scanner.PNG, MaxPages: 100, Timeout: 2 * time.Minute}},
		{"flatbed", config.Scanner{Window: "w1", Device: "d", Source: "flatbed"},
			scanner.Opts{Program: "/usr/bin/scanimage", Device: "d", ConfigDir: "/root/etc/hallgw/sane", Source: scanner.Flatbed,
				Resolution: 200, Mode: "Gray", Format: scanner.PNG, MaxPages: 100, Timeout: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScannerOpts(ac, tt.s, root)
			if got.Program != tt.want.Program || got.Device != tt.want.Device || got.ConfigDir != tt.want.ConfigDir ||
				got.Source != tt.want.Source || got.Feeder != tt.want.Feeder || got.Resolution != tt.want.Resolution ||
				got.Mode != tt.want.Mode || got.Format != tt.want.Format || got.MaxPages != tt.want.MaxPages || got.Timeout != tt.want.Timeout {
				t.Errorf("ScannerOpts = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestComponent runs the archive as the daemon does: configured scanner,
// the hall feed ending window cases, delivery through the uplink's client
// (UplinkClient) over the embedded broker, the status section, and a pedal
// whose pin does not exist reported in health without stopping anything.
func TestComponent(t *testing.T) {
	prog := testkit.Tool(t, "scanimage")
	dir := t.TempDir()
	if _, err := scannersim.Config(filepath.Join(dir, "sane")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clock := clockwork.NewFakeClockAt(halltest.Start().Add(2 * time.Hour))
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: gwID, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	g, err := gateway.Open(ctx, gateway.Options{Journal: j, GatewayID: gwID, Hall: halltest.Config(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	cfg := config.Default()
	cfg.Gateway.ID, cfg.Gateway.HallID, cfg.Gateway.DataDir, cfg.MQTT.TopicPrefix = gwID, "hall-t", "/data", "hallgw"
	d := &daemon.Daemon{
		Options: daemon.Options{Config: &config.Loaded{Config: cfg, Hash: "0123456789abcdef"}, Root: dir,
			Now: clock.Now, Logger: slog.New(slog.DiscardHandler)},
		Cfg: cfg, Journal: j, Gateway: g, Health: health.NewRegistry(clock.Now), Ctx: ctx,
	}

	if c, err := NewComponent(d, config.Archive{}, nil); c != nil || err != nil {
		t.Fatalf("NewComponent without scanners = %v, %v; want nothing", c, err)
	}

	url := startBroker(t)
	p := startPlatform(t, url, TopicRoot("hallgw", "hall-t", gwID))
	client := connect(t, url, "gw-uplink")
	UplinkClient = func(dd *daemon.Daemon) paho.Client {
		if dd != d {
			return nil
		}
		return client
	}
	defer func() { UplinkClient = nil }()

	c, err := NewComponent(d, config.Archive{Program: prog, SANEConfigDir: "/sane", ChunkSize: 1024},
		[]config.Scanner{{Window: "w1", Device: "test:0", Resolution: 100, Pedal: "NO_SUCH_PIN"}})
	if err != nil || c == nil {
		t.Fatalf("NewComponent = %v, %v", c, err)
	}
	a := For(d)
	if a == nil {
		t.Fatal("For(d) = nil")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if dv, ok := d.Health.Get("window-w1/pedal"); !ok || dv.State != health.Down {
		t.Errorf("pedal health = %+v, want down", dv)
	}

	if err := a.SetCase("w1", caseNo); err != nil {
		t.Fatal(err)
	}
	res, err := a.Scan(ctx, "w1", "")
	if err != nil || res.Case != caseNo {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	// Calling a ticket at w1 ends its case, through the hall feed.
	if _, err := g.Do(ctx, hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "S001"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Case("w1") != "" || len(p.rcv.Received()) != 1 || a.Status().Files != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("case w1 = %q, platform holds %d files; want the case ended and the page delivered", a.Case("w1"), len(p.rcv.Received()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	st, ok := d.Status()["archive"].(Status)
	if !ok || !st.Connected || st.Files != 0 {
		t.Errorf("status section = %#v", d.Status()["archive"])
	}
	stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := c.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if For(d) != nil {
		t.Error("For(d) after Stop")
	}
}
