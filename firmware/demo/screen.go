package demo

import (
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/width"

	"hallgw/firmware/journal"
	"hallgw/hall"
)

// Screen renders the one-screen summary of the hall.
type Screen struct {
	HallName string
	Speed    float64
	Loc      *time.Location
	Started  time.Time // real time the demo started
	Extra    func() []string
}

// Frame is what one refresh shows.
type Frame struct {
	Now      time.Time
	Services []hall.ServiceView
	Windows  []hall.WindowView
	Stats    hall.Stats
	Usage    journal.Usage
	Arrivals int64
	Refused  int64
}

// Render writes the summary of f to w.
func (s *Screen) Render(w io.Writer, f Frame) {
	var b strings.Builder
	up := time.Since(s.Started).Round(time.Second)
	fmt.Fprintf(&b, "hallgw demo — %s    %s  (×%g)    up %s\n", s.HallName, f.Now.In(s.Loc).Format("2006-01-02 15:04:05"), s.Speed, up)
	fmt.Fprintf(&b, "journal: %d events durable, %s business, %s telemetry\n\n",
		f.Usage.Committed, bytesStr(f.Usage.BusinessBytes), bytesStr(f.Usage.TelemetryBytes))

	fmt.Fprintf(&b, "%-3s %-14s %7s %9s %11s %9s %7s\n", "", "service", "waiting", "issued", "est. wait", "mean svc", "windows")
	totalWaiting := 0
	for _, sv := range f.Services {
		totalWaiting += sv.Waiting
		issued := fmt.Sprintf("%d", sv.Issued)
		if sv.DailyCap > 0 {
			issued = fmt.Sprintf("%d/%d", sv.Issued, sv.DailyCap)
		}
		fmt.Fprintf(&b, "%-3s %s %7d %9s %11s %9s %7d\n", sv.Prefix, pad(sv.Name, 14), sv.Waiting, issued,
			estimateStr(sv.Estimate), roundDur(sv.MeanServiceTime), sv.OpenWindows)
	}
	b.WriteString("\n")
	const perRow = 4
	for i, win := range f.Windows {
		cell := fmt.Sprintf("%2d %s", win.Number, windowCell(win))
		b.WriteString(pad(cell, 24))
		if i%perRow == perRow-1 || i == len(f.Windows)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	var all hall.Counters
	for _, c := range f.Stats.Services {
		all.Issued += c.Issued
		all.Called += c.Called
		all.Served += c.Served
		all.NoShows += c.NoShows
		all.Transferred += c.Transferred
		all.WaitSum += c.WaitSum
		all.WaitMax = max(all.WaitMax, c.WaitMax)
		all.Ratings.Requested += c.Ratings.Requested
		all.Ratings.NotRated += c.Ratings.NotRated
		for g := range c.Ratings.Grades {
			all.Ratings.Grades[g] += c.Ratings.Grades[g]
		}
	}
	avg := time.Duration(0)
	if all.Called > 0 {
		avg = all.WaitSum / time.Duration(all.Called)
	}
	fmt.Fprintf(&b, "today: %d issued, %d waiting, %d served, %d no-shows, %d transferred; wait avg %s, max %s\n",
		all.Issued, totalWaiting, all.Served, all.NoShows, all.Transferred, roundDur(avg), roundDur(all.WaitMax))
	acc := f.Stats.Accuracy
	if acc.Samples > 0 {
		fmt.Fprintf(&b, "wait estimates: MAE %s over %d calls, %d%% within range, %d%% longer than said\n",
			roundDur(acc.MAE()), acc.Samples, acc.Within*100/acc.Samples, acc.Under*100/acc.Samples)
	}
	if r := all.Ratings; r.Requested > 0 {
		sat, _ := r.SatisfactionRate()
		nr, _ := r.NotRatedRate()
		fmt.Fprintf(&b, "ratings (好差评): %d given, satisfaction %.1f%% (target ≥ 95%%), not rated %.1f%%, 差评 %d\n",
			r.Given(), sat*100, nr*100, r.Bad())
	}
	if f.Refused > 0 {
		fmt.Fprintf(&b, "refused at the kiosk: %d (daily cap or no open window)\n", f.Refused)
	}
	if s.Extra != nil {
		for _, l := range s.Extra() {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	io.WriteString(w, b.String())
}

// Line is a one-line summary for logs and non-terminal output.
func (s *Screen) Line(f Frame) string {
	waiting, served := 0, 0
	for _, sv := range f.Services {
		waiting += sv.Waiting
	}
	open := 0
	for _, w := range f.Windows {
		served += w.Served
		if w.State != hall.Closed {
			open++
		}
	}
	return fmt.Sprintf("%s waiting=%d served=%d open_windows=%d/%d journal_seq=%d",
		f.Now.In(s.Loc).Format("15:04:05"), waiting, served, open, len(f.Windows), f.Usage.Committed)
}

func windowCell(w hall.WindowView) string {
	switch {
	case w.State == hall.Closed:
		return "closed"
	case w.State == hall.Paused:
		return "paused " + w.PauseReason
	case w.Current != 0:
		return w.CurrentNumber + " ●"
	default:
		return "idle"
	}
}

func estimateStr(e hall.Estimate) string {
	if !e.Known {
		return "—"
	}
	lo, hi := int(e.Lo/time.Minute), int(e.Hi/time.Minute)
	if lo == hi {
		return fmt.Sprintf("%d min", lo)
	}
	return fmt.Sprintf("%d–%d min", lo, hi)
}

func roundDur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return d.Round(time.Second).String()
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// pad pads s to cols terminal columns, counting a wide (CJK) character as
// two.
func pad(s string, cols int) string {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	if w >= cols {
		return s
	}
	return s + strings.Repeat(" ", cols-w)
}
