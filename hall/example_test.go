package hall_test

import (
	"fmt"
	"time"

	"hallgw/hall"
)

// A hall is configured, a window opens, a citizen takes a ticket at the
// kiosk and the window calls it.
func Example() {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cfg := hall.Config{
		Services: []hall.ServiceConfig{{ID: "social", Name: "社保医保", Prefix: "A", ServiceTime: 6 * time.Minute}},
		Windows: []hall.WindowConfig{{ID: "w1", Number: 1, Name: "综合受理一", Kind: hall.KindIntake,
			Services: []string{"social"}}},
		Rules:    hall.DefaultRules(),
		Location: loc,
	}
	h, _ := hall.New(hall.Config{})
	now := time.Date(2026, 3, 2, 8, 30, 0, 0, loc)
	show := func(evs []hall.Event, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range evs {
			switch e.Type {
			case hall.EvTicketIssued, hall.EvTurnNear:
				fmt.Printf("%v %s: %d ahead, about %v–%v\n", e.Type, e.Number, e.Ahead, e.Estimate.Lo, e.Estimate.Hi)
			case hall.EvTicketCalled:
				w, _ := h.Window(e.Window)
				fmt.Printf("%v: 请 %s 号到 %d 号窗口\n", e.Type, e.Number, w.Number)
			default:
				fmt.Println(e.Type)
			}
		}
	}
	show(h.Do(hall.Command{Op: hall.OpApplyConfig, Config: &cfg}, now))
	show(h.Do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "0731"}, now))
	show(h.Do(hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk"}, now.Add(30*time.Minute)))
	show(h.Do(hall.Command{Op: hall.OpCallNext, Window: "w1"}, now.Add(35*time.Minute)))
	show(h.Do(hall.Command{Op: hall.OpCallNext, Window: "w1"}, now.Add(36*time.Minute)))
	// Output:
	// config_applied
	// day_reset
	// window_opened
	// ticket_issued A001: 0 ahead, about 4m0s–8m0s
	// turn_near A001: 0 ahead, about 4m0s–8m0s
	// ticket_called: 请 A001 号到 1 号窗口
	// hall: window 1 is busy with A001
}

// The daemon decides, journals, then applies; after a restart it replays
// the journal into an empty hall and gets the same state.
func ExampleHall_Decide() {
	cfg := hall.Config{
		Services: []hall.ServiceConfig{{ID: "a", Name: "户籍办理", Prefix: "B", ServiceTime: 8 * time.Minute}},
		Windows:  []hall.WindowConfig{{ID: "w1", Number: 1, Kind: hall.KindDomain, Services: []string{"a"}}},
		Rules:    hall.DefaultRules(),
	}
	base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	live, _ := hall.New(hall.Config{})
	var journal [][]byte
	run := func(cmd hall.Command, now time.Time) {
		evs, err := live.Decide(cmd, now)
		if err != nil {
			fmt.Println("refused:", err)
			return
		}
		for _, e := range evs {
			b, _ := e.MarshalBinary()
			journal = append(journal, b) // the daemon writes and fsyncs here
			_ = live.Apply(e)
		}
	}
	run(hall.Command{Op: hall.OpApplyConfig, Config: &cfg}, base)
	run(hall.Command{Op: hall.OpIssue, Service: "a"}, base.Add(time.Minute))
	run(hall.Command{Op: hall.OpCallNext, Window: "w1"}, base.Add(2*time.Minute))

	replayed, _ := hall.New(hall.Config{})
	for _, b := range journal {
		var e hall.Event
		_ = e.UnmarshalBinary(b)
		_ = replayed.Apply(e)
	}
	fmt.Println(len(journal), "events, same state:", replayed.Digest() == live.Digest())
	// Output:
	// refused: hall: window 1 is closed
	// 4 events, same state: true
}

func ExampleEvent_MarshalBinary() {
	e := hall.Event{Type: hall.EvTicketCalled, At: time.Date(2026, 3, 2, 1, 35, 0, 0, time.UTC),
		Ticket: 1, Number: "A001", Service: "social", Window: "w1", Staff: "0731"}
	b, _ := e.MarshalBinary()
	var back hall.Event
	err := back.UnmarshalBinary(b)
	fmt.Println(len(b), "bytes;", back.Type, back.Number, back.Window, err)
	// Output: 33 bytes; ticket_called A001 w1 <nil>
}
