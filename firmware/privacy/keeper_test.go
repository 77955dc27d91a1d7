package privacy

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

const testSecret = "hallgw-example-hall-secret"

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// t0 is 10:00 on 2 March 2026 in the hall.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)

func open(t testing.TB, dir string, clock clockwork.Clock, retention time.Duration) *Keeper {
	t.Helper()
	k, err := Open(dir, Opts{Secret: []byte(testSecret), Retention: retention, Now: clock.Now, Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// subject is a made-up person: area code 000000 belongs to no place.
func subject() Subject {
	return Subject{Name: "王小明", Number: "000000198506150011", Birth: time.Date(1985, 6, 15, 0, 0, 0, 0, time.UTC), Sex: "男"}
}

func TestHolderHash(t *testing.T) {
	k := open(t, t.TempDir(), clockwork.NewFakeClockAt(t0), 24*time.Hour)
	// The vectors are what `printf %s NUMBER | openssl dgst -sha256 -hmac
	// SECRET` prints (docs/privacy.md).
	const vec = "h1:36796cb53117e77f3d54e860160bef2363f6d06bda3b7a3dc8227bd09ab3d905"
	tests := []struct {
		name, in, want string
	}{
		{"as printed", "11010519491231002X", vec},
		{"lower-case x", "11010519491231002x", vec},
		{"spaces and tab", " 110105 19491231 002X\t", vec},
		{"full-width digits", "１１０１０５１９４９１２３１００２Ｘ", vec},
		{"ideographic space", "110105\u300019491231002X", vec},
		{"other number", "000000199001010000", "h1:4f489c541f1c5fffe168a48c22b2dcaf04f6ca93df668197b6722a0974d4744b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.HolderHash(tt.in); got != tt.want {
				t.Errorf("HolderHash(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if !ValidHolderHash(k.HolderHash(tt.in)) {
				t.Errorf("ValidHolderHash(HolderHash(%q)) = false", tt.in)
			}
		})
	}
	other, err := Open(t.TempDir(), Opts{Secret: []byte("another-hall-secret-0001"), Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if other.HolderHash("11010519491231002X") == vec {
		t.Error("two secrets gave the same holder hash")
	}
}

func TestValidHolderHash(t *testing.T) {
	good := "h1:" + strings.Repeat("0a", 32)
	tests := []struct {
		in   string
		want bool
	}{
		{good, true},
		{strings.ToUpper(good), false},
		{"h2:" + strings.Repeat("0a", 32), false},
		{good[:len(good)-1], false},
		{good + "0", false},
		{"h1:" + strings.Repeat("0g", 32), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidHolderHash(tt.in); got != tt.want {
			t.Errorf("ValidHolderHash(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSealOpen(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	k := open(t, t.TempDir(), clock, 30*24*time.Hour)
	s := subject()
	sealed, err := k.Seal(clock.Now(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{s.Name, s.Number, "1985"} {
		if bytes.Contains(sealed, []byte(secret)) {
			t.Errorf("sealed bytes contain %q", secret)
		}
	}
	var got Subject
	if err := k.Open(sealed, &got); err != nil {
		t.Fatalf("Open = %v", err)
	}
	if got != s {
		t.Errorf("Open = %+v, want the sealed subject", []string{got.Name, got.Number})
	}
	day, err := k.SealedDay(sealed)
	if err != nil || !day.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)) {
		t.Errorf("SealedDay = %v, %v; want 2026-03-02 00:00 +0800", day, err)
	}
	// Two seals of the same value differ (fresh nonce).
	again, _ := k.Seal(clock.Now(), s)
	if bytes.Equal(again, sealed) {
		t.Error("two seals are identical")
	}
	// A reopened keeper reads what the first sealed.
	k2 := open(t, k.Dir(), clock, 30*24*time.Hour)
	got = Subject{}
	if err := k2.Open(sealed, &got); err != nil || got != s {
		t.Errorf("reopened Open = %v", err)
	}
}

func TestRetention(t *testing.T) {
	const retention = 30 * 24 * time.Hour
	clock := clockwork.NewFakeClockAt(t0)
	k := open(t, t.TempDir(), clock, retention)
	sealed, err := k.Seal(clock.Now(), subject())
	if err != nil {
		t.Fatal(err)
	}
	// The day ends at midnight in the hall; it stays readable for the
	// retention after that.
	expiry := time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai).Add(retention)
	steps := []struct {
		name    string
		at      time.Time
		enforce int // keys Enforce deletes
		want    error
	}{
		{"same day", t0.Add(time.Hour), 0, nil},
		{"a second before expiry", expiry.Add(-time.Second), 0, nil},
		{"at expiry", expiry, 1, ErrExpired},
		{"a year later", expiry.AddDate(1, 0, 0), 0, ErrExpired},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Advance(st.at.Sub(clock.Now()))
			// Open refuses an expired day even before Enforce.
			var s Subject
			if err := k.Open(sealed, &s); !errors.Is(err, st.want) {
				t.Fatalf("Open before Enforce = %v, want %v", err, st.want)
			}
			n, err := k.Enforce()
			if err != nil || n != st.enforce {
				t.Fatalf("Enforce() = %d, %v; want %d", n, err, st.enforce)
			}
			if err := k.Open(sealed, &s); !errors.Is(err, st.want) {
				t.Fatalf("Open after Enforce = %v, want %v", err, st.want)
			}
		})
	}
	if days, _ := k.Days(); len(days) != 0 {
		t.Errorf("Days() = %v after expiry, want none", days)
	}
	if k.Stats().Shredded != "2026-03-02" {
		t.Errorf("Stats().Shredded = %q, want 2026-03-02", k.Stats().Shredded)
	}
	// Shredding is for good: a keeper reopened with a longer retention
	// still refuses the day.
	k2 := open(t, k.Dir(), clock, 10*365*24*time.Hour)
	var s Subject
	if err := k2.Open(sealed, &s); !errors.Is(err, ErrExpired) {
		t.Errorf("Open with a longer retention after shredding = %v, want ErrExpired", err)
	}
	// Sealing for an expired day is refused.
	if _, err := k.Seal(t0, subject()); !errors.Is(err, ErrExpired) {
		t.Errorf("Seal(expired day) = %v, want ErrExpired", err)
	}
}

func TestEnforceKeepsRecentDays(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	k := open(t, t.TempDir(), clock, 3*24*time.Hour)
	var sealed [][]byte
	for i := range 6 {
		b, err := k.Seal(t0.AddDate(0, 0, i), Subject{Name: fmt.Sprint("n", i), Number: "000000198506150011"})
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, b)
	}
	// Now is day 5 (7 March) 10:00: days up to 3 March ended more than 3
	// days ago.
	clock.Advance(5 * 24 * time.Hour)
	n, err := k.Enforce()
	if err != nil || n != 2 {
		t.Fatalf("Enforce() = %d, %v; want 2", n, err)
	}
	for i, b := range sealed {
		var s Subject
		err := k.Open(b, &s)
		if wantGone := i < 2; wantGone != errors.Is(err, ErrExpired) {
			t.Errorf("day %d: Open = %v, want expired %v", i, err, wantGone)
		}
	}
	if days, _ := k.Days(); len(days) != 4 || days[0] != 20260304 {
		t.Errorf("Days() = %v, want 4 days from 20260304", days)
	}
}

func TestOpenErrors(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	k := open(t, t.TempDir(), clock, 24*time.Hour)
	good, err := k.Seal(t0, subject())
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	other := open(t, t.TempDir(), clock, 24*time.Hour)
	foreign, err := other.Seal(t0, subject())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short", good[:SealOverhead-1], ErrCorrupt},
		{"version", flip(0), ErrCorrupt},
		{"day changed", flip(4), ErrNoKey}, // 20260302 → 20260303: a day without a key
		{"nonce changed", flip(7), ErrCorrupt},
		{"ciphertext changed", flip(len(good) - 20), ErrCorrupt},
		{"tag changed", flip(len(good) - 1), ErrCorrupt},
		{"truncated tag", good[:len(good)-1], ErrCorrupt},
		{"bad date", append([]byte{1, 0x01, 0x35, 0x30, 0x2F}, good[5:]...), ErrCorrupt}, // 20262959
		{"another keystore", foreign, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Subject
			err := k.Open(tt.in, &s)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), subject().Number) || strings.Contains(err.Error(), subject().Name) {
				t.Errorf("error %q quotes personal data", err)
			}
		})
	}
	// A day the keystore never had a key for.
	fresh := open(t, t.TempDir(), clock, 24*time.Hour)
	var s Subject
	if err := fresh.Open(good, &s); !errors.Is(err, ErrNoKey) {
		t.Errorf("Open in an empty keystore = %v, want ErrNoKey", err)
	}
}

func TestOpenKeystore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "privacy")
	clock := clockwork.NewFakeClockAt(t0)
	k := open(t, dir, clock, 24*time.Hour)
	if _, err := k.Seal(t0, subject()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("keystore mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("keystore holds %d files, want keystore.json and one day key", len(ents))
	}
	for _, e := range ents {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", e.Name(), info.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte(testSecret)) {
			t.Errorf("%s holds the secret", e.Name())
		}
	}
	tests := []struct {
		name string
		o    Opts
		want string
	}{
		{"other secret", Opts{Secret: []byte("another-hall-secret-0001"), Retention: time.Hour}, "does not open"},
		{"short secret", Opts{Secret: []byte("short"), Retention: time.Hour}, "at least 16"},
		{"no retention", Opts{Secret: []byte(testSecret)}, "retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(dir, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Open(dir, Opts{Secret: []byte("another-hall-secret-0001"), Retention: time.Hour}); !errors.Is(err, ErrSecret) {
		t.Errorf("Open with another secret = %v, want ErrSecret", err)
	}
	// A damaged day key is reported, not taken for another day's.
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), keyPrefix) {
			os.WriteFile(filepath.Join(dir, e.Name()), []byte("garbage"), 0o600)
		}
	}
	k2 := open(t, dir, clock, 24*time.Hour)
	if _, err := k2.Seal(t0, subject()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Seal with a damaged day key = %v, want ErrCorrupt", err)
	}
}

func TestUpstream(t *testing.T) {
	s := subject()
	s.Number = "00000019850615001x"
	tests := []struct {
		name       string
		clear      bool
		wantName   string
		wantNumber string
	}{
		{"default: hash and masked", false, "王*明", "0000**********001X"},
		{"upstream_clear", true, "王小明", "00000019850615001X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Open(t.TempDir(), Opts{Secret: []byte(testSecret), Retention: time.Hour, UpstreamClear: tt.clear})
			if err != nil {
				t.Fatal(err)
			}
			p := k.Upstream(s)
			if p.Name != tt.wantName || p.Number != tt.wantNumber || p.Clear != tt.clear || p.HolderHash != k.HolderHash(s.Number) {
				t.Errorf("Upstream = %+v, want name %s number %s clear %v and the holder hash", p, tt.wantName, tt.wantNumber, tt.clear)
			}
		})
	}
}

func TestSubjectPrintsMasked(t *testing.T) {
	s := subject()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("swipe", "subject", s)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%d": fmt.Sprintf("%d", s),
		"slog": logged.String(), "String": s.String(),
	}
	for verb, out := range outputs {
		if strings.Contains(out, s.Name) || strings.Contains(out, s.Number) {
			t.Errorf("%s printed %q, which holds clear data", verb, out)
		}
		if !strings.Contains(out, "王*明") {
			t.Errorf("%s printed %q, want the masked name", verb, out)
		}
	}
}

func TestNormaliseIdempotent(t *testing.T) {
	for _, in := range []string{"11010519491231002x", " １２３ ｘ ", "", "abc\u3000def", "ǅ"} {
		n := Normalise(in)
		if Normalise(n) != n {
			t.Errorf("Normalise(Normalise(%q)) = %q, want %q", in, Normalise(n), n)
		}
	}
}
