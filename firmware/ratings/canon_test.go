package ratings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"members sorted, no space", `{ "b": 1, "a" : [ 2 , "x" ] }`, `{"a":[2,"x"],"b":1}`},
		{"nested objects sorted", `{"z":{"y":1,"x":2},"a":null}`, `{"a":null,"z":{"x":2,"y":1}}`},
		// RFC 8785 §3.2.3: names sorted by UTF-16 code units.
		{"UTF-16 order", `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh",` +
			`"1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
				"\"\u20ac\":\"Euro Sign\",\"\U0001f600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		// RFC 8785 §3.2.2.2 string escaping.
		{"escapes", `"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"`, `"€$\u000f\nA'B\"\\\\\"/"`},
		{"html characters kept", `"<a&b>"`, `"<a&b>"`},
		{"line separators kept", `"\u2028\u2029"`, "\"\u2028\u2029\""},
		{"integers", `[0,-0,7,-12,9007199254740991,-9007199254740991]`, `[0,0,7,-12,9007199254740991,-9007199254740991]`},
		{"literals", `[true,false,null]`, `[true,false,null]`},
		{"Chinese", `{"label":"办事效率低"}`, `{"label":"办事效率低"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(c.in))
			if err != nil || string(got) != c.want {
				t.Errorf("Canonicalize(%s) = %s, %v, want %s", c.in, got, err, c.want)
			}
		})
	}
}

func TestCanonicalizeRefuses(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ``},
		{"fraction", `1.5`},
		{"exponent", `1e3`},
		{"too big", `9007199254740992`},
		{"duplicate member", `{"a":1,"a":2}`},
		{"text after", `{} {}`},
		{"invalid UTF-8", "\"\xff\""},
		{"unterminated", `{"a":`},
		{"too deep", strings.Repeat("[", 20) + strings.Repeat("]", 20)},
		{"number key", `{1:2}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := Canonicalize([]byte(c.in)); err == nil {
				t.Errorf("Canonicalize(%q) = %s, want an error", c.in, got)
			}
		})
	}
}

// FuzzCanonicalize checks that canonical output is valid JSON, is its own
// canonical form and means the same as the input.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[2,"x"]}`, `"\u0000\u001f"`, `{"v":1,"reasons":["a","b"],"grade":5}`, `[]`, `-0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Canonicalize(%q) = %q, not JSON", data, out)
		}
		again, err := Canonicalize(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("Canonicalize(Canonicalize(%q)) = %q, %v, want %q", data, again, err, out)
		}
		var a, b any
		if json.Unmarshal(data, &a) != nil || json.Unmarshal(out, &b) != nil {
			t.Fatalf("Canonicalize accepted %q that does not unmarshal", data)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Canonicalize(%q) = %q changes the value", data, out)
		}
	})
}
