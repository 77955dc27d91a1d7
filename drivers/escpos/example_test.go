package escpos_test

import (
	"fmt"
	"time"

	"hallgw/drivers/escpos"
	"hallgw/drivers/escpos/escpossim"
)

func ExampleEncodeTicket() {
	t := escpos.Ticket{
		HallName:    "政务服务中心",
		Number:      "A012",
		ServiceName: "社保业务",
		Ahead:       2,
		WaitKnown:   true,
		WaitLo:      3 * time.Minute,
		WaitHi:      8 * time.Minute,
		Windows:     []string{"3", "5"},
		IssuedAt:    time.Date(2026, 11, 3, 9, 15, 2, 0, time.UTC),
		Location:    time.FixedZone("CST", 8*3600),
		QRData:      "https://hall.example/t/A012",
	}
	data, err := escpos.EncodeTicket(t, escpos.Width58)
	if err != nil {
		fmt.Println(err)
		return
	}
	// What the printer makes of it, as the emulator renders it.
	tickets, _ := escpossim.Render(data, 58)
	fmt.Print(tickets[0].Text())
	// Output:
	//           政务服务中心
	// --------------------------------
	//             A 0 1 2
	//             社保业务
	// --------------------------------
	// 您前面还有 2 人等待
	// 预计等待 约 3-8 分钟
	// 办理窗口: 3, 5
	// 取号时间: 2026-11-03 17:15:02
	// [QR: https://hall.example/t/A012]
}

func ExampleBuilder() {
	// The ticket of the protocol notes §2.7.
	b := escpos.NewBuilder(escpos.GB18030).
		Init().ChineseOn().Align(escpos.Center).
		Size(2, 2).Bold(true).Line("A012").Bold(false).Size(1, 1).
		Line("请到3号窗口办理").
		QR("A012", escpos.QROpts{Model: escpos.QRModel2, ModuleSize: 6, Level: escpos.QRLevelM}).
		Feed(3).FeedCut(true, 0)
	data, err := b.Bytes()
	fmt.Println(len(data), err)
	fmt.Printf("% X\n", data[:24])
	// Output:
	// 92 <nil>
	// 1B 40 1C 26 1B 61 01 1D 21 11 1B 45 01 41 30 31 32 0A 1B 45 00 1D 21 00
}

func ExampleDecodeStatus() {
	s, err := escpos.DecodeStatus([4]byte{0x1A, 0x32, 0x12, 0x72})
	fmt.Println(s, s.CanPrint(), err)
	_, err = escpos.DecodeStatus([4]byte{0x12, 0xFF, 0x12, 0x12})
	fmt.Println(err)
	// Output:
	// offline, paper end false <nil>
	// escpos: garbled reply: DLE EOT 2 reply 0xff
}
