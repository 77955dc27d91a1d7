package webtest

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Message is one message of an event stream, or a comment line.
type Message struct {
	ID, Type, Data string
	Comment        string
}

// Events reads an event stream (text/event-stream) over HTTP.
type Events struct {
	t    testing.TB
	Resp *http.Response
	br   *bufio.Reader
	stop context.CancelFunc
}

// Connect opens the stream at url, sending lastID as Last-Event-ID when it
// is not empty. The connection closes when the test ends or on Close.
func Connect(t testing.TB, url, lastID string) *Events {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		t.Fatalf("webtest: %v", err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("webtest: connect %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("webtest: connect %s: %s", url, resp.Status)
	}
	e := &Events{t: t, Resp: resp, br: bufio.NewReader(resp.Body), stop: cancel}
	t.Cleanup(e.Close)
	return e
}

// Close ends the connection.
func (e *Events) Close() {
	e.stop()
	e.Resp.Body.Close()
}

// Next returns the next message or comment; the retry field is skipped.
func (e *Events) Next() Message {
	e.t.Helper()
	var m Message
	var data []string
	for {
		line, err := e.br.ReadString('\n')
		if err != nil {
			e.t.Fatalf("webtest: read event stream: %v (so far %+v)", err, m)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if m.Comment != "" || m.Type != "" || data != nil {
				m.Data = strings.Join(data, "\n")
				return m
			}
		case strings.HasPrefix(line, ":"):
			m.Comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			m.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			m.Type = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		case strings.HasPrefix(line, "retry: "):
		default:
			e.t.Fatalf("webtest: unexpected line %q in event stream", line)
		}
	}
}

// NextOf returns the next message of type typ, skipping heartbeats and
// failing on any other message.
func (e *Events) NextOf(typ string) Message {
	e.t.Helper()
	for {
		m := e.Next()
		if m.Comment != "" {
			continue
		}
		if m.Type != typ {
			e.t.Fatalf("webtest: got %+v, want a %q message", m, typ)
		}
		return m
	}
}

// Ended reports whether the server ends the stream within Timeout,
// skipping whatever it still sends.
func (e *Events) Ended() bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := e.br.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
		return true
	case <-time.After(Timeout):
		return false
	}
}
