package hall

import (
	"math"
	"testing"
	"time"
)

func TestEstimateFor(t *testing.T) {
	m := time.Minute
	cases := []struct {
		name  string
		ahead int
		mean  time.Duration
		open  int
		want  Estimate
	}{
		{"no window", 3, 5 * m, 0, Estimate{}},
		{"first in line, one window", 0, 5 * m, 1, Estimate{5 * m, 4 * m, 6 * m, true}},
		{"three ahead, two windows", 3, 5 * m, 2, Estimate{10 * m, 8 * m, 12 * m, true}},
		{"rounded outward", 0, 7 * m, 1, Estimate{7 * m, 5 * m, 9 * m, true}}, // 5.6 → 5, 8.4 → 9
		{"floor one minute", 0, 30 * time.Second, 1, Estimate{30 * time.Second, m, m, true}},
		{"negative ahead is zero", -4, 5 * m, 1, Estimate{5 * m, 4 * m, 6 * m, true}},
		{"huge queue does not overflow: capped at 30 days", math.MaxInt, 24 * time.Hour, 1,
			Estimate{30 * 24 * time.Hour, 576 * time.Hour, 864 * time.Hour, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := estimateFor(c.ahead, c.mean, c.open); got != c.want {
				t.Errorf("estimateFor(%d, %v, %d) = %+v, want %+v", c.ahead, c.mean, c.open, got, c.want)
			}
		})
	}
}

func TestEWMA(t *testing.T) {
	cases := []struct {
		name   string
		old, x time.Duration
		w      int
		want   time.Duration
	}{
		{"20 percent up", 10 * time.Minute, 15 * time.Minute, 20, 11 * time.Minute},
		{"20 percent down", 10 * time.Minute, 5 * time.Minute, 20, 9 * time.Minute},
		{"full weight", 10 * time.Minute, 3 * time.Minute, 100, 3 * time.Minute},
		{"negative sample is zero", 10 * time.Minute, -time.Hour, 50, 5 * time.Minute},
		{"sample capped at a day", 0, 48 * time.Hour, 100, 24 * time.Hour},
		{"integer truncation", 7, 10, 50, 8}, // 7 + 3*50/100 = 7 + 1
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ewma(c.old, c.x, c.w); got != c.want {
				t.Errorf("ewma(%v, %v, %d) = %v, want %v", c.old, c.x, c.w, got, c.want)
			}
		})
	}
}

func TestNextBoundary(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		t       time.Time
		loc     *time.Location
		resetAt time.Duration
		want    time.Time
	}{
		{"before reset same day", time.Date(2026, 3, 2, 3, 0, 0, 0, sh), sh, 4 * time.Hour, time.Date(2026, 3, 2, 4, 0, 0, 0, sh)},
		{"after reset next day", time.Date(2026, 3, 2, 9, 0, 0, 0, sh), sh, 4 * time.Hour, time.Date(2026, 3, 3, 4, 0, 0, 0, sh)},
		{"exactly at reset is next day", time.Date(2026, 3, 2, 4, 0, 0, 0, sh), sh, 4 * time.Hour, time.Date(2026, 3, 3, 4, 0, 0, 0, sh)},
		{"midnight reset", time.Date(2026, 12, 31, 23, 59, 0, 0, sh), sh, 0, time.Date(2027, 1, 1, 0, 0, 0, 0, sh)},
		{"UTC", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.UTC, 90 * time.Minute, time.Date(2026, 3, 3, 1, 30, 0, 0, time.UTC)},
		{"wall clock across DST", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), ny, 4 * time.Hour, time.Date(2026, 3, 8, 4, 0, 0, 0, ny)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := nextBoundary(c.t, c.loc, c.resetAt); !got.Equal(c.want) {
				t.Errorf("nextBoundary(%v, %v) = %v, want %v", c.t, c.resetAt, got, c.want.UTC())
			}
		})
	}
}

func TestLastBoundary(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		t    time.Time
		want time.Time
	}{
		{"late in the day", time.Date(2026, 3, 2, 9, 0, 0, 0, sh), time.Date(2026, 3, 2, 4, 0, 0, 0, sh)},
		{"at the reset", time.Date(2026, 3, 2, 4, 0, 0, 0, sh), time.Date(2026, 3, 2, 4, 0, 0, 0, sh)},
		{"before the reset", time.Date(2026, 3, 2, 3, 59, 0, 0, sh), time.Date(2026, 3, 1, 4, 0, 0, 0, sh)},
		{"new year", time.Date(2027, 1, 1, 1, 0, 0, 0, sh), time.Date(2026, 12, 31, 4, 0, 0, 0, sh)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := lastBoundary(c.t, sh, 4*time.Hour); !got.Equal(c.want) {
				t.Errorf("lastBoundary(%v) = %v, want %v", c.t, got, c.want.UTC())
			}
		})
	}
}

func TestAgeAt(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	birth := time.Date(1966, 3, 2, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		now  time.Time
		want int
	}{
		{"birthday, local date", time.Date(2026, 3, 2, 0, 30, 0, 0, sh), 60}, // still 1 March in UTC
		{"day before", time.Date(2026, 3, 1, 23, 59, 0, 0, sh), 59},
		{"later in the year", time.Date(2026, 11, 1, 9, 0, 0, 0, sh), 60},
		{"earlier month", time.Date(2026, 2, 28, 9, 0, 0, 0, sh), 59},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ageAt(birth, c.now, sh); got != c.want {
				t.Errorf("ageAt(%v, %v) = %d, want %d", birth, c.now, got, c.want)
			}
		})
	}
	leap := time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)
	if got := ageAt(leap, time.Date(2060, 2, 28, 12, 0, 0, 0, sh), sh); got != 59 {
		t.Errorf("ageAt(29 Feb 2000, 28 Feb 2060) = %d, want 59", got)
	}
	if got := ageAt(leap, time.Date(2060, 3, 1, 12, 0, 0, 0, sh), sh); got != 60 {
		t.Errorf("ageAt(29 Feb 2000, 1 Mar 2060) = %d, want 60", got)
	}
}

func TestBucket(t *testing.T) {
	cases := []struct {
		wait time.Duration
		want int
	}{
		{-time.Second, 0}, {0, 0}, {3*time.Minute - 1, 0}, {3 * time.Minute, 1}, {8 * time.Minute, 2},
		{11 * time.Minute, 3}, {14 * time.Minute, 4}, {15 * time.Minute, 5}, {5 * time.Hour, 5},
	}
	for _, c := range cases {
		t.Run(c.wait.String(), func(t *testing.T) {
			if got := bucket(c.wait); got != c.want {
				t.Errorf("bucket(%v) = %d, want %d", c.wait, got, c.want)
			}
		})
	}
}

func TestWireTime(t *testing.T) {
	cases := []struct {
		name string
		t    time.Time
		ok   bool
	}{
		{"zero", time.Time{}, true},
		{"epoch", time.Unix(0, 0), true},
		{"before epoch", time.Date(1950, 6, 1, 1, 2, 3, 4, time.UTC), true},
		{"nanoseconds", time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC), true},
		{"lower bound", minTime, true},
		{"upper bound", maxTime, true},
		{"too early", minTime.Add(-1), false},
		{"too late", maxTime.Add(1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &wbuf{}
			w.time(c.t)
			if (w.err == nil) != c.ok {
				t.Fatalf("wbuf.time(%v) error = %v, want ok %v", c.t, w.err, c.ok)
			}
			if !c.ok {
				return
			}
			r := &rbuf{b: w.b}
			if got := r.time(); !got.Equal(c.t) || r.err != nil || len(r.b) != 0 {
				t.Errorf("rbuf.time(wbuf.time(%v)) = %v, %v, want %v", c.t, got, r.err, c.t)
			}
		})
	}
}

func TestRbufCountLimits(t *testing.T) {
	// A claimed length larger than the data must fail, not allocate.
	w := &wbuf{}
	w.uvarint(1 << 40)
	r := &rbuf{b: w.b}
	if n := r.count(1); n != 0 || r.err == nil {
		t.Errorf("count(huge) = %d, %v, want 0 and an error", n, r.err)
	}
	r = &rbuf{b: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}
	if v := r.uvarint(); v != 0 || r.err == nil {
		t.Errorf("uvarint(overflow) = %d, %v, want 0 and an error", v, r.err)
	}
}
