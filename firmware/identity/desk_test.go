package identity

import (
	"strings"
	"testing"

	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

func TestSwipes(t *testing.T) {
	r := newRig(t)
	steps := []struct {
		name      string
		window    string
		do        func() Notice
		kind      Kind
		staff     string
		reason    string
		text      string
		state     hall.WindowState
		openStaff string
	}{
		{"unknown card refused", "w1", func() Notice { return r.desk.Swipe(r.ctx, "w1", cardGuest) },
			Refused, "", ReasonUnknownCard, "证件未登记，不能签到", hall.Closed, ""},
		{"first swipe signs in", "w1", func() Notice { return r.desk.Swipe(r.ctx, "w1", cardLi) },
			SignedIn, "S001", "", "S001 签到成功", hall.Open, "S001"},
		{"second swipe signs out", "w1", func() Notice { return r.desk.Swipe(r.ctx, "w1", cardLi) },
			SignedOut, "S001", "", "S001 已签退", hall.Closed, ""},
		{"signs in again", "w1", func() Notice { return r.desk.Swipe(r.ctx, "w1", cardLi) },
			SignedIn, "S001", "", "S001 签到成功", hall.Open, "S001"},
		{"colleague takes over", "w1", func() Notice { return r.desk.Swipe(r.ctx, "w1", cardZhao) },
			HandedOver, "S002", "", "S002 接班签到", hall.Open, "S002"},
		{"unreadable card", "w1", func() Notice { return r.desk.Unreadable("w1") },
			Refused, "", ReasonUnreadable, "证件读取失败，请重放", hall.Open, "S002"},
		{"other window independent", "w2", func() Notice { return r.desk.Swipe(r.ctx, "w2", cardLi) },
			SignedIn, "S001", "", "S001 签到成功", hall.Open, "S001"},
		{"window the hall lacks", "w99", func() Notice { return r.desk.Swipe(r.ctx, "w99", cardLi) },
			Refused, "", ReasonNoWindow, "窗口未配置，不能签到", hall.Closed, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n := st.do()
			if got := r.next(); got != n {
				t.Errorf("Notify got %+v, Swipe returned %+v", got, n)
			}
			if n.Window != st.window || n.Kind != st.kind || n.Staff != st.staff || n.Reason != st.reason || n.Text != st.text || n.At.IsZero() {
				t.Errorf("Swipe = %+v, want %v by %q (%s) %q", n, st.kind, st.staff, st.reason, st.text)
			}
			if st.window == "w99" {
				return
			}
			if w := r.window(st.window); w.State != st.state || w.Staff != st.openStaff {
				t.Errorf("window %s is %v by %q, want %v by %q", st.window, w.State, w.Staff, st.state, st.openStaff)
			}
		})
	}
	if got := len(r.desk.Recent()); got != len(steps) {
		t.Errorf("Recent holds %d outcomes, want %d", got, len(steps))
	}
	if !strings.Contains(r.log.String(), `"holder":"h1:`) {
		t.Errorf("the refusal's log line lacks the short holder hash:\n%s", r.log)
	}
}

// TestSignOutWhileServing: a window serving a ticket is not closed.
func TestSignOutWhileServing(t *testing.T) {
	r := newRig(t)
	if n := r.desk.Swipe(r.ctx, "w1", cardLi); n.Kind != SignedIn {
		t.Fatalf("sign-in = %+v", n)
	}
	r.next()
	if _, err := r.g.Do(r.ctx, hall.Command{Op: hall.OpIssue, Service: "social", Source: "kiosk"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.g.Do(r.ctx, hall.Command{Op: hall.OpCallNext, Window: "w1"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		n    Notice
	}{
		{"own sign-out", r.desk.Swipe(r.ctx, "w1", cardLi)},
		{"handover", r.desk.Swipe(r.ctx, "w1", cardZhao)},
	} {
		r.next()
		if c.n.Kind != Refused || c.n.Reason != ReasonWindowBusy || c.n.Text != "请先办结当前业务" {
			t.Errorf("%s while serving = %+v, want refused: window busy", c.name, c.n)
		}
		if w := r.window("w1"); w.State != hall.Open || w.Staff != "S001" {
			t.Errorf("%s: window is %v by %s, want still open by S001", c.name, w.State, w.Staff)
		}
	}
}

// TestSignInJournaled: the sign-in is the hall's journaled window event,
// with the staff id and nothing of the card.
func TestSignInJournaled(t *testing.T) {
	r := newRig(t)
	r.desk.Swipe(r.ctx, "w3", cardZhao)
	var opened []hall.Event
	err := r.j.Scan(0, func(rec journal.Record) error {
		if rec.Kind != gateway.KindHall {
			return nil
		}
		var e hall.Event
		if err := e.UnmarshalBinary(rec.Data); err != nil {
			return err
		}
		if e.Type == hall.EvWindowOpened {
			opened = append(opened, e)
		}
		if strings.Contains(string(rec.Data), cardZhao.Number) {
			t.Errorf("journal record %d holds the ID number", rec.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || opened[0].Window != "w3" || opened[0].Staff != "S002" {
		t.Errorf("window events = %+v, want w3 opened by S002", opened)
	}
}

func TestNewRoster(t *testing.T) {
	h := "h1:" + strings.Repeat("0f", 32)
	tests := []struct {
		name    string
		members []Member
		want    string // "" = ok
		n       int
	}{
		{"ok", []Member{{"S1", h}, {"S2", ""}}, "", 1},
		{"clear number", []Member{{"S1", "430102199001010011"}}, "not a holder hash", 0},
		{"same card twice", []Member{{"S1", h}, {"S2", h}}, "same card", 0},
		{"no id", []Member{{"", h}}, "no staff id", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRoster(tt.members)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("NewRoster = %v, want an error with %q", err, tt.want)
				}
				return
			}
			if err != nil || r.Len() != tt.n {
				t.Fatalf("NewRoster = %v, %v; want %d cards", r, err, tt.n)
			}
			if id, ok := r.Lookup(h); !ok || id != "S1" {
				t.Errorf("Lookup = %q, %v", id, ok)
			}
		})
	}
	if Kind(9).String() != "kind(9)" || HandedOver.String() != "handed_over" {
		t.Errorf("Kind strings = %s, %s", Kind(9), HandedOver)
	}
}
