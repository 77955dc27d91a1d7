package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/testkit"
	"hallgw/hall"
)

// TestDemoRunsAHall runs the simulated hall fast for a few seconds: people
// take tickets, staff call and serve them through the real daemon, and the
// demo stops cleanly when its duration is up.
func TestDemoRunsAHall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	out := &testkit.Buffer{}
	var d *daemon.Daemon
	start := time.Date(2026, 11, 30, 9, 20, 0, 0, mustLoc(t))
	err := Run(context.Background(), Options{
		Speed: 1200, Duration: 6 * time.Second, Windows: 8, Listen: "127.0.0.1:0", Seed: 3, Start: start,
		Out: out, Ready: func(dd *daemon.Daemon) { d = dd },
	})
	if err != nil {
		t.Fatalf("Run = %v\n%s", err, out)
	}
	if d == nil {
		t.Fatal("Ready was not called")
	}
	s := out.String()
	for _, want := range []string{"hallgw demo:", "today:", "stopped cleanly"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	// The closing summary counts served tickets: the people did something.
	i := strings.LastIndex(s, "today: ")
	var issued, waiting, served int
	if i < 0 {
		t.Fatal("no summary")
	}
	if _, err := fmt.Sscanf(s[i:], "today: %d issued, %d waiting, %d served", &issued, &waiting, &served); err != nil {
		t.Fatalf("summary %q: %v", s[i:], err)
	}
	if issued < 20 || served < 10 {
		t.Errorf("summary %q: want some tickets issued and served", s[i:min(len(s), i+80)])
	}
}

func mustLoc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestResizeWindows(t *testing.T) {
	base := config.Default().Windows
	tests := []struct {
		n    int
		last string
	}{{5, "5"}, {20, "20"}, {40, "40"}}
	for _, tt := range tests {
		got := config.ResizeWindows(base, tt.n)
		if len(got) != tt.n || got[len(got)-1].ID != tt.last || got[len(got)-1].Number != tt.n {
			t.Errorf("ResizeWindows(%d) ends with %+v, want %d windows ending at %s", tt.n, got[len(got)-1], tt.n, tt.last)
		}
		c := config.Default()
		c.Windows = got
		hc, err := c.HallConfig()
		if err != nil {
			t.Fatal(err)
		}
		if err := hc.Validate(); err != nil {
			t.Errorf("ResizeWindows(%d) gives an invalid hall: %v", tt.n, err)
		}
	}
}

func TestScreen(t *testing.T) {
	s := &Screen{HallName: "示范大厅", Speed: 60, Loc: time.UTC, Started: time.Now()}
	f := Frame{
		Now: time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC),
		Services: []hall.ServiceView{{ID: "general", Name: "综合受理", Prefix: "A", Waiting: 3, Issued: 10, DailyCap: 600,
			OpenWindows: 2, Estimate: hall.Estimate{Known: true, Lo: 4 * time.Minute, Hi: 6 * time.Minute}}},
		Windows: []hall.WindowView{
			{Number: 1, State: hall.Open, Current: 7, CurrentNumber: "A007"},
			{Number: 2, State: hall.Paused, PauseReason: "午休"},
			{Number: 3, State: hall.Closed},
		},
	}
	var b bytes.Buffer
	s.Render(&b, f)
	for _, want := range []string{"示范大厅", "综合受理", "10/600", "4–6 min", "A007 ●", "paused 午休", "closed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("screen lacks %q:\n%s", want, b.String())
		}
	}
	if got := pad("综合", 6); got != "综合  " {
		t.Errorf("pad(综合, 6) = %q, want two hanzi and two spaces", got)
	}
}
