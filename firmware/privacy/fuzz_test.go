package privacy

import (
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// FuzzOpen feeds arbitrary bytes to Open: it must refuse them with one of
// its errors, never panic; and whatever it is given to seal it opens again
// unchanged.
func FuzzOpen(f *testing.F) {
	clock := clockwork.NewFakeClockAt(t0)
	k := open(f, f.TempDir(), clock, 30*24*time.Hour)
	good, err := k.Seal(t0, "seed")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "王小明")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		var s any
		err := k.Open(data, &s)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrExpired) {
			t.Fatalf("Open(% x) = %v: not one of the package's errors", data, err)
		}
		sealed, err := k.Seal(t0, value)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := k.Open(sealed, &back); err != nil || back != toValidUTF8(value) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", value, back, err)
		}
	})
}

// toValidUTF8 is what encoding/json makes of a string.
func toValidUTF8(s string) string {
	b := []rune(s)
	return string(b)
}

// FuzzHolderHash checks that the hash is well formed, that normalising is
// idempotent and that the hash depends on the normalised number only.
func FuzzHolderHash(f *testing.F) {
	k := open(f, f.TempDir(), clockwork.NewFakeClockAt(t0), time.Hour)
	f.Add("11010519491231002x")
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalise(s)
		if Normalise(n) != n {
			t.Fatalf("Normalise(Normalise(%q)) = %q, want %q", s, Normalise(n), n)
		}
		h := k.HolderHash(s)
		if !ValidHolderHash(h) {
			t.Fatalf("HolderHash(%q) = %q: not a holder hash", s, h)
		}
		if k.HolderHash(n) != h {
			t.Fatalf("HolderHash(%q) differs from HolderHash of its normal form", s)
		}
	})
}
