package idcard_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"hallgw/drivers/idcard"
)

func ExampleMaskNumber() {
	fmt.Println(idcard.MaskNumber("43010419900101123X"))
	// Output: 4301**********123X
}

func ExampleCard_Format() {
	c := &idcard.Card{
		Name: "张三丰", Sex: idcard.SexMale, Nation: "01",
		Birth:   time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
		Address: "湖南省长沙市岳麓区测试路1号", Number: "00000019900101000X",
	}
	fmt.Println(c) // a log line shows the masked card only
	json.NewEncoder(os.Stdout).Encode(struct {
		Name, Address string
		Age           int
	}{idcard.MaskName(c.Name), idcard.MaskAddress(c.Address), c.Age(time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), nil)})
	// Output:
	// 张*丰 0000**********000X
	// {"Name":"张*丰","Address":"湖南省长沙市岳麓区","Age":34}
}

func ExampleSAMID() {
	id := idcard.SAMID{0x05, 0x00, 0x01, 0x00, 0x60, 0xB8, 0x32, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xB1, 0x68, 0xDE, 0x3A}
	fmt.Println(id)
	// Output: 05.01-20101216-0012345678-0987654321
}
