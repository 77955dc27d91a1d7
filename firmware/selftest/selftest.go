package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"

	"hallgw/drivers/voice"
	"hallgw/firmware/config"
	"hallgw/firmware/powerd"
	"hallgw/firmware/probe"
	"hallgw/firmware/serialport"
)

// Device kinds of a Check.
const (
	KindPrinter = "printer"
	KindBar     = "led-bar"
	KindDisplay = "hall-display"
	KindVoice   = "voice"
	KindUPS     = "ups"
	KindContact = "ups-contact"
	KindIDCard  = "idcard"
)

// Check is the outcome of one device's test.
type Check struct {
	Device string `json:"device"` // e.g. "kiosk-1/printer", "bus-1/t05", "ups"
	Kind   string `json:"kind"`
	Port   string `json:"port,omitempty"`
	Pass   bool   `json:"pass"`
	// Result says what was seen; Error why the device failed.
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Report is every check, in the order run.
type Report struct {
	Checks []Check `json:"checks"`
	// Pass is true when every check passed.
	Pass bool `json:"pass"`
}

// ErrDaemonRunning is returned when the daemon holds the journal: its
// devices cannot be tested while it runs.
var ErrDaemonRunning = errors.New("selftest: the hallgw daemon is running and holds the devices; stop it first (systemctl stop hallgw)")

// Opts configure a Run.
type Opts struct {
	Config *config.Config
	// Root prefixes the configured paths (the data directory), as the
	// daemon's --root does.
	Root string
	// Power is the power section to test; when it configures nothing, the
	// configuration's is used.
	Power config.Power
	// Readers are ID-card readers to test besides the configuration's
	// window readers (devices.window_readers).
	Readers []config.WindowReader
	// CardWait is how long each reader waits for a card; 0 does not wait
	// (the reader's module is still checked).
	CardWait time.Duration
	// BarHold is how long the bars and displays show the test text
	// (default 3 s).
	BarHold time.Duration
	// Voice plays the test announcement; nil skips the voice check.
	Voice voice.Player
	// Clips is the clip set of the announcement; nil means the built-in set.
	Clips *voice.ClipSet
	// Open opens a serial port; nil means serialport.Open.
	Open func(name string, baud int) (io.ReadWriteCloser, error)
	// OpenPin returns a GPIO input; nil means powerd.OpenPin.
	OpenPin func(name string) (gpio.PinIn, error)
	// Timeout bounds each device's answer (default 2 s).
	Timeout time.Duration
	// Progress, when set, is told which device is being tested.
	Progress func(device string)
	Now      func() time.Time
}

func (o *Opts) defaults() error {
	if o.Config == nil {
		return errors.New("selftest: no configuration")
	}
	if o.BarHold <= 0 {
		o.BarHold = 3 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Open == nil {
		o.Open = func(name string, baud int) (io.ReadWriteCloser, error) {
			return serialport.Open(name, serialport.Mode{Baud: baud})
		}
	}
	if o.OpenPin == nil {
		o.OpenPin = powerd.OpenPin
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Run tests every configured device and returns the report. Its error
// is not nil only when nothing could be tested (no configuration, the
// daemon running, ctx done).
func Run(ctx context.Context, o Opts) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	dir := o.Config.Gateway.DataDir
	if o.Root != "" {
		dir = filepath.Join(o.Root, dir)
	}
	if running, err := DaemonRunning(dir); err != nil {
		return Report{}, err
	} else if running {
		return Report{}, ErrDaemonRunning
	}
	r := &run{o: o}
	for _, k := range o.Config.Devices.Kiosks {
		if k.Printer != nil {
			r.printer(ctx, k)
		}
	}
	for i, b := range o.Config.Devices.Buses {
		r.bus(ctx, i, b)
	}
	if o.Voice != nil {
		r.voice(ctx)
	}
	p := o.Power
	if !p.Enabled() {
		p = config.PowerOf(o.Config)
	}
	p = p.WithDefaults()
	if p.UPS.Port != "" {
		r.ups(ctx, p)
	}
	if p.DryContact.OnBattery != "" {
		r.contacts(p)
	}
	for _, rd := range append(append([]config.WindowReader(nil), o.Config.Devices.WindowReaders...), o.Readers...) {
		r.reader(ctx, rd)
	}
	rep := Report{Checks: r.checks, Pass: true}
	for _, c := range r.checks {
		rep.Pass = rep.Pass && c.Pass
	}
	return rep, ctx.Err()
}

type run struct {
	o      Opts
	checks []Check
}

func (r *run) progress(device string) {
	if r.o.Progress != nil {
		r.o.Progress(device)
	}
}

func (r *run) add(c Check, err error) {
	if err != nil {
		c.Pass, c.Error = false, err.Error()
	}
	r.checks = append(r.checks, c)
}

// open opens a port, explaining a busy one.
func (r *run) open(name string, baud int) (io.ReadWriteCloser, error) {
	rw, err := r.o.Open(name, baud)
	if err != nil {
		return nil, probe.OpenError(err)
	}
	return rw, nil
}

// DaemonRunning reports whether a daemon holds the journal in dir (bbolt
// keeps an exclusive lock on the file while it is open).
func DaemonRunning(dir string) (bool, error) {
	f, err := os.Open(filepath.Join(dir, "journal.db"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("selftest: %w", err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("selftest: lock %s: %w", f.Name(), err)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false, nil
}
