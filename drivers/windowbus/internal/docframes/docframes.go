// Package docframes reads the worked frames out of docs/window-bus.md, so
// that tests check the codecs and the links against the document itself.
//
// A worked example is a fenced block whose info string is "frames modbus"
// or "frames vendor"; each line is "→" (request) or "←" (reply) followed by
// the frame's bytes in hex.
package docframes

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Frame is one worked frame.
type Frame struct {
	Request bool // → (master to device); ← is a reply
	Bytes   []byte
	Line    int // line number in the document
}

// Read returns the frames of the given protocol ("modbus" or "vendor") in
// document order.
func Read(path, protocol string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Frame
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```frames "):
			in = strings.TrimPrefix(line, "```frames ") == protocol
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		case !in || line == "":
			continue
		}
		var req bool
		switch {
		case strings.HasPrefix(line, "→"):
			req, line = true, strings.TrimPrefix(line, "→")
		case strings.HasPrefix(line, "←"):
			line = strings.TrimPrefix(line, "←")
		default:
			return nil, fmt.Errorf("docframes: %s:%d: line is neither → nor ←", path, n)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(line, " ", ""))
		if err != nil {
			return nil, fmt.Errorf("docframes: %s:%d: %w", path, n, err)
		}
		out = append(out, Frame{Request: req, Bytes: b, Line: n})
	}
	return out, sc.Err()
}
