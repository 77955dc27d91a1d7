package display

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Filter is the set of window numbers a display shows; the zero Filter
// shows every window.
type Filter struct {
	nums []int // sorted, distinct
}

// Bounds of a window filter.
const (
	maxFilterLen    = 200  // characters of the query value
	maxWindowNumber = 9999 // window numbers are small in every hall
)

// ParseFilter reads a list of window numbers and ranges, "1-10,15": numbers
// 1…9999 in decimal, ranges low-high with low ≤ high, separated by commas;
// spaces are allowed around items. "" is the zero Filter (every window).
func ParseFilter(s string) (Filter, error) {
	if strings.TrimSpace(s) == "" {
		return Filter{}, nil
	}
	if len(s) > maxFilterLen {
		return Filter{}, fmt.Errorf("display: windows %.20q…: longer than %d characters", s, maxFilterLen)
	}
	var nums []int
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := windowNumber(lo)
		if err != nil {
			return Filter{}, fmt.Errorf("display: windows %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = windowNumber(hi); err != nil {
				return Filter{}, fmt.Errorf("display: windows %q: %w", s, err)
			}
			if b < a {
				return Filter{}, fmt.Errorf("display: windows %q: range %d-%d goes down", s, a, b)
			}
		}
		for n := a; n <= b; n++ {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return Filter{nums: slices.Compact(nums)}, nil
}

func windowNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty item")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a window number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxWindowNumber {
		return 0, fmt.Errorf("%q: window numbers are 1…%d", s, maxWindowNumber)
	}
	return n, nil
}

// All reports whether the filter shows every window.
func (f Filter) All() bool { return len(f.nums) == 0 }

// Has reports whether window number n is shown.
func (f Filter) Has(n int) bool {
	if f.All() {
		return true
	}
	_, ok := slices.BinarySearch(f.nums, n)
	return ok
}

// String writes the filter in its shortest form: "1-10,15", "" for all.
func (f Filter) String() string {
	var b strings.Builder
	for i := 0; i < len(f.nums); {
		j := i
		for j+1 < len(f.nums) && f.nums[j+1] == f.nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(f.nums[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(f.nums[j]))
		}
		i = j + 1
	}
	return b.String()
}
