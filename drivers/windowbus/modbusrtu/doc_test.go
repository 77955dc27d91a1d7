package modbusrtu

import (
	"testing"

	"hallgw/drivers/windowbus/internal/docframes"
)

const docPath = "../../../docs/window-bus.md"

// TestDocumentFrames decodes every worked Modbus frame in the document:
// each must be one whole frame with a correct CRC.
func TestDocumentFrames(t *testing.T) {
	frames, err := docframes.Read(docPath, "modbus")
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 20 {
		t.Fatalf("found %d worked frames in %s, want at least 20", len(frames), docPath)
	}
	for _, f := range frames {
		var n int
		var err error
		if f.Request {
			_, n, err = DecodeRequest(f.Bytes)
		} else {
			_, n, err = DecodeResponse(f.Bytes)
		}
		if err != nil || n != len(f.Bytes) {
			t.Errorf("line %d: decode(% X) = %d of %d bytes, %v", f.Line, f.Bytes, n, len(f.Bytes), err)
		}
	}
}
