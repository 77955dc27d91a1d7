package ratings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting Canonicalize accepts; signed payloads are
// flat.
const maxDepth = 16

// maxSafeInt is the largest integer every JSON implementation reads
// exactly (2^53 − 1, RFC 8785 §3.2.2.3).
const maxSafeInt = 1<<53 - 1

// Canonicalize returns the canonical form of the JSON text data: the JSON
// Canonicalization Scheme of RFC 8785 restricted to integers. Objects have
// their members sorted by the UTF-16 code units of their names, there is no
// whitespace, strings escape only '"', '\\' and the control characters
// (\b \t \n \f \r, others as \u00xx) and keep every other character as
// UTF-8, numbers must be integers of magnitude at most 2^53 − 1 written in
// plain decimal. Duplicate member names, fractions, exponents, invalid
// UTF-8 and text after the value are errors.
func Canonicalize(data []byte) ([]byte, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("ratings: canonical json: invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonValue(dec, &out, 0); err != nil {
		return nil, fmt.Errorf("ratings: canonical json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("ratings: canonical json: text after the value")
	}
	return out.Bytes(), nil
}

func canonValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return canonToken(dec, tok, out, depth)
}

func canonToken(dec *json.Decoder, tok json.Token, out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deep")
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return canonObject(dec, out, depth)
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			out.WriteByte(']')
			return nil
		}
		return fmt.Errorf("unexpected %v", v)
	case string:
		writeString(out, v)
	case json.Number:
		n, err := canonNumber(v)
		if err != nil {
			return err
		}
		out.WriteString(n)
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %v", tok)
	}
	return nil
}

type member struct {
	key  string
	u16  []uint16
	text []byte
}

func canonObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key %v", tok)
		}
		for _, m := range ms {
			if m.key == key {
				return fmt.Errorf("duplicate member %q", key)
			}
		}
		var val bytes.Buffer
		if err := canonValue(dec, &val, depth+1); err != nil {
			return err
		}
		ms = append(ms, member{key: key, u16: utf16.Encode([]rune(key)), text: val.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	slices.SortFunc(ms, func(a, b member) int { return slices.Compare(a.u16, b.u16) })
	out.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(m.text)
	}
	out.WriteByte('}')
	return nil
}

// canonNumber accepts an integer within ±(2^53 − 1) and writes it in plain
// decimal ("-0" becomes "0").
func canonNumber(n json.Number) (string, error) {
	s := string(n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return "", fmt.Errorf("number %s is not an integer", s)
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > maxSafeInt || v < -maxSafeInt {
		return "", fmt.Errorf("integer %s out of range", s)
	}
	return strconv.FormatInt(v, 10), nil
}

// writeString writes s as a canonical JSON string.
func writeString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				out.WriteByte(c)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				out.WriteString("\ufffd") // never reached from decoded JSON
			} else {
				out.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			out.WriteString(`\u00`)
			out.WriteByte(hex[c>>4])
			out.WriteByte(hex[c&0xf])
		}
		i++
	}
	out.WriteByte('"')
}
