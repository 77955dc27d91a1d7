package powerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"hallgw/drivers/drycontact"
	"hallgw/drivers/ups"
	"hallgw/firmware/config"
	"hallgw/firmware/gateway"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
	"hallgw/firmware/power"
	"hallgw/firmware/serialport"
	"hallgw/hall"
)

// HealthID is the health registry id (and kind) of the UPS.
const HealthID = "ups"

// Source is the Source of the hall commands the power component gives: a
// notice or suspension with this source is the component's own.
const Source = "power"

// The texts shown on the displays.
const (
	NoticeOnBatteryText   = "市电中断，UPS 供电中"
	NoticeMaintenanceText = "系统即将停机维护"
	suspendText           = "市电中断，UPS 电量不足，暂停取号"
)

// MaxReopen is the longest pause before a failed UPS port is opened again.
const MaxReopen = 2 * time.Second

// Hall is what the component needs of the gateway: Do and View.
type Hall interface {
	Do(ctx context.Context, cmd hall.Command) ([]gateway.Committed, error)
	View(ctx context.Context, fn func(h *hall.Hall)) error
}

// Runner runs the shutdown command argv and returns when it has been
// carried out (systemctl returns once the shutdown is queued).
type Runner func(ctx context.Context, argv []string) error

// ExecRunner runs argv without a shell; its output is part of the error.
func ExecRunner(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return errors.New("powerd: empty shutdown command")
	}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("powerd: %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// OpenPin returns the GPIO pin with the given name through periph's host
// drivers.
func OpenPin(name string) (gpio.PinIn, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("powerd: gpio: %w", err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("powerd: no GPIO pin named %q", name)
	}
	return p, nil
}

func openSerial(name string, baud int) (io.ReadWriteCloser, error) {
	return serialport.Open(name, serialport.Mode{Baud: baud})
}

// Options configure a Monitor.
type Options struct {
	// Config is the power section; its defaults are filled in.
	Config  config.Power
	Hall    Hall
	Journal *journal.Journal
	// Health receives the "ups" device; nil keeps no health.
	Health *health.Registry
	// Clock tells the time and paces polls, ticks and reopening; nil means
	// the real clock.
	Clock  clockwork.Clock
	Logger *slog.Logger
	// OpenPort opens the UPS's serial port; nil means serialport.Open.
	OpenPort func(name string, baud int) (io.ReadWriteCloser, error)
	// OpenPin returns a GPIO input by name; nil means OpenPin.
	OpenPin func(name string) (gpio.PinIn, error)
	// Run runs the shutdown command; nil means ExecRunner.
	Run Runner
	// Reopen is the pause after a port error before the UPS port is opened
	// again: 0 means 1 s, at most MaxReopen.
	Reopen time.Duration
	// UPS are the driver's options (reply timeout and the like); nil means
	// ups.DefaultOpts. Clock and BatteryNominal are set from here.
	UPS *ups.Opts
	// Contacts are the contacts' options (debounce); the active levels and
	// the pull come from the configuration.
	Contacts *drycontact.Opts
	// Policy tunes the policy; MinRuntime comes from the configuration.
	Policy power.Config
	// TestInterval is the sampling interval of battery tests; 0 means 10 s.
	TestInterval time.Duration
}

// Monitor watches the UPS and carries out the power-loss policy. Make one
// with New and run it with Run.
type Monitor struct {
	o      Options
	cfg    config.Power
	clock  clockwork.Clock
	log    *slog.Logger
	policy *power.Policy
	inputs chan input

	mu        sync.Mutex
	st        Status
	dev       *ups.Dev // the open UPS session's device, nil between sessions
	testRun   *testRun
	shutdown  bool
	contacts  *drycontact.Dev
	upsSeen   bool // the serial UPS has reported (a sample or stale)
	contSeen  int  // initial contact levels received
	contWant  int
	reconcile bool // the start-up check of a hall left suspended is done
	wg        sync.WaitGroup
}

// input is one observation for the loop.
type input struct {
	ups     *upsSample
	contact *drycontact.Event
}

type upsSample struct {
	at     time.Time
	status ups.Status
	err    error
	stale  bool
}

// New checks the options and returns a Monitor.
func New(o Options) (*Monitor, error) {
	if err := o.Config.Check(); err != nil {
		return nil, fmt.Errorf("powerd: %w", err)
	}
	if !o.Config.Enabled() {
		return nil, errors.New("powerd: neither a UPS port nor a contact is configured")
	}
	if o.Hall == nil || o.Journal == nil {
		return nil, errors.New("powerd: hall and journal required")
	}
	o.Config = o.Config.WithDefaults()
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OpenPort == nil {
		o.OpenPort = openSerial
	}
	if o.OpenPin == nil {
		o.OpenPin = OpenPin
	}
	if o.Run == nil {
		o.Run = ExecRunner
	}
	if o.Reopen <= 0 {
		o.Reopen = time.Second
	}
	o.Reopen = min(o.Reopen, MaxReopen)
	if o.TestInterval <= 0 {
		o.TestInterval = 10 * time.Second
	}
	pc := o.Policy
	pc.MinRuntime = o.Config.MinRuntime.D()
	p, err := power.New(pc)
	if err != nil {
		return nil, err
	}
	m := &Monitor{o: o, cfg: o.Config, clock: o.Clock, log: o.Logger, policy: p, inputs: make(chan input, 64)}
	m.st = Status{State: power.Normal.String(), Since: o.Clock.Now().UTC(), Mains: "unknown"}
	if o.Config.UPS.Port != "" {
		m.st.UPS = &UPSStatus{Port: o.Config.UPS.Port, Comm: "unknown"}
	}
	if o.Config.DryContact.OnBattery != "" {
		m.st.Contacts = &ContactStatus{OnBatteryPin: o.Config.DryContact.OnBattery, LowBatteryPin: o.Config.DryContact.LowBattery}
		m.contWant = 1
		if o.Config.DryContact.LowBattery != "" {
			m.contWant = 2
		}
	}
	if err := m.loadLastTest(); err != nil {
		m.log.Warn("last battery test report unreadable", "err", err)
	}
	return m, nil
}

// Run watches the UPS until ctx is done. It returns nil then.
func (m *Monitor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		m.stopTests()
		m.mu.Lock()
		c := m.contacts
		m.mu.Unlock()
		if c != nil {
			c.Halt()
		}
		m.wg.Wait()
	}()
	m.health(func(d *health.Device) { d.Port = m.port() })
	if m.cfg.UPS.Port != "" {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.superviseUPS(ctx)
		}()
	}
	if m.cfg.DryContact.OnBattery != "" {
		if err := m.startContacts(ctx); err != nil {
			m.log.Error("UPS dry contacts unavailable", "err", err)
			m.mu.Lock()
			m.st.Contacts.Error = err.Error()
			m.contWant = 0
			m.mu.Unlock()
			if m.cfg.UPS.Port == "" {
				m.health(func(d *health.Device) { d.State, d.Reason = health.Down, err.Error() })
			}
		}
	}
	tick := m.clock.NewTicker(m.cfg.UPS.Poll.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case in := <-m.inputs:
			m.handle(ctx, in)
		case <-tick.Chan():
			m.exec(ctx, m.policy.Tick(m.clock.Now()))
		}
	}
}

func (m *Monitor) port() string {
	var ps []string
	if m.cfg.UPS.Port != "" {
		ps = append(ps, m.cfg.UPS.Port)
	}
	for _, p := range []string{m.cfg.DryContact.OnBattery, m.cfg.DryContact.LowBattery} {
		if p != "" {
			ps = append(ps, p)
		}
	}
	return strings.Join(ps, ",")
}

// send hands an observation to the loop, unless ctx ends first.
func (m *Monitor) send(ctx context.Context, in input) {
	select {
	case m.inputs <- in:
	case <-ctx.Done():
	}
}

// handle feeds one observation to the policy and carries out its actions.
func (m *Monitor) handle(ctx context.Context, in input) {
	var acts []power.Action
	switch {
	case in.ups != nil:
		s := in.ups
		m.noteUPS(s)
		switch {
		case s.err == nil:
			ps := power.Sample{At: s.at, OnBattery: s.status.OnBattery(), LowBattery: s.status.BatteryLow}
			if r := s.status.BatteryRuntime; r != nil {
				ps.Runtime, ps.RuntimeKnown = *r, true
			}
			acts = m.policy.UPS(ps)
		case s.stale:
			acts = m.policy.UPS(power.Sample{At: s.at, Stale: true})
		}
	case in.contact != nil:
		e := in.contact
		m.noteContact(e)
		c := power.ContactOnBattery
		if e.Input == drycontact.LowBattery {
			c = power.ContactLowBattery
		}
		acts = m.policy.Contact(e.At, c, e.Active)
	}
	m.exec(ctx, acts)
	m.startupCheck(ctx)
}

// exec carries out the policy's actions in order.
func (m *Monitor) exec(ctx context.Context, acts []power.Action) {
	for _, a := range acts {
		m.log.Info("power action", "action", a.String(), "reason", a.Reason)
		var err error
		switch a.Kind {
		case power.RaiseAlarm, power.ClearAlarm:
			err = m.alarm(ctx, a)
		case power.ShowNotice:
			text := NoticeOnBatteryText
			if a.Notice == power.NoticeMaintenance {
				text = NoticeMaintenanceText
			}
			err = m.showNotice(ctx, text)
		case power.ClearNotice:
			err = m.clearNotice(ctx)
		case power.RuntimeUpdate:
			m.mu.Lock()
			m.st.RuntimeS = ptr(int64(a.Runtime / time.Second))
			m.mu.Unlock()
		case power.StopTickets:
			err = m.suspend(ctx, a.Reason)
		case power.FlushJournal:
			err = m.o.Journal.Flush(ctx)
		case power.KillPower:
			err = m.killPower()
		case power.Shutdown:
			err = m.shutdownNow(ctx, a)
		case power.Resume:
			err = m.resume(ctx)
		}
		if err != nil && ctx.Err() == nil {
			m.log.Error("power action failed", "action", a.String(), "err", err)
		}
	}
	m.mu.Lock()
	if st := m.policy.State().String(); st != m.st.State {
		m.st.State, m.st.Since = st, m.clock.Now().UTC()
	}
	m.mu.Unlock()
	m.updateHealth()
}

// startupCheck resumes a hall that a power failure left suspended (or with
// the component's notice) once every source says mains is on: the gateway
// came back after the UPS cut and restored its output.
func (m *Monitor) startupCheck(ctx context.Context) {
	m.mu.Lock()
	// Every source has reported, and at least one knows about mains (a
	// UPS that does not answer yet leaves the question open).
	ready := !m.reconcile && (m.cfg.UPS.Port == "" || m.upsSeen) && m.contSeen >= m.contWant && m.st.Mains != "unknown"
	onMains := m.st.Mains == "on"
	if ready {
		m.reconcile = true
	}
	m.mu.Unlock()
	// On battery, the policy takes over: the hall resumes when mains has
	// been back for its hold time.
	if !ready || !onMains || m.policy.State() != power.Normal {
		return
	}
	var iss hall.IssuingView
	var n hall.NoticeView
	if err := m.o.Hall.View(ctx, func(h *hall.Hall) { iss, n = h.Issuing(), h.Notice() }); err != nil {
		m.log.Warn("power: read the hall at start", "err", err)
		return
	}
	if iss.Suspended && iss.Source == Source {
		m.log.Info("mains is on: resuming the hall stopped by a power failure", "since", iss.Since)
		if err := m.resume(ctx); err != nil {
			m.log.Error("resume after the power failure", "err", err)
		}
	}
	if n.Level != hall.NoticeClear && n.Source == Source {
		if err := m.clearNotice(ctx); err != nil {
			m.log.Error("clear the power notice", "err", err)
		}
	}
}

// showNotice shows text on every display unless an emergency notice is up
// or the same notice is already shown.
func (m *Monitor) showNotice(ctx context.Context, text string) error {
	var n hall.NoticeView
	if err := m.o.Hall.View(ctx, func(h *hall.Hall) { n = h.Notice() }); err != nil {
		return err
	}
	switch {
	case n.Level == hall.NoticeEmergency:
		m.log.Warn("power notice not shown: an emergency notice is up", "notice", text)
		return nil
	case n.Level == hall.NoticeInfo && n.Text == text:
		return nil
	}
	_, err := m.o.Hall.Do(ctx, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeInfo, Reason: text, Source: Source})
	return err
}

// clearNotice removes the notice when it is the component's own.
func (m *Monitor) clearNotice(ctx context.Context) error {
	var n hall.NoticeView
	if err := m.o.Hall.View(ctx, func(h *hall.Hall) { n = h.Notice() }); err != nil {
		return err
	}
	if n.Level == hall.NoticeClear || n.Source != Source {
		return nil
	}
	_, err := m.o.Hall.Do(ctx, hall.Command{Op: hall.OpNotice, Notice: hall.NoticeClear, Source: Source})
	return err
}

func (m *Monitor) suspend(ctx context.Context, reason string) error {
	var iss hall.IssuingView
	if err := m.o.Hall.View(ctx, func(h *hall.Hall) { iss = h.Issuing() }); err != nil {
		return err
	}
	if iss.Suspended {
		return nil
	}
	_, err := m.o.Hall.Do(ctx, hall.Command{Op: hall.OpSuspendIssuing, Reason: suspendText + "（" + reason + "）", Source: Source})
	return err
}

func (m *Monitor) resume(ctx context.Context) error {
	var iss hall.IssuingView
	if err := m.o.Hall.View(ctx, func(h *hall.Hall) { iss = h.Issuing() }); err != nil {
		return err
	}
	if !iss.Suspended || iss.Source != Source {
		return nil
	}
	_, err := m.o.Hall.Do(ctx, hall.Command{Op: hall.OpResumeIssuing, Source: Source})
	return err
}

// killPower asks the UPS to switch its output off after its delay and on
// again when mains returns, so the gateway boots by itself afterwards.
func (m *Monitor) killPower() error {
	m.mu.Lock()
	dev := m.dev
	m.mu.Unlock()
	if dev == nil {
		if m.cfg.UPS.Port == "" {
			m.log.Warn("no serial UPS: its output stays on until the battery is exhausted")
			return nil
		}
		return errors.New("powerd: UPS not reachable: shutdown.return not sent")
	}
	if err := dev.Instant(ups.CmdShutdownReturn, ""); err != nil {
		return err
	}
	m.mu.Lock()
	m.st.UPSShutdown = true
	m.mu.Unlock()
	return nil
}

// shutdownNow journals the shutdown and runs the shutdown command, once.
func (m *Monitor) shutdownNow(ctx context.Context, a power.Action) error {
	m.mu.Lock()
	done := m.shutdown
	m.shutdown = true
	m.mu.Unlock()
	if done {
		return nil
	}
	if err := m.record(ctx, RecShuttingDown, a.Reason, true); err != nil {
		m.log.Error("journal the shutdown", "err", err)
	}
	if err := m.o.Journal.Flush(ctx); err != nil {
		m.log.Error("flush the journal before shutting down", "err", err)
	}
	argv := m.cfg.ShutdownArgv()
	m.log.Warn("shutting the gateway down: power failure", "reason", a.Reason, "command", strings.Join(argv, " "))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := m.o.Run(rctx, argv)
	m.mu.Lock()
	m.st.Shutdown = &ShutdownStatus{At: m.clock.Now().UTC(), Reason: a.Reason, Command: strings.Join(argv, " ")}
	if err != nil {
		m.st.Shutdown.Error = err.Error()
	}
	m.mu.Unlock()
	return err
}

func ptr[T any](v T) *T { return &v }
