package identity

import (
	"context"
	"errors"
	"sync"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/privacy"
)

// ComponentOrder places the window readers after the privacy keeper.
const ComponentOrder = 30

var running sync.Map // *daemon.Daemon → *Desk

// For returns the sign-in desk of a running daemon, nil when no window
// reader is configured. The window displays hook in with SetNotify.
func For(d *daemon.Daemon) *Desk {
	v, _ := running.Load(d)
	desk, _ := v.(*Desk)
	return desk
}

// Status is the "identity" section of the gateway status.
type Status struct {
	Readers []config.WindowReader `json:"readers"`
	Roster  int                   `json:"roster_cards"`
	Recent  []Notice              `json:"recent"`
}

// NewComponent supervises the configured window readers, matching cards
// against the staff roster (staff ids and id_hash values) with the
// daemon's privacy keeper. It returns nil, nil when no reader is
// configured.
func NewComponent(d *daemon.Daemon, readers []config.WindowReader, staff []config.StaffCard) (daemon.Component, error) {
	if len(readers) == 0 {
		return nil, nil
	}
	k := privacy.For(d)
	if k == nil {
		return nil, errors.New("identity: window card readers need the privacy secret (privacy.secret or secret_file)")
	}
	members := make([]Member, len(staff))
	for i, s := range staff {
		members[i] = Member{ID: s.ID, IDHash: s.IDHash}
	}
	roster, err := NewRoster(members)
	if err != nil {
		return nil, err
	}
	desk, err := NewDesk(DeskOpts{Hall: d.Gateway, Hash: k.HolderHash, Roster: roster, Now: d.Now,
		Logger: d.Logger.With("part", "identity")})
	if err != nil {
		return nil, err
	}
	running.Store(d, desk)
	d.AddStatus("identity", func() any {
		return Status{Readers: readers, Roster: roster.Len(), Recent: desk.Recent()}
	})
	return &component{d: d, desk: desk, readers: readers}, nil
}

type component struct {
	d       *daemon.Daemon
	desk    *Desk
	readers []config.WindowReader
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (c *component) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	for _, r := range c.readers {
		o := ReaderOpts{Window: r.Window, Port: r.Port, Baud: r.BaudOrDefault(), Poll: r.PollOrDefault(), Health: c.d.Health}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.desk.RunReader(ctx, o)
		}()
	}
	return nil
}

func (c *component) Stop(ctx context.Context) error {
	defer running.Delete(c.d)
	if c.cancel != nil {
		c.cancel()
	}
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
