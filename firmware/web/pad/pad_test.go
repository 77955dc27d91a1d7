package pad

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"hallgw/firmware/config"
	"hallgw/hall"
)

// dial connects a pad of window w and returns its first message.
func dial(t *testing.T, r *hallRig, w string) (*websocket.Conn, stateMsg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(r.srv.URL, "http", "ws", 1)+"/pad/"+w+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	var st stateMsg
	if err := wsjson.Read(ctx, c, &st); err != nil {
		t.Fatal(err)
	}
	return c, st
}

// next reads the next message of type typ, skipping others.
func next(t *testing.T, c *websocket.Conn, typ string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var raw json.RawMessage
		if err := wsjson.Read(ctx, c, &raw); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var head struct{ Type string }
		json.Unmarshal(raw, &head)
		if head.Type == typ {
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestPadState(t *testing.T) {
	r := newHallRig(t)
	r.do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
	r.do(hall.Command{Op: hall.OpOpenWindow, Window: "w2", Staff: "s-404"})
	cases := []struct {
		name   string
		window string
		want   func(t *testing.T, st stateMsg)
	}{
		{"staff from the roster", "w1", func(t *testing.T, st stateMsg) {
			if st.Staff == nil || *st.Staff != (staffDoc{ID: "s-007", Name: "李明", Number: "0731007", Photo: "photo?staff=s-007"}) {
				t.Errorf("staff = %+v, want 李明 0731007 with a photo", st.Staff)
			}
			if st.Window != (windowDoc{ID: "w1", Number: 1, Name: "综合受理一", State: "open"}) {
				t.Errorf("window = %+v", st.Window)
			}
			if !st.Ratings || len(st.Grades) != 5 || st.Grades[3] != (gradeDoc{4, "不满意", true}) ||
				len(st.Reasons) != len(hall.DefaultRatingRules().Reasons) || st.Pending != nil || st.ThanksMS != 1000 {
				t.Errorf("state = %+v", st)
			}
		}},
		{"staff not in the roster", "w2", func(t *testing.T, st stateMsg) {
			if st.Staff == nil || *st.Staff != (staffDoc{ID: "s-404", Number: "s-404"}) {
				t.Errorf("staff = %+v, want the ID only", st.Staff)
			}
		}},
		{"closed window", "w3", func(t *testing.T, st stateMsg) {
			if st.Staff != nil || st.Window.State != "closed" {
				t.Errorf("state = %+v, want closed without staff", st)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, st := dial(t, r, c.window)
			c.want(t, st)
		})
	}
}

func TestPadRatingFlow(t *testing.T) {
	r := newHallRig(t)
	r.do(hall.Command{Op: hall.OpOpenWindow, Window: "w1", Staff: "s-007"})
	c, _ := dial(t, r, "w1")
	ctx := context.Background()
	r.serve("w1")
	var req requestMsg
	next(t, c, "request", &req)
	if req.Rating.ID != 1 || req.Rating.Number != "A001" || req.Rating.ServiceName != "社保医保" || req.Rating.RemainingMS != 180000 {
		t.Fatalf("request = %+v, want rating 1 of A001 社保医保 in 3 min", req.Rating)
	}
	cases := []struct {
		name string
		msg  clientMsg
		want resultMsg
	}{
		{"grade out of range", clientMsg{Type: "rate", Rating: 1, Grade: 257}, resultMsg{Type: "result", Rating: 1, Code: "invalid", Error: "请选择评价等级"}},
		{"差评 without reasons", clientMsg{Type: "rate", Rating: 1, Grade: 4}, resultMsg{Type: "result", Rating: 1, Code: "invalid", Error: "请选择评价等级；不满意时请选择原因"}},
		{"差评 with a reason", clientMsg{Type: "rate", Rating: 1, Grade: 4, Reasons: []string{"process"}}, resultMsg{Type: "result", Rating: 1, OK: true}},
		{"again", clientMsg{Type: "rate", Rating: 1, Grade: 1}, resultMsg{Type: "result", Rating: 1, Code: "rating_closed", Error: "本次服务已评价"}},
	}
	for _, cc := range cases {
		t.Run(cc.name, func(t *testing.T) {
			if err := wsjson.Write(ctx, c, cc.msg); err != nil {
				t.Fatal(err)
			}
			var res resultMsg
			next(t, c, "result", &res)
			if res != cc.want {
				t.Errorf("result = %+v, want %+v", res, cc.want)
			}
		})
	}
	evs, _ := r.journaled()
	last := evs[len(evs)-1]
	if last.Type != hall.EvRatingGiven || last.Grade != 4 || last.Source != hall.PadTablet || last.Reasons[0] != "process" {
		t.Errorf("journaled %+v, want the tablet's 差评", last)
	}
	// A request that times out closes on the pad.
	r.serve("w1")
	next(t, c, "request", &req)
	r.at(10 * time.Minute).do(hall.Command{Op: hall.OpTick})
	var closed closedMsg
	next(t, c, "closed", &closed)
	if closed != (closedMsg{Type: "closed", Rating: 2, Outcome: "not_rated"}) {
		t.Errorf("closed = %+v, want rating 2 not rated", closed)
	}
	// Pausing changes the state.
	r.do(hall.Command{Op: hall.OpPause, Window: "w1", Reason: "午休"})
	var st stateMsg
	next(t, c, "state", &st)
	if st.Window.State != "paused" || st.Window.PauseReason != "午休" {
		t.Errorf("state after pause = %+v", st.Window)
	}
}

func TestPadHTTP(t *testing.T) {
	r := newHallRig(t)
	cases := []struct {
		path, ctype string
		code        int
		body        string
	}{
		{"/pad/w1/", "text/html", 200, "请对本次服务进行评价"},
		{"/pad/w1/pad.js", "javascript", 200, "WebSocket"},
		{"/pad/w1/pad.css", "text/css", 200, "button.grade"},
		{"/pad/w1/photo?staff=s-007", "image/png", 200, "\x89PNG"},
		{"/pad/w1/photo?staff=s-012", "", 404, ""},     // no photo configured
		{"/pad/w1/photo?staff=../../etc", "", 404, ""}, // only the roster's files
		{"/pad/w99/", "", 404, "no window w99"},
		{"/pad/w99/ws", "", 404, ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get(r.srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.code || !strings.Contains(resp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(b), c.body) {
				t.Errorf("GET %s = %d %s %.40q, want %d %s with %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), b, c.code, c.ctype, c.body)
			}
		})
	}
}

func TestNewRefusesABadRoster(t *testing.T) {
	r := newHallRig(t)
	if _, err := New(Options{Gateway: r.g, Staff: []config.Staff{{ID: "x"}}}); err == nil {
		t.Error("New() with a staff entry without name = nil error")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New() without a gateway = nil error")
	}
}

func TestPadToken(t *testing.T) {
	r := newHallRig(t)
	h, err := New(Options{Gateway: r.g, Staff: roster, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	base := strings.Replace(srv.URL, "http", "ws", 1) + "/pad/w1/ws"
	cases := []struct {
		name, query string
		ok          bool
	}{
		{"no token", "", false},
		{"wrong token", "?token=guess", false},
		{"token", "?token=s3cret", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, resp, err := websocket.Dial(ctx, base+c.query, nil)
			if c.ok {
				if err != nil {
					t.Fatalf("Dial(%s) = %v", c.query, err)
				}
				conn.CloseNow()
				return
			}
			if err == nil {
				conn.CloseNow()
				t.Fatalf("Dial(%s) connected, want 401", c.query)
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("Dial(%s) = %v, want 401", c.query, err)
			}
		})
	}
}
