package privacy

import (
	"fmt"
	"strconv"
	"time"
)

// day is a calendar day written as the number YYYYMMDD.
type day uint32

func dayOf(t time.Time, loc *time.Location) day {
	y, m, d := t.In(loc).Date()
	if y < 1 || y > 9999 {
		y = min(max(y, 1), 9999)
	}
	return day(y*10000 + int(m)*100 + d)
}

func (d day) parts() (y int, m time.Month, dd int) {
	return int(d / 10000), time.Month(d / 100 % 100), int(d % 100)
}

// valid reports whether d names a real date.
func (d day) valid() bool {
	y, m, dd := d.parts()
	if y < 1 || y > 9999 || m < 1 || m > 12 || dd < 1 {
		return false
	}
	t := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	return t.Day() == dd && t.Month() == m
}

// start returns midnight of d in loc.
func (d day) start(loc *time.Location) time.Time {
	y, m, dd := d.parts()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// next returns the following day.
func (d day) next() day {
	return dayOf(d.start(time.UTC).AddDate(0, 0, 1), time.UTC)
}

// String returns YYYYMMDD.
func (d day) String() string { return fmt.Sprintf("%08d", uint32(d)) }

// dashed returns YYYY-MM-DD.
func (d day) dashed() string {
	y, m, dd := d.parts()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}

func parseDay(s string) (day, bool) {
	if len(s) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || !day(n).valid() {
		return 0, false
	}
	return day(n), true
}
