package uplink

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// openConn opens the network connection to a broker for paho and wraps it
// in a batchConn. Measured against mosquitto (BenchmarkDrain), the bare
// socket cost four system calls per event: paho writes each packet with
// its own write and reads each packet a byte at a time (the fixed header,
// then each byte of the length), three reads per PUBACK.
func openConn(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: timeout}
	}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = dialer.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps":
		tc := o.TLSConfig
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		conn, err = tls.DialWithDialer(dialer, "tcp", uri.Host, tc)
	case "ws", "wss":
		u := *uri
		u.User = nil
		var tc *tls.Config
		if uri.Scheme == "wss" {
			tc = o.TLSConfig
		}
		conn, err = mqtt.NewWebsocket(u.String(), tc, timeout, o.HTTPHeaders, o.WebsocketOptions)
	default:
		return nil, errors.New("uplink: unsupported broker scheme " + uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newBatchConn(conn), nil
}

// batchWriteMax bounds the bytes waiting for the writer; a Write beyond it
// waits, which holds paho (and so the drain) back.
const batchWriteMax = 256 << 10

// batchConn is a net.Conn whose reads go through a buffer and whose writes
// are combined: Write queues the packet and returns, a writer goroutine
// sends everything queued with one system call. While one call is under
// way the next packets gather, so a busy connection sends many packets per
// call, and an idle one sends each packet at once (no Nagle-like delay).
// A write error is returned by the next Write and closes the connection,
// so paho sees the loss on both sides.
type batchConn struct {
	net.Conn
	r *bufio.Reader

	mu      sync.Mutex
	cond    *sync.Cond // signals the writer (queued data, closing) and waiting Writes (room)
	buf     []byte     // queued, not yet handed to the writer
	err     error      // first write error
	closing bool
	done    chan struct{} // closed when the writer has stopped
}

func newBatchConn(c net.Conn) *batchConn {
	b := &batchConn{Conn: c, r: bufio.NewReaderSize(c, 16<<10), done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.writer()
	return b
}

func (b *batchConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.err == nil && !b.closing && len(b.buf) > 0 && len(b.buf)+len(p) > batchWriteMax {
		b.cond.Wait()
	}
	switch {
	case b.err != nil:
		return 0, b.err
	case b.closing:
		return 0, net.ErrClosed
	}
	b.buf = append(b.buf, p...)
	b.cond.Broadcast()
	return len(p), nil
}

func (b *batchConn) writer() {
	defer close(b.done)
	var out []byte
	for {
		b.mu.Lock()
		for len(b.buf) == 0 && !b.closing && b.err == nil {
			b.cond.Wait()
		}
		if len(b.buf) == 0 || b.err != nil {
			b.mu.Unlock()
			return
		}
		out, b.buf = b.buf, out[:0]
		b.cond.Broadcast()
		b.mu.Unlock()
		if _, err := b.Conn.Write(out); err != nil {
			b.mu.Lock()
			b.err = err
			b.cond.Broadcast()
			b.mu.Unlock()
			b.Conn.Close()
			return
		}
	}
}

// Close sends what is queued (bounded by a short deadline), then closes.
func (b *batchConn) Close() error {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return nil
	}
	b.closing = true
	b.cond.Broadcast()
	b.mu.Unlock()
	b.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	<-b.done
	return b.Conn.Close()
}
