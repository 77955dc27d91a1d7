package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/scanner"
	"hallgw/drivers/scanner/scannersim"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/firmware/testkit"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

const gwID = "gw-t1"

// rig is an archive on a real journal and gateway (sample hall, window w1
// open by staff S001), with scanners on SANE's test backend.
type rig struct {
	t      *testing.T
	ctx    context.Context
	root   string
	clock  *clockwork.FakeClock
	j      *journal.Journal
	g      *gateway.Gateway
	health *health.Registry
	devs   map[string]Device
	free   uint64
	a      *Archive
}

type rigOpts struct {
	scanners map[string]scanner.Opts // window → options (device and config filled in)
	arch     Opts                    // extra archive options
}

// pngScanner is a colour pattern at 100 dpi: about 3.5 kB a page.
func pngScanner() scanner.Opts {
	return scanner.Opts{Resolution: 100, Mode: "Color", Args: []string{"--test-picture", "Color pattern"}}
}

func feeder(pages int) scanner.Opts {
	o := pngScanner()
	o.Source, o.Feeder, o.MaxPages = scanner.ADF, true, pages
	return o
}

func newRig(t *testing.T, ro rigOpts) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	dir := t.TempDir()
	r := &rig{t: t, ctx: ctx, root: filepath.Join(dir, "cases"), clock: clockwork.NewFakeClockAt(halltest.Start().Add(2 * time.Hour)),
		devs: map[string]Device{}, free: 1 << 40}
	var err error
	r.j, err = journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: gwID, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.j.Close() })
	r.g, err = gateway.Open(ctx, gateway.Options{Journal: r.j, GatewayID: gwID, Hall: halltest.Config(), Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.g.Close(context.Background()) })
	if _, err := r.g.Do(ctx, hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "S001"}); err != nil {
		t.Fatal(err)
	}
	r.health = health.NewRegistry(r.clock.Now)
	if len(ro.scanners) > 0 {
		prog := testkit.Tool(t, "scanimage")
		cfg, err := scannersim.Config(filepath.Join(dir, "sane"))
		if err != nil {
			t.Fatal(err)
		}
		for w, o := range ro.scanners {
			o.Program, o.ConfigDir = prog, cfg
			if o.Device == "" {
				o.Device = scannersim.Device
			}
			d, err := scanner.New(&o)
			if err != nil {
				t.Fatal(err)
			}
			r.devs[w] = d
		}
	}
	r.open(ro.arch)
	return r
}

// open (re)opens the archive on the rig's directory, as after a restart.
func (r *rig) open(o Opts) *Archive {
	r.t.Helper()
	if r.a != nil {
		r.a.Close()
	}
	o.Root, o.GatewayID, o.Devices, o.Journal, o.Hall, o.Health = r.root, gwID, r.devs, r.j, r.g, r.health
	o.Now, o.Clock = r.clock.Now, r.clock
	o.Free = func(string) (uint64, error) { return r.free, nil }
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := Open(r.ctx, o)
	if err != nil {
		r.t.Fatal(err)
	}
	r.a = a
	return a
}

func (r *rig) scan(window, caseNumber string) (ScanResult, error) {
	r.t.Helper()
	return r.a.Scan(r.ctx, window, caseNumber)
}

func (r *rig) mustScan(window, caseNumber string) ScanResult {
	r.t.Helper()
	res, err := r.scan(window, caseNumber)
	if err != nil {
		r.t.Fatalf("Scan(%s, %q) = %v", window, caseNumber, err)
	}
	return res
}

// records returns the journal's business records of a kind, decoded.
func records[T any](t *testing.T, j *journal.Journal, kind string) []T {
	t.Helper()
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []T
	err := j.Scan(0, func(rec journal.Record) error {
		if rec.Kind != kind {
			return nil
		}
		var v T
		if err := json.Unmarshal(rec.Data, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// platform is an in-memory Transport in front of a Receiver, with faults.
type platform struct {
	rcv *Receiver

	mu        sync.Mutex
	log       []Chunk // headers of every chunk received, in order
	failAfter int     // chunks taken before the link "drops"; <0 never
	badFinal  bool    // answer the last chunk with a wrong hash, once
	onLast    func(c Chunk)
}

func newPlatform() *platform { return &platform{rcv: NewReceiver(), failAfter: -1} }

var errLinkDown = errors.New("link down")

func (p *platform) Send(ctx context.Context, c Chunk) (Ack, error) {
	// Through the wire format, as on MQTT.
	msg, err := EncodeChunk(c)
	if err != nil {
		return Ack{}, err
	}
	c, err = DecodeChunk(msg)
	if err != nil {
		return Ack{}, err
	}
	p.mu.Lock()
	if p.failAfter == 0 {
		p.mu.Unlock()
		return Ack{}, errLinkDown
	}
	if p.failAfter > 0 {
		p.failAfter--
	}
	h := c
	h.Data = nil
	p.log = append(p.log, h)
	onLast, bad := p.onLast, p.badFinal && c.Last()
	if bad {
		p.badFinal = false
	}
	p.mu.Unlock()
	if c.Last() && onLast != nil {
		onLast(c)
	}
	if bad {
		c.Data = bytes.Repeat([]byte{'x'}, len(c.Data))
	}
	b, err := EncodeAck(p.rcv.Handle(c))
	if err != nil {
		return Ack{}, err
	}
	return DecodeAck(b)
}

func (p *platform) chunks() []Chunk {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Chunk(nil), p.log...)
}

// fileBytes reads a file of the archive.
func (r *rig) fileBytes(caseID, name string) []byte {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.root, caseID, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}
