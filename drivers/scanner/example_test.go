package scanner_test

import (
	"fmt"

	"hallgw/drivers/scanner"
)

// ExampleParseOutput reads the output of a feeder batch that jammed on its
// third page.
func ExampleParseOutput() {
	stdout := "/scans/p01.png\n/scans/p02.png\n"
	stderr := `Scanning 100 pages, incrementing by 1, numbering from 1
Scanning page 1
Scanned page 1. (scanner status = 5)
Scanning page 2
Scanned page 2. (scanner status = 5)
Scanning page 3
scanimage: sane_read: Document feeder jammed
Scanned page 3. (scanner status = 6)
Batch terminated, 3 pages scanned
`
	r := scanner.ParseOutput([]byte(stdout), []byte(stderr))
	fmt.Println(r.Files, r.Pages, r.Last, r.Scanned)
	fmt.Println(r.Message())
	// Output:
	// [/scans/p01.png /scans/p02.png] 2 document feeder jammed 3
	// sane_read: Document feeder jammed
}
