package ups_test

import (
	"encoding/json"
	"fmt"

	"hallgw/drivers/ups"
)

func ExampleDecodeQ1() {
	s, err := ups.DecodeQ1([]byte("(000.0 000.0 219.8 045 00.0 21.1 30.0 11001001\r"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := ups.GuessCharge(24, 0, 0, 0, *s.BatteryVoltage)
	c := m.Charge(*s.BatteryVoltage)
	s.BatteryCharge = &c
	b, _ := json.Marshal(s)
	fmt.Println(s.UPSStatus())
	fmt.Println(string(b))
	// Output:
	// OB LB
	// {"battery.charge":6,"battery.voltage":21.10,"input.frequency":0.0,"input.voltage":0.0,"input.voltage.fault":0.0,"output.voltage":219.8,"ups.beeper.status":"enabled","ups.load":45,"ups.status":"OB LB","ups.temperature":30.0,"ups.type":"offline / line interactive"}
}

func ExampleEncodeCommand() {
	for _, c := range []string{ups.CmdTestQuick, ups.CmdShutdownReturn, ups.CmdLoadOff} {
		b, _ := ups.EncodeCommand(c, "", ups.DefaultDelays)
		fmt.Printf("%s %q\n", c, b)
	}
	// Output:
	// test.battery.start.quick "T\r"
	// shutdown.return "S.5R0003\r"
	// load.off "S00R0000\r"
}
