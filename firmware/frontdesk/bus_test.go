package frontdesk

import (
	"errors"
	"testing"
	"time"

	"hallgw/drivers/windowbus"
	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/hall"
)

// busHall is a hall whose windows 1–6 have terminals on an emulated bus at
// addresses 1–6, with a hall display at 201.
func busHall(t *testing.T, mod func(o *Options)) (*testHall, *Frontdesk, *testBus) {
	t.Helper()
	h := newHall(t, nil)
	terms := []windowbus.Addr{1, 2, 3, 4, 5, 6}
	bus := newTestBus(t, 115200, terms, []windowbus.Addr{201})
	o := Options{Devices: config.Devices{Buses: []config.Bus{busConfig(bus.path(), 115200, 1, 2, 3, 4, 5, 6)}},
		FlashFor: 300 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	f := h.start(o)
	waitFor(t, "every terminal up", func() bool {
		for _, a := range terms {
			if d, _ := h.d.Health.Get((&Bus{dev: serialDev{id: "bus-1"}}).termID(a)); d.State != health.Up {
				return false
			}
		}
		return true
	})
	return h, f, bus
}

func TestBusPressCallsAndShows(t *testing.T) {
	h, f, bus := busHall(t, nil)
	seen := watchPresses(t, f)
	bus.waitText(5, "窗口未开放")
	h.open("5")
	bus.waitText(5, "5号窗口 综合受理五")
	h.issue("general", 2)

	seq := bus.press(5, windowbus.KeyCall, 0)
	r := seen.wait(t, 5, seq)
	if r.Err != nil || r.Window != "5" || r.Text != "A001 请到5号窗口" {
		t.Errorf("call = %+v, want A001 called to window 5", r)
	}
	bus.waitText(5, "A001 请到5号窗口")
	bus.waitText(201, "A001 请到5号窗口")

	seq = bus.press(5, windowbus.KeyFinish, 0)
	if r := seen.wait(t, 5, seq); r.Err != nil {
		t.Fatalf("finish: %v", r.Err)
	}
	bus.waitText(5, "5号窗口 综合受理五")
	seq = bus.press(5, windowbus.KeyRate2, 0)
	if r := seen.wait(t, 5, seq); r.Err != nil || r.Text != "感谢您的评价" {
		t.Errorf("rating = %+v, want thanks", r)
	}
	var counts hall.RatingCounts
	h.view(func(hl *hall.Hall) { counts = hl.Stats().Windows["5"].Ratings })
	if counts.Grades[1] != 1 {
		t.Errorf("window 5 ratings %+v, want one 满意", counts)
	}
	bus.waitText(5, "5号窗口 综合受理五") // the thanks go after FlashFor

	seq = bus.press(5, windowbus.KeyCall, 0)
	seen.wait(t, 5, seq)
	bus.waitText(201, "A002 请到5号窗口\nA001 请到5号窗口")
}

func TestBusKeys(t *testing.T) {
	h, f, bus := busHall(t, nil)
	seen := watchPresses(t, f)
	h.open("3", "4")
	h.issue("general", 3)
	h.issue("social", 1)
	press := func(a windowbus.Addr, k windowbus.Key, arg uint16) PressResult {
		t.Helper()
		return seen.wait(t, a, bus.press(a, k, arg))
	}
	tests := []struct {
		name    string
		addr    windowbus.Addr
		key     windowbus.Key
		arg     uint16
		wantErr error // the hall's refusal
		refused bool  // refused before the hall
		bar     string
	}{
		{"nothing to recall", 3, windowbus.KeyRecall, 0, hall.ErrNoCurrent, false, "当前没有叫号"},
		{"call next", 3, windowbus.KeyCall, 0, nil, false, "A001 请到3号窗口"},
		{"busy", 3, windowbus.KeyPause, 0, hall.ErrWindowBusy, false, "请先办结当前业务"},
		{"recall", 3, windowbus.KeyRecall, 0, nil, false, "A001 请到3号窗口"},
		{"hold", 3, windowbus.KeyHold, 0, nil, false, "3号窗口 综合受理三"},
		{"call by number", 3, windowbus.KeyCall, 3, nil, false, "A003 请到3号窗口"},
		{"transfer to service 3 (social)", 3, windowbus.KeyTransfer, windowbus.ArgService | 3, nil, false, "3号窗口 综合受理三"},
		{"resume the held A001 by its number", 3, windowbus.KeyCall, 1, nil, false, "A001 请到3号窗口"},
		{"transfer without a target", 3, windowbus.KeyTransfer, 0, nil, true, "请输入转移目标"},
		{"transfer to window 4", 3, windowbus.KeyTransfer, 4, nil, false, "3号窗口 综合受理三"},
		{"no such number", 4, windowbus.KeyCall, 77, nil, true, "无此号"},
		{"pause for lunch (reason 2)", 4, windowbus.KeyPause, 2, nil, false, "暂停服务 午休"},
		{"paused cannot call", 4, windowbus.KeyCall, 0, hall.ErrWindowPaused, false, "暂停中，请先恢复"},
		{"resume the window", 4, windowbus.KeyResume, 0, nil, false, "4号窗口 综合受理四"},
		{"calls the transferred A001 first", 4, windowbus.KeyCall, 0, nil, false, "A001 请到4号窗口"},
		{"skip", 4, windowbus.KeySkip, 0, nil, false, "4号窗口 综合受理四"},
	}
	for _, tt := range tests {
		r := press(tt.addr, tt.key, tt.arg)
		var rf *refusal
		switch {
		case tt.wantErr != nil && !errors.Is(r.Err, tt.wantErr):
			t.Errorf("%s: err %v, want %v", tt.name, r.Err, tt.wantErr)
		case tt.refused && !errors.As(r.Err, &rf):
			t.Errorf("%s: err %v, want a refusal before the hall", tt.name, r.Err)
		case tt.wantErr == nil && !tt.refused && r.Err != nil:
			t.Errorf("%s: %v", tt.name, r.Err)
		}
		if r.Text != tt.bar {
			t.Errorf("%s: bar told %q, want %q", tt.name, r.Text, tt.bar)
		}
		bus.waitText(tt.addr, tt.bar)
	}
	var c3 hall.TicketView
	h.view(func(hl *hall.Hall) { c3, _ = hl.TicketByNumber("A003") })
	if c3.Service != "social" {
		t.Errorf("A003 is in %q, want transferred to social", c3.Service)
	}
}

func TestBusRefusedPressFlashesThenRestores(t *testing.T) {
	h, f, bus := busHall(t, nil)
	seen := watchPresses(t, f)
	h.open("2")
	bus.waitText(2, "2号窗口 综合受理二")
	r := seen.wait(t, 2, bus.press(2, windowbus.KeyCall, 0))
	if r.Text != "当前无人等候" {
		t.Errorf("call on an empty queue: bar told %q", r.Text)
	}
	bus.waitText(2, "当前无人等候")
	bus.waitText(2, "2号窗口 综合受理二")
	// Reserved key codes are ignored, as docs/window-bus.md asks.
	r = seen.wait(t, 2, bus.press(2, windowbus.Key(0x30), 0))
	if r.Err == nil || r.Text != "" {
		t.Errorf("reserved key = %+v, want ignored", r)
	}
	if st := f.buses[0].Status(); st.Ignored != 1 || st.Refused != 1 {
		t.Errorf("bus status %+v, want one ignored and one refused press", st)
	}
}

func TestBusShowsEventsFromElsewhere(t *testing.T) {
	h, _, bus := busHall(t, nil)
	h.open("6")
	h.issue("general", 1)
	// A call made through the API reaches the bar through the feed.
	h.do(hall.Command{Op: hall.OpCallNext, Window: "6"})
	bus.waitText(6, "A001 请到6号窗口")
	bus.waitText(201, "A001 请到6号窗口")
	h.do(hall.Command{Op: hall.OpStart, Window: "6"})
	bus.waitText(6, "服务中 A001")
	h.do(hall.Command{Op: hall.OpFinish, Window: "6"}, hall.Command{Op: hall.OpPause, Window: "6", Reason: "培训"})
	bus.waitText(6, "暂停服务 培训")
	waitFor(t, "bar 6 in paused mode", func() bool {
		st, _ := bus.sim.State(6)
		return st.Settings.Mode == windowbus.ModePaused
	})
}

func TestBusNoticeOnEveryBar(t *testing.T) {
	h, _, bus := busHall(t, nil)
	h.open("1", "2")
	bus.waitText(1, "1号窗口 综合受理一")
	bars := map[windowbus.Addr]string{1: "1号窗口 综合受理一", 2: "2号窗口 综合受理二", 3: "窗口未开放",
		4: "窗口未开放", 5: "窗口未开放", 6: "窗口未开放"}

	h.do(hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: "系统维护"})
	for a, base := range bars {
		bus.waitText(a, base+"  系统维护")
	}
	bus.waitText(201, "系统维护")

	h.do(hall.Command{Op: hall.OpNotice, Notice: hall.NoticeEmergency, Reason: "请立即疏散"})
	for a := range bars {
		bus.waitText(a, "请立即疏散")
		waitFor(t, "every bar blinking", func() bool {
			st, _ := bus.sim.State(a)
			return st.Settings.Blink > 0
		})
	}
	bus.waitText(201, "请立即疏散")

	h.do(hall.Command{Op: hall.OpNotice, Notice: hall.NoticeClear})
	for a, base := range bars {
		bus.waitText(a, base)
	}
	bus.waitText(201, "示范市政务服务中心")
}

func TestBusRecallReannounces(t *testing.T) {
	player := &SilentPlayer{}
	h, f, bus := busHall(t, func(o *Options) {
		o.Devices.Voice = config.Voice{Enabled: true, Repeat: 1}
		o.Player = player
	})
	seen := watchPresses(t, f)
	h.open("1")
	h.issue("general", 1)
	seen.wait(t, 1, bus.press(1, windowbus.KeyCall, 0))
	waitFor(t, "the call announced", func() bool { return player.Plays() == 1 })
	seen.wait(t, 1, bus.press(1, windowbus.KeyRecall, 0))
	waitFor(t, "the recall announced", func() bool { return player.Plays() == 2 })
	if st := f.voice.status(); st.Queued != 2 || st.Failed != 0 {
		t.Errorf("voice %+v, want 2 queued, none failed", st)
	}
	waitFor(t, "voice health up", func() bool {
		d, _ := h.d.Health.Get("voice")
		return d.State == health.Up
	})
	// A refused recall says nothing.
	h.do(hall.Command{Op: hall.OpFinish, Window: "1"})
	seen.wait(t, 1, bus.press(1, windowbus.KeyRecall, 0))
	time.Sleep(100 * time.Millisecond)
	if n := player.Plays(); n != 2 {
		t.Errorf("%d announcements after a refused recall, want 2", n)
	}
}
