package barcode_test

import (
	"fmt"

	"hallgw/drivers/barcode"
)

func ExampleParseCode() {
	for _, s := range []string{"HALLGW-APPT:A20240506-0042", "4301002024050600012", "https://example.org"} {
		c, _ := barcode.ParseCode(s)
		fmt.Println(c.Kind, c.ID)
	}
	// Output:
	// appointment A20240506-0042
	// case 4301002024050600012
	// unknown
}
