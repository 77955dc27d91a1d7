package escpos

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// With FreshStatus, a ticket printed right after a status read goes out
// without asking again (its first byte leaves at once); a stale status, or
// one that could not print, is asked again; the read after printing stays.
func TestPrintTicketFreshStatus(t *testing.T) {
	tk := SampleTicket(testTime)
	want, _ := NewBuilder(GB18030).Ticket(tk, Width80).Bytes()
	tests := []struct {
		name      string
		age       time.Duration // since the last status read
		lastPaper byte          // DLE EOT 4 reply at that read
		wantWire  []byte
		wantErr   error
	}{
		{"fresh: no query before", 500 * time.Millisecond, 0x12, append(append([]byte{}, want...), queries(1)...), nil},
		{"stale: asks again", 2 * time.Second, 0x12, append(append(queries(1), want...), queries(1)...), nil},
		{"fresh but out of paper: asks again", 100 * time.Millisecond, 0x72, queries(1), ErrPaperEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOpts
			o.FreshStatus = time.Second
			p, d := newFakePrinter(t, o)
			d.status[3] = tt.lastPaper
			if _, err := p.Status(context.Background()); err != nil {
				t.Fatal(err)
			}
			d.written = nil
			d.clock.t = d.clock.t.Add(tt.age)
			err := p.PrintTicket(context.Background(), tk)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("PrintTicket() = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(d.written, tt.wantWire) {
				t.Errorf("wire =\n%swant\n%s", hexdump(d.written), hexdump(tt.wantWire))
			}
		})
	}
}
