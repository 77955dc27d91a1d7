package vendor

import (
	"testing"

	"hallgw/drivers/windowbus/internal/docframes"
)

const docPath = "../../../docs/window-bus.md"

// TestDocumentFrames decodes every worked vendor frame in the document.
func TestDocumentFrames(t *testing.T) {
	frames, err := docframes.Read(docPath, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 16 {
		t.Fatalf("found %d worked frames in %s, want at least 16", len(frames), docPath)
	}
	for _, f := range frames {
		fr, n, err := Decode(f.Bytes)
		if err != nil || n != len(f.Bytes) {
			t.Errorf("line %d: Decode(% X) = %d of %d bytes, %v", f.Line, f.Bytes, n, len(f.Bytes), err)
		}
		if reply := fr.Cmd&ReplyBit != 0; reply == f.Request {
			t.Errorf("line %d: command %#02x in a %s", f.Line, fr.Cmd, map[bool]string{true: "request", false: "reply"}[f.Request])
		}
	}
}
