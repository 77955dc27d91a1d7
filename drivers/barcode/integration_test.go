package barcode_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/barcode"
	"hallgw/drivers/barcode/barcodesim"
	"hallgw/firmware/serialport"
)

func TestPTYScans(t *testing.T) {
	tests := []struct {
		name   string
		sim    barcodesim.Opts
		driver barcode.Opts
	}{
		{"factory CR, auto", barcodesim.Opts{Baud: 9600, Suffix: "\r"}, barcode.Opts{}},
		{"CRLF with AIM at 115200", barcodesim.Opts{Baud: 115200, Suffix: "\r\n", AIM: "]Q1"}, barcode.Opts{Suffix: "\r\n", AIM: true}},
		{"tab with a prefix", barcodesim.Opts{Baud: 9600, Suffix: "\t", Prefix: "K7"}, barcode.Opts{Suffix: "\t", Prefix: "K7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := barcodesim.Start(&tt.sim)
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			port, err := serialport.Open(sim.Path(), serialport.Mode{Baud: tt.sim.Baud})
			if err != nil {
				t.Fatal(err)
			}
			defer port.Close()
			sc, err := barcode.New(port, &tt.driver)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sc.String(), sim.Path()) {
				t.Errorf("String() = %q, want the port", sc.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			want := []struct {
				send string
				kind barcode.Kind
				id   string
			}{
				{"HALLGW-APPT:A20240506-0042", barcode.KindAppointment, "A20240506-0042"},
				{"4301002024050600012", barcode.KindCase, "4301002024050600012"},
				{"https://example.org/x", barcode.KindUnknown, ""},
			}
			go func() {
				for _, w := range want {
					sim.Scan(w.send)
				}
				sim.SendRaw([]byte(tt.sim.Prefix + "GARBLED\x1b[0m" + tt.sim.Suffix)) // line noise
				sim.Scan("HALLGW-APPT:LAST")
			}()
			for _, w := range want {
				s, err := sc.Next(ctx)
				if err != nil {
					t.Fatalf("Next = %v, want %q", err, w.send)
				}
				code, err := barcode.ParseCode(s.Data)
				if err != nil || code.Kind != w.kind || code.ID != w.id || s.Data != w.send {
					t.Errorf("scan %q → %+v, %v; want %v %q", s.Data, code, err, w.kind, w.id)
				}
				if tt.driver.AIM && s.Symbology != tt.sim.AIM {
					t.Errorf("Symbology = %q, want %q", s.Symbology, tt.sim.AIM)
				}
			}
			if _, err := sc.Next(ctx); !errors.Is(err, barcode.ErrNonPrintable) {
				t.Errorf("Next on line noise = %v, want ErrNonPrintable", err)
			}
			if s, err := sc.Next(ctx); err != nil || s.Data != "HALLGW-APPT:LAST" {
				t.Errorf("Next after line noise = %q, %v", s.Data, err)
			}
		})
	}
}
