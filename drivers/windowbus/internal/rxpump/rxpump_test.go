package rxpump

import (
	"errors"
	"io"
	"testing"
	"time"
)

func TestPump(t *testing.T) {
	r, w := io.Pipe()
	p := Start(r)
	defer p.Stop()
	if p.Wait(time.Now().Add(10 * time.Millisecond)) {
		t.Fatal("Wait = true with nothing sent")
	}
	go w.Write([]byte("abc"))
	if !p.Wait(time.Now().Add(10 * time.Second)) {
		t.Fatal("Wait = false after a write")
	}
	got := string(p.Take())
	for len(got) < 3 && p.Wait(time.Now().Add(10*time.Second)) {
		got += string(p.Take())
	}
	if got != "abc" {
		t.Errorf("Take = %q, want abc", got)
	}
	if b := p.Take(); len(b) != 0 {
		t.Errorf("second Take = %q, want nothing", b)
	}
	w.CloseWithError(errors.New("unplugged"))
	if !p.Wait(time.Now().Add(10 * time.Second)) {
		t.Fatal("Wait = false after the reader failed")
	}
	if err := p.Err(); err == nil || err.Error() != "unplugged" {
		t.Errorf("Err = %v, want unplugged", err)
	}
}

// timeoutReader returns (0, nil) like a serial port whose read timeout
// expired, then data.
type timeoutReader struct{ n int }

func (r *timeoutReader) Read(b []byte) (int, error) {
	r.n++
	if r.n < 500 {
		return 0, nil
	}
	if r.n == 500 {
		return copy(b, "x"), nil
	}
	return 0, io.EOF
}

func TestPumpToleratesEmptyReads(t *testing.T) {
	p := Start(&timeoutReader{})
	defer p.Stop()
	deadline := time.Now().Add(10 * time.Second)
	var got []byte
	for p.Err() == nil && time.Now().Before(deadline) {
		p.Wait(deadline)
		got = append(got, p.Take()...)
	}
	got = append(got, p.Take()...)
	if string(got) != "x" || !errors.Is(p.Err(), io.EOF) {
		t.Errorf("got %q, err %v; want x, EOF", got, p.Err())
	}
}
