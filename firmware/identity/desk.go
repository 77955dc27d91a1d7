package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hallgw/drivers/idcard"
	"hallgw/firmware/gateway"
	"hallgw/firmware/privacy"
	"hallgw/hall"
)

// Member is a roster entry: a staff id and the holder hash of their card.
type Member struct {
	ID     string
	IDHash string
}

// Roster finds staff members by the holder hash of their ID card.
type Roster struct {
	byHash map[string]string
}

// NewRoster builds a roster. Members without a hash are left out (they
// cannot sign in by card); a malformed or repeated hash is an error.
func NewRoster(members []Member) (*Roster, error) {
	r := &Roster{byHash: map[string]string{}}
	for i, m := range members {
		if m.IDHash == "" {
			continue
		}
		switch {
		case m.ID == "":
			return nil, fmt.Errorf("identity: roster entry %d has no staff id", i)
		case !privacy.ValidHolderHash(m.IDHash):
			return nil, fmt.Errorf("identity: staff %s: id_hash is not a holder hash", m.ID)
		}
		if other, dup := r.byHash[m.IDHash]; dup {
			return nil, fmt.Errorf("identity: staff %s and %s have the same card", other, m.ID)
		}
		r.byHash[m.IDHash] = m.ID
	}
	return r, nil
}

// Lookup returns the staff id of a holder hash.
func (r *Roster) Lookup(hash string) (string, bool) {
	id, ok := r.byHash[hash]
	return id, ok
}

// Len returns the number of staff members who can sign in by card.
func (r *Roster) Len() int { return len(r.byHash) }

// Hall runs hall commands and reads the hall: *gateway.Gateway.
type Hall interface {
	Do(ctx context.Context, cmd hall.Command) ([]gateway.Committed, error)
	View(ctx context.Context, fn func(h *hall.Hall)) error
}

// Kind is what a swipe did.
type Kind int

// Swipe outcomes.
const (
	Refused Kind = iota
	SignedIn
	SignedOut
	HandedOver // the window went from one staff member to another
)

var kindNames = [...]string{"refused", "signed_in", "signed_out", "handed_over"}

// String returns the snake_case name.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText makes a Kind encode as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Reasons a swipe is refused.
const (
	ReasonUnknownCard = "unknown_card"    // not on the roster
	ReasonUnreadable  = "card_unreadable" // the card's data did not validate
	ReasonWindowBusy  = "window_busy"     // a ticket is still being served
	ReasonNoWindow    = "unknown_window"  // the reader's window is not in the hall
	ReasonFailed      = "failed"          // the hall refused for another reason
)

// Notice is the outcome of a swipe, for the window's display (LED bar). It
// holds no personal data.
type Notice struct {
	Window string    `json:"window"`
	Kind   Kind      `json:"kind"`
	Staff  string    `json:"staff,omitempty"` // roster id; "" when refused
	Reason string    `json:"reason,omitempty"`
	Text   string    `json:"text"` // short, in Chinese, for the display
	At     time.Time `json:"at"`
}

// DeskOpts configure a Desk.
type DeskOpts struct {
	Hall Hall
	// Hash is the holder hash of an ID number: privacy.Keeper.HolderHash.
	Hash   func(idNumber string) string
	Roster *Roster
	// Notify, when set, is told every outcome; it must not block. SetNotify
	// may set it later.
	Notify func(Notice)
	Now    func() time.Time
	Logger *slog.Logger
}

// Desk turns card swipes at windows into sign-ins and sign-outs. Its
// methods are safe for concurrent use.
type Desk struct {
	o   DeskOpts
	log *slog.Logger

	mu     sync.Mutex
	notify func(Notice)
	recent []Notice // the last outcomes, newest last
	lock   map[string]*sync.Mutex
}

// maxRecent bounds the outcomes kept for the status page.
const maxRecent = 20

// NewDesk returns a Desk.
func NewDesk(o DeskOpts) (*Desk, error) {
	if o.Hall == nil || o.Hash == nil || o.Roster == nil {
		return nil, errors.New("identity: Hall, Hash and Roster are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Desk{o: o, log: o.Logger, notify: o.Notify, lock: map[string]*sync.Mutex{}}, nil
}

// SetNotify sets the hook told every outcome (DeskOpts.Notify).
func (d *Desk) SetNotify(fn func(Notice)) {
	d.mu.Lock()
	d.notify = fn
	d.mu.Unlock()
}

// Recent returns the last outcomes, newest last.
func (d *Desk) Recent() []Notice {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Notice(nil), d.recent...)
}

// shortHash is what a log line may carry of a holder hash: enough to tell
// two cards apart in the log, useless to find the number.
func shortHash(h string) string {
	if len(h) > 15 {
		return h[:15]
	}
	return h
}

// windowLock serialises the swipes of one window.
func (d *Desk) windowLock(window string) *sync.Mutex {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.lock[window]
	if m == nil {
		m = &sync.Mutex{}
		d.lock[window] = m
	}
	return m
}

// Swipe handles a card read at window: sign in, sign out or hand over, or
// refuse. It returns the outcome, which the Notify hook is told too.
func (d *Desk) Swipe(ctx context.Context, window string, c *idcard.Card) Notice {
	l := d.windowLock(window)
	l.Lock()
	defer l.Unlock()
	hash := d.o.Hash(c.Number)
	staff, ok := d.o.Roster.Lookup(hash)
	if !ok {
		d.log.Warn("card not on the staff roster: sign-in refused", "window", window, "holder", shortHash(hash))
		return d.tell(Notice{Window: window, Kind: Refused, Reason: ReasonUnknownCard, Text: "证件未登记，不能签到"})
	}
	var w hall.WindowView
	found := false
	if err := d.o.Hall.View(ctx, func(h *hall.Hall) { w, found = h.Window(window) }); err != nil || !found {
		d.log.Error("sign-in at a window the hall does not have", "window", window, "err", err)
		return d.tell(Notice{Window: window, Kind: Refused, Reason: ReasonNoWindow, Text: "窗口未配置，不能签到"})
	}
	switch {
	case w.State == hall.Closed:
		if err := d.do(ctx, hall.OpOpenWindow, window, staff); err != nil {
			return d.failed(window, staff, err)
		}
		d.log.Info("staff signed in", "window", window, "staff", staff)
		return d.tell(Notice{Window: window, Kind: SignedIn, Staff: staff, Text: staff + " 签到成功"})
	case w.Staff == staff:
		if err := d.do(ctx, hall.OpCloseWindow, window, ""); err != nil {
			return d.failed(window, staff, err)
		}
		d.log.Info("staff signed out", "window", window, "staff", staff)
		return d.tell(Notice{Window: window, Kind: SignedOut, Staff: staff, Text: staff + " 已签退"})
	default:
		// Another person takes the window over.
		if err := d.do(ctx, hall.OpCloseWindow, window, ""); err != nil {
			return d.failed(window, staff, err)
		}
		if err := d.do(ctx, hall.OpOpenWindow, window, staff); err != nil {
			return d.failed(window, staff, err)
		}
		d.log.Info("window handed over", "window", window, "from", w.Staff, "to", staff)
		return d.tell(Notice{Window: window, Kind: HandedOver, Staff: staff, Text: staff + " 接班签到"})
	}
}

// Unreadable refuses a card whose data did not validate.
func (d *Desk) Unreadable(window string) Notice {
	d.log.Warn("unreadable card at a window reader", "window", window)
	return d.tell(Notice{Window: window, Kind: Refused, Reason: ReasonUnreadable, Text: "证件读取失败，请重放"})
}

func (d *Desk) do(ctx context.Context, op hall.Op, window, staff string) error {
	_, err := d.o.Hall.Do(ctx, hall.Command{Op: op, Window: window, Staff: staff, Source: "window"})
	return err
}

func (d *Desk) failed(window, staff string, err error) Notice {
	if errors.Is(err, hall.ErrWindowBusy) {
		return d.tell(Notice{Window: window, Kind: Refused, Staff: staff, Reason: ReasonWindowBusy, Text: "请先办结当前业务"})
	}
	d.log.Error("sign-in refused by the hall", "window", window, "staff", staff, "err", err)
	return d.tell(Notice{Window: window, Kind: Refused, Staff: staff, Reason: ReasonFailed, Text: "签到失败，请重试"})
}

func (d *Desk) tell(n Notice) Notice {
	n.At = d.o.Now()
	d.mu.Lock()
	fn := d.notify
	d.recent = append(d.recent, n)
	if len(d.recent) > maxRecent {
		d.recent = d.recent[len(d.recent)-maxRecent:]
	}
	d.mu.Unlock()
	if fn != nil {
		fn(n)
	}
	return n
}
