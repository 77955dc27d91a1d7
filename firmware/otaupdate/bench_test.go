package otaupdate

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/update"
)

// BenchmarkFetch downloads a 1 MiB bundle in 16 KiB chunks. "disk" writes
// the chunks from memory (each one synced, with its bitmap: the floor any
// transport pays); the others fetch them over the embedded broker from a
// platform Server with 1 (stop-and-wait), 4 (the default) and 8 requests
// outstanding, on loopback and through a proxy that adds a 20 ms round
// trip (a provincial broker). Compare the MB/s of one run with each other.
func BenchmarkFetch(b *testing.B) {
	const size, cs = 1 << 20, 16 << 10
	data := randomBytes(size)
	o := offerOf(data, cs, "")
	st := &update.Staging{Dir: b.TempDir()}
	begin := func(b *testing.B) *update.Download {
		b.StopTimer()
		defer b.StartTimer()
		if err := st.Prune(""); err != nil {
			b.Fatal(err)
		}
		d, err := st.Begin(o)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	b.Run("disk", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			d := begin(b)
			for i := range o.Chunks() {
				if err := d.WriteChunk(i, data[i*cs:i*cs+chunkLen(o, i)]); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := d.Complete(); err != nil {
				b.Fatal(err)
			}
		}
	})
	br := startBroker(b, "")
	file := writeFile(b, b.TempDir(), "b.tar", data)
	srv := platform(b, br.URL(), nil)
	if _, err := srv.Add(file, cs); err != nil {
		b.Fatal(err)
	}
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		url := br.URL()
		if rtt > 0 {
			url = "tcp://" + delayProxy(b, br.Addr(), rtt/2)
		}
		gw := dial(b, url, fmt.Sprintf("gateway-%v", rtt))
		for _, w := range []int{1, 4, 8} {
			fetchOver(b, fmt.Sprintf("mqtt-rtt-%v-window-%d", rtt, w), gw, w, size, begin)
		}
	}
}

// fetchOver runs one sub-benchmark fetching over the client gw.
func fetchOver(b *testing.B, name string, gw mqtt.Client, w int, size int64, begin func(*testing.B) *update.Download) {
	b.Run(name, func(b *testing.B) {
		opts := DefaultTransportOpts
		opts.Window = w
		tr, err := NewTransport(func() mqtt.Client { return gw }, testRoot, &opts)
		if err != nil {
			b.Fatal(err)
		}
		defer tr.Close()
		b.SetBytes(size)
		for b.Loop() {
			d := begin(b)
			src := tr.Source(d)
			if _, err := update.Fetch(b.Context(), d, src); err != nil {
				b.Fatal(err)
			}
			src.Close()
		}
	})
}

// delayProxy forwards TCP connections to target, holding every byte back
// by delay in each direction (the bytes keep flowing meanwhile: latency,
// not a bandwidth limit).
func delayProxy(b *testing.B, target string, delay time.Duration) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go delayCopy(t, c, delay)
			go delayCopy(c, t, delay)
		}
	}()
	return ln.Addr().String()
}

func delayCopy(dst io.WriteCloser, src io.ReadCloser, delay time.Duration) {
	type piece struct {
		at   time.Time
		data []byte
	}
	q := make(chan piece, 4096)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- piece{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	defer src.Close()
	for p := range q {
		time.Sleep(time.Until(p.at))
		if _, err := dst.Write(p.data); err != nil {
			return
		}
	}
}
