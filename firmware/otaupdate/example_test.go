package otaupdate_test

import (
	"fmt"

	"hallgw/firmware/otaupdate"
)

// The gateway asks for chunk 3 of an offered bundle; the platform answers
// with its bytes in base64.
func ExampleEncodeRequest() {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	req, _ := otaupdate.EncodeRequest(otaupdate.Request{SHA256: sha, Index: 3})
	fmt.Printf("%s\n", req)
	r, _ := otaupdate.DecodeRequest(req)
	chunk, _ := otaupdate.EncodeChunk(otaupdate.Chunk{SHA256: r.SHA256, Index: r.Index, Data: []byte("hallgw")})
	fmt.Printf("%s\n", chunk)
	// Output:
	// {"v":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","index":3}
	// {"v":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","index":3,"data":"aGFsbGd3"}
}

// The arguments of the update command become a download offer.
func ExampleParseArgs() {
	o, err := otaupdate.ParseArgs([]byte(`{"version":"1.4.0",
		"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"size":11337890,"chunk_size":262144}`))
	fmt.Println(o.Version, o.Chunks(), err)
	// Output: 1.4.0 44 <nil>
}
