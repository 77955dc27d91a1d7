package identity

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/drivers/idcard"
	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/firmware/privacy"
	"hallgw/firmware/testkit"
	"hallgw/hall"
	"hallgw/hall/halltest"
)

const testSecret = "hallgw-example-hall-secret"

// card makes a made-up card (area code 000000 is no place) with a valid
// check digit.
func card(name, first17 string) *idcard.Card {
	c, err := idcard.CheckDigit(first17)
	if err != nil {
		panic(err)
	}
	return &idcard.Card{Name: name, Sex: idcard.SexFemale, Nation: "01",
		Birth: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Address: "湖南省长沙市岳麓区测试路8号",
		Number: first17 + string(c), Authority: "测试市公安局",
		ValidFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), LongTerm: true}
}

var (
	cardLi    = card("李小红", "00000019900101002") // staff S001
	cardZhao  = card("赵大伟", "00000019851212003") // staff S002
	cardGuest = card("钱多多", "00000020000202004") // not on the roster
)

// rig is a Desk on the real gateway of the sample hall.
type rig struct {
	t       *testing.T
	ctx     context.Context
	clock   *clockwork.FakeClock
	j       *journal.Journal
	g       *gateway.Gateway
	k       *privacy.Keeper
	desk    *Desk
	log     *testkit.Buffer
	notices chan Notice
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	dir := t.TempDir()
	r := &rig{t: t, ctx: ctx, clock: clockwork.NewFakeClockAt(halltest.Start().Add(time.Hour)), log: &testkit.Buffer{},
		notices: make(chan Notice, 64)}
	var err error
	r.j, err = journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "gw-t1", Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.j.Close() })
	r.g, err = gateway.Open(ctx, gateway.Options{Journal: r.j, GatewayID: "gw-t1", Hall: halltest.Config(), Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.g.Close(context.Background()) })
	r.k, err = privacy.Open(filepath.Join(dir, "privacy"), privacy.Opts{Secret: []byte(testSecret), Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	roster, err := NewRoster([]Member{{"S001", r.k.HolderHash(cardLi.Number)}, {"S002", r.k.HolderHash(cardZhao.Number)}, {"S003", ""}})
	if err != nil {
		t.Fatal(err)
	}
	r.desk, err = NewDesk(DeskOpts{Hall: r.g, Hash: r.k.HolderHash, Roster: roster, Now: r.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(r.log, nil)), Notify: func(n Notice) { r.notices <- n }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.checkLog() })
	return r
}

// checkLog fails if the log holds a clear name or ID number.
func (r *rig) checkLog() {
	out := r.log.String()
	for _, c := range []*idcard.Card{cardLi, cardZhao, cardGuest} {
		for _, secret := range []string{c.Number, c.Name, c.Number[6:14]} {
			if bytes.Contains([]byte(out), []byte(secret)) {
				r.t.Errorf("log holds personal data %q:\n%s", secret, out)
			}
		}
	}
}

// window returns the hall's view of a window.
func (r *rig) window(id string) hall.WindowView {
	r.t.Helper()
	var w hall.WindowView
	if err := r.g.View(r.ctx, func(h *hall.Hall) { w, _ = h.Window(id) }); err != nil {
		r.t.Fatal(err)
	}
	return w
}

// next waits for the next notice.
func (r *rig) next() Notice {
	r.t.Helper()
	select {
	case n := <-r.notices:
		return n
	case <-time.After(20 * time.Second):
		r.t.Fatal("no notice")
	}
	return Notice{}
}
