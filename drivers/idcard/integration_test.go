package idcard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/drivers/idcard/idcardsim"
	"hallgw/firmware/serialport"
)

// rig is the real driver on a real serial port (a pty) facing the emulator.
type rig struct {
	sim    *idcardsim.Sim
	reader *idcard.Reader
	errs   []string // every error the driver returned, for the privacy check
}

func newRig(t *testing.T, o *idcardsim.Opts) *rig {
	t.Helper()
	sim, err := idcardsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	port, err := serialport.Open(sim.Path(), serialport.Mode{Baud: 115200})
	if err != nil {
		sim.Close()
		t.Fatal(err)
	}
	// A short backoff: a lift and a placement within one backoff wait
	// would go unseen.
	r, err := idcard.New(port, &idcard.Opts{MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rg := &rig{sim: sim, reader: r}
	t.Cleanup(func() {
		port.Close()
		sim.Close()
		for _, e := range rg.errs {
			for _, secret := range []string{synthetic().Number, synthetic().Name, "测试路"} {
				if strings.Contains(e, secret) {
					t.Errorf("error %q contains personal data %q", e, secret)
				}
			}
		}
	})
	return rg
}

func (rg *rig) read(t *testing.T) (*idcard.Card, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := rg.reader.Read(ctx)
	if err != nil {
		rg.errs = append(rg.errs, err.Error())
	}
	return c, err
}

// synthetic is a made-up identity: area code 000000 belongs to no place.
func synthetic() *idcard.Card {
	photo := make([]byte, idcard.PhotoLen)
	for i := range photo {
		photo[i] = byte(i * 7)
	}
	return &idcard.Card{
		Name: "王小明", Sex: idcard.SexMale, Nation: "01",
		Birth:   time.Date(1985, 6, 15, 0, 0, 0, 0, time.UTC),
		Address: "湖南省长沙市岳麓区测试路1号", Number: "000000198506150011", Authority: "测试市公安局",
		ValidFrom: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC), LongTerm: true, Photo: photo,
	}
}

func sameCard(a, b *idcard.Card) bool {
	return a.Name == b.Name && a.Sex == b.Sex && a.Nation == b.Nation && a.Birth.Equal(b.Birth) &&
		a.Address == b.Address && a.Number == b.Number && a.Authority == b.Authority &&
		a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo) && a.LongTerm == b.LongTerm &&
		string(a.Photo) == string(b.Photo)
}

func TestPTYReadCard(t *testing.T) {
	rg := newRig(t, nil)
	if _, err := rg.read(t); !errors.Is(err, idcard.ErrNoCard) {
		t.Fatalf("Read with no card = %v, want ErrNoCard", err)
	}
	want := synthetic()
	if err := rg.sim.Place(want); err != nil {
		t.Fatal(err)
	}
	got, err := rg.read(t)
	if err != nil || !sameCard(got, want) {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, want)
	}
	// This reader answers 80 to a card that was read and left there.
	if _, err := rg.read(t); !errors.Is(err, idcard.ErrNoCard) {
		t.Errorf("Read of a card left on the reader = %v, want ErrNoCard", err)
	}
}

func TestPTYCardRemovedMidRead(t *testing.T) {
	rg := newRig(t, nil)
	want := synthetic()
	rg.sim.Place(want)
	rg.sim.Fail(idcardsim.FaultMidRead)
	if c, err := rg.read(t); c != nil || !errors.Is(err, idcard.ErrCardRemoved) {
		t.Fatalf("Read with the card lifted mid-read = %v, %v; want ErrCardRemoved", c, err)
	}
	if _, err := rg.read(t); !errors.Is(err, idcard.ErrNoCard) {
		t.Fatalf("Read after lifting = %v, want ErrNoCard", err)
	}
	rg.sim.Place(want)
	if got, err := rg.read(t); err != nil || !sameCard(got, want) {
		t.Fatalf("Read after placing again = %+v, %v", got, err)
	}
}

func TestPTYBadChecksum(t *testing.T) {
	rg := newRig(t, nil)
	want := synthetic()
	rg.sim.Place(want)
	rg.sim.Fail(idcardsim.FaultChecksum)
	if c, err := rg.read(t); c != nil || !errors.Is(err, idcard.ErrChecksum) {
		t.Fatalf("Read with a garbled reply = %v, %v; want ErrChecksum", c, err)
	}
	if got, err := rg.read(t); err != nil || !sameCard(got, want) {
		t.Fatalf("retry = %+v, %v", got, err)
	}
}

func TestPTYSAM(t *testing.T) {
	rg := newRig(t, nil)
	ctx := context.Background()
	id, err := rg.reader.SAMID(ctx)
	if err != nil || id.String() != "05.01-20101216-0012345678-0987654321" {
		t.Fatalf("SAMID = %v, %v", id, err)
	}
	if err := rg.reader.SetMaxRFFrame(ctx, 80); err != nil {
		t.Errorf("SetMaxRFFrame = %v", err)
	}
	rg.sim.Fail(idcardsim.FaultSAM)
	if err := rg.reader.SAMStatus(ctx); !errors.Is(err, idcard.ErrSAM) {
		t.Errorf("SAMStatus of a failed SAM = %v, want ErrSAM", err)
	}
	rg.sim.Place(synthetic())
	if _, err := rg.read(t); !errors.Is(err, idcard.ErrSAM) {
		t.Errorf("Read with a failed SAM = %v, want ErrSAM", err)
	}
	rg.sim.Fail(idcardsim.FaultNone)
	if err := rg.reader.SAMStatus(ctx); err != nil {
		t.Errorf("SAMStatus after recovery = %v", err)
	}
	if got := rg.reader.String(); !strings.Contains(got, rg.sim.Path()) {
		t.Errorf("String() = %q, want the port path", got)
	}
}

func TestPTYInvalidCard(t *testing.T) {
	rg := newRig(t, nil)
	bad := synthetic()
	bad.Number = "000000198506150012" // check digit should be 1
	rg.sim.Place(bad)
	c, err := rg.read(t)
	if c != nil || !errors.Is(err, idcard.ErrCheckDigit) {
		t.Fatalf("Read of a card with a bad check digit = %v, %v; want ErrCheckDigit", c, err)
	}
	if strings.Contains(err.Error(), bad.Number[:17]) {
		t.Errorf("error %q quotes the number", err)
	}
}

func TestPTYPoll(t *testing.T) {
	for _, repeat := range []bool{false, true} {
		name := map[bool]string{false: "find 80 after read", true: "find 9F while on reader"}[repeat]
		t.Run(name, func(t *testing.T) {
			o := idcardsim.DefaultOpts
			o.RepeatFind = repeat
			rg := newRig(t, &o)
			want := synthetic()
			rg.sim.Place(want)
			rg.sim.Fail(idcardsim.FaultChecksum) // the first attempt breaks
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := rg.reader.Poll(ctx, 10*time.Millisecond)
			if err != nil || !sameCard(got, want) {
				t.Fatalf("Poll = %+v, %v", got, err)
			}
			// Left on the reader, the card is not reported again.
			short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
			got, err = rg.reader.Poll(short, 10*time.Millisecond)
			cancelShort()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Poll with the card left there = %v, %v; want a timeout", got, err)
			}
			go func() {
				time.Sleep(100 * time.Millisecond)
				rg.sim.Remove()
				// Place it again once the reader has surely asked a few
				// times, and so seen the reader empty.
				for n := rg.sim.Requests(); rg.sim.Requests() < n+3 && ctx.Err() == nil; {
					time.Sleep(5 * time.Millisecond)
				}
				rg.sim.Place(want)
			}()
			got, err = rg.reader.Poll(ctx, 10*time.Millisecond)
			if err != nil || !sameCard(got, want) {
				t.Fatalf("Poll after lifting and placing again = %+v, %v", got, err)
			}
		})
	}
}

func TestPTYHalt(t *testing.T) {
	rg := newRig(t, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := rg.reader.Poll(context.Background(), 20*time.Millisecond)
		errc <- err
	}()
	for end := time.Now().Add(10 * time.Second); rg.sim.Requests() < 2 && time.Now().Before(end); { // Poll is in progress
		time.Sleep(5 * time.Millisecond)
	}
	rg.reader.Halt()
	select {
	case err := <-errc:
		if !errors.Is(err, idcard.ErrHalted) {
			t.Errorf("Poll after Halt = %v, want ErrHalted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Poll did not return after Halt")
	}
}
