package display

import (
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, in, want string
		has, hasNot    []int
		err            string
	}{
		{name: "empty shows all", in: "", want: "", has: []int{1, 20, 9999}},
		{name: "one", in: "5", want: "5", has: []int{5}, hasNot: []int{4, 6}},
		{name: "range and single", in: "1-10,15", want: "1-10,15", has: []int{1, 10, 15}, hasNot: []int{11, 16}},
		{name: "spaces and overlap", in: " 3-5 , 4-8,2 ", want: "2-8", has: []int{2, 8}, hasNot: []int{1, 9}},
		{name: "out of order", in: "9,1,5", want: "1,5,9", has: []int{9}, hasNot: []int{2}},
		{name: "adjacent singles merge", in: "1,2,3", want: "1-3"},
		{name: "range down", in: "10-1", err: "range 10-1 goes down"},
		{name: "zero", in: "0", err: "window numbers are 1…9999"},
		{name: "too big", in: "10000", err: "window numbers are 1…9999"},
		{name: "negative", in: "-3", err: "empty item"},
		{name: "letters", in: "1,a", err: `"a" is not a window number`},
		{name: "trailing comma", in: "1,", err: "empty item"},
		{name: "plus sign", in: "+4", err: "not a window number"},
		{name: "too long", in: strings.Repeat("1,", 101), err: "longer than 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFilter(%q) = %v, %v; want an error containing %q", tt.in, f, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter(%q) = %v", tt.in, err)
			}
			if f.String() != tt.want {
				t.Errorf("ParseFilter(%q).String() = %q, want %q", tt.in, f.String(), tt.want)
			}
			for _, n := range tt.has {
				if !f.Has(n) {
					t.Errorf("ParseFilter(%q).Has(%d) = false, want true", tt.in, n)
				}
			}
			for _, n := range tt.hasNot {
				if f.Has(n) {
					t.Errorf("ParseFilter(%q).Has(%d) = true, want false", tt.in, n)
				}
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"1-10,15", "", "3-5,4-8", "0", "9999", "1-9999", " 7 ,8", "5-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		again, err := ParseFilter(flt.String())
		if err != nil {
			t.Fatalf("ParseFilter(%q) = %q, which does not parse: %v", s, flt.String(), err)
		}
		if again.String() != flt.String() {
			t.Fatalf("ParseFilter(%q) = %q, reparsed %q", s, flt.String(), again.String())
		}
		for _, n := range flt.nums {
			if n < 1 || n > maxWindowNumber || !again.Has(n) {
				t.Fatalf("ParseFilter(%q) holds %d", s, n)
			}
		}
	})
}
