package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"hallgw/firmware/config"
	"hallgw/firmware/daemon"
	"hallgw/firmware/journal"
)

// KindPrivacy is the journal kind of the record written each time day keys
// are shredded: {"v":1,"type":"keys_shredded","days":N,"through":"YYYY-MM-DD",
// "retention":"720h0m0s"}.
const KindPrivacy = "privacy"

// Appender journals business records durably; *journal.Journal is one.
type Appender interface {
	Append(ctx context.Context, recs ...journal.Record) (uint64, error)
}

// EnforcerOpts configure an Enforcer.
type EnforcerOpts struct {
	Keeper *Keeper
	// Journal, when set, receives a KindPrivacy record for every pass that
	// shredded keys.
	Journal Appender
	// Check is how often the date is looked at; a pass runs when it has
	// changed since the last one. 0 means a minute.
	Check time.Duration
	// Clock ticks the checks; nil means the real clock. Now tells the date
	// (the daemon's clock, which the demo speeds up); nil means time.Now.
	Clock clockwork.Clock
	Now   func() time.Time
	// Location is where days change; nil means UTC.
	Location *time.Location
	Logger   *slog.Logger
}

// Enforcer runs Keeper.Enforce when it starts and then once a day.
type Enforcer struct {
	o EnforcerOpts

	mu      sync.Mutex
	lastDay day
	lastRun time.Time
	lastN   int
	lastErr error
}

// NewEnforcer returns an Enforcer.
func NewEnforcer(o EnforcerOpts) (*Enforcer, error) {
	if o.Keeper == nil {
		return nil, errors.New("privacy: enforcer without a keeper")
	}
	if o.Check <= 0 {
		o.Check = time.Minute
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Enforcer{o: o}, nil
}

// Run makes a pass at once and then whenever the date changes, until ctx
// is done.
func (e *Enforcer) Run(ctx context.Context) {
	e.Pass(ctx)
	t := e.o.Clock.NewTicker(e.o.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			e.mu.Lock()
			due := dayOf(e.o.Now(), e.o.Location) != e.lastDay
			e.mu.Unlock()
			if due {
				e.Pass(ctx)
			}
		}
	}
}

// Pass runs Enforce once, journals what it shredded and returns the count.
func (e *Enforcer) Pass(ctx context.Context) (int, error) {
	now := e.o.Now()
	n, err := e.o.Keeper.Enforce()
	if n > 0 {
		e.o.Logger.Info("personal data past retention shredded", "day_keys", n,
			"through", e.o.Keeper.Stats().Shredded, "retention", e.o.Keeper.Retention())
		if e.o.Journal != nil {
			if jerr := e.journal(ctx, now, n); jerr != nil {
				err = errors.Join(err, jerr)
			}
		}
	}
	if err != nil {
		e.o.Logger.Warn("privacy retention", "err", err)
	}
	e.mu.Lock()
	e.lastDay, e.lastRun, e.lastN, e.lastErr = dayOf(now, e.o.Location), now, n, err
	e.mu.Unlock()
	return n, err
}

type shredRecord struct {
	V         int    `json:"v"`
	Type      string `json:"type"`
	Days      int    `json:"days"`
	Through   string `json:"through"`
	Retention string `json:"retention"`
}

func (e *Enforcer) journal(ctx context.Context, at time.Time, n int) error {
	b, err := json.Marshal(shredRecord{V: 1, Type: "keys_shredded", Days: n,
		Through: e.o.Keeper.Stats().Shredded, Retention: e.o.Keeper.Retention().String()})
	if err != nil {
		return err
	}
	if _, err := e.o.Journal.Append(ctx, journal.Record{Kind: KindPrivacy, At: at.UTC(), Data: b}); err != nil {
		return fmt.Errorf("privacy: journal: %w", err)
	}
	return nil
}

// Status is the "privacy" section of the gateway status.
type Status struct {
	Stats
	LastRun  time.Time `json:"last_enforced,omitzero"`
	LastN    int       `json:"last_shredded"`
	LastErr  string    `json:"last_error,omitempty"`
	Upstream string    `json:"upstream"` // "hash" or "clear"
}

// Status returns the keystore's figures and the last pass.
func (e *Enforcer) Status() Status {
	e.mu.Lock()
	s := Status{LastRun: e.lastRun, LastN: e.lastN, Upstream: "hash"}
	if e.lastErr != nil {
		s.LastErr = e.lastErr.Error()
	}
	e.mu.Unlock()
	s.Stats = e.o.Keeper.Stats()
	if e.o.Keeper.o.UpstreamClear {
		s.Upstream = "clear"
	}
	return s
}

// ComponentOrder places the privacy component before every component that
// reads ID cards, so they find the Keeper with For.
const ComponentOrder = 5

var running sync.Map // *daemon.Daemon → *Keeper

// For returns the Keeper of a running daemon, nil when none is configured.
func For(d *daemon.Daemon) *Keeper {
	v, _ := running.Load(d)
	k, _ := v.(*Keeper)
	return k
}

// NewComponent opens the keystore under the data directory
// (<data>/privacy) with the configured secret and retention, and runs the
// Enforcer. It returns nil, nil when no secret is configured.
func NewComponent(d *daemon.Daemon, c config.Privacy) (daemon.Component, error) {
	secret, err := c.SecretBytes(d.Path)
	if err != nil || secret == nil {
		return nil, err
	}
	loc, err := d.Cfg.Location()
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	k, err := Open(filepath.Join(d.DataDir(), "privacy"), Opts{
		Secret: secret, Retention: c.RetentionOrDefault(), Now: d.Now, Location: loc,
		UpstreamClear: c.UpstreamClear,
	})
	if err != nil {
		return nil, err
	}
	e, err := NewEnforcer(EnforcerOpts{Keeper: k, Journal: d.Journal, Now: d.Now, Location: loc,
		Logger: d.Logger.With("part", "privacy")})
	if err != nil {
		return nil, err
	}
	running.Store(d, k)
	d.AddStatus("privacy", func() any { return e.Status() })
	return daemon.Loop(e.Run, func() { running.Delete(d) }), nil
}
