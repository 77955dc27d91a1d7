package ups

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Instant commands, by their NUT names.
const (
	CmdBeeperToggle    = "beeper.toggle"            // Q
	CmdTestQuick       = "test.battery.start.quick" // T: 10-second test
	CmdTestDeep        = "test.battery.start.deep"  // TL: test until battery low
	CmdTest            = "test.battery.start"       // T<mm>: argument in seconds, 60–5940
	CmdTestStop        = "test.battery.stop"        // CT
	CmdShutdownReturn  = "shutdown.return"          // S<n>R<mmmm>: off after OffDelay, back after OnDelay
	CmdShutdownStayOff = "shutdown.stayoff"         // S<n>R0000
	CmdShutdownStop    = "shutdown.stop"            // C
	CmdLoadOff         = "load.off"                 // S00R0000
	CmdLoadOn          = "load.on"                  // C
)

// Commands lists every instant command EncodeCommand knows.
var Commands = []string{
	CmdBeeperToggle, CmdLoadOff, CmdLoadOn, CmdShutdownReturn, CmdShutdownStayOff,
	CmdShutdownStop, CmdTest, CmdTestDeep, CmdTestQuick, CmdTestStop,
}

// ErrRejected is matched when the UPS answers an instant command with
// anything but silence or "ACK" (usually the command echoed back).
var ErrRejected = errors.New("ups: command rejected")

// Delays are NUT's ups.delay.shutdown (OffDelay) and ups.delay.start
// (OnDelay) used by the shutdown commands.
type Delays struct {
	// OffDelay is the wait before the output turns off, 12 s–600 s. Under a
	// minute it is sent in tenths of a minute (".5" = 30 s), else in whole
	// minutes; NUT truncates it the same way.
	OffDelay time.Duration
	// OnDelay is the wait, after the output went off, before it comes back,
	// 0–9999 minutes, truncated to whole minutes. 0 leaves the R part out of
	// shutdown.return, so the UPS restores the output when mains returns.
	OnDelay time.Duration
}

// DefaultDelays are NUT's defaults: offdelay 30 s, ondelay 180 s. Early
// Megatec firmware may stay off for good with an on-delay of 1 or 2 minutes.
var DefaultDelays = Delays{OffDelay: 30 * time.Second, OnDelay: 3 * time.Minute}

func (d Delays) check() error {
	if d.OffDelay < 12*time.Second || d.OffDelay > 10*time.Minute {
		return fmt.Errorf("ups: off delay %v out of range 12s..10m", d.OffDelay)
	}
	if d.OnDelay < 0 || d.OnDelay > 9999*time.Minute {
		return fmt.Errorf("ups: on delay %v out of range 0..9999m", d.OnDelay)
	}
	return nil
}

// offCode is NUT's encoding of the off delay: ".n" (n = seconds/6) under a
// minute, else two-digit minutes.
func (d Delays) offCode() string {
	s := int64(d.OffDelay / time.Second)
	if s < 60 {
		return "." + strconv.FormatInt(s/6, 10)
	}
	return fmt.Sprintf("%02d", s/60)
}

// EncodeCommand returns the bytes, CR included, NUT 2.8.0 sends for the
// instant command name. arg is the command's argument as upscmd takes it:
// only test.battery.start has one, its length in seconds (60–5940, default
// 600, sent as whole minutes). d supplies the shutdown delays.
func EncodeCommand(name, arg string, d Delays) ([]byte, error) {
	var s string
	switch name {
	case CmdBeeperToggle:
		s = "Q"
	case CmdTestQuick:
		s = "T"
	case CmdTestDeep:
		s = "TL"
	case CmdTestStop:
		s = "CT"
	case CmdShutdownStop, CmdLoadOn:
		s = "C"
	case CmdLoadOff:
		s = "S00R0000"
	case CmdTest:
		secs := int64(600)
		if arg != "" {
			v, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("ups: %s: argument %q: want seconds", name, arg)
			}
			secs = v
		}
		if secs < 60 || secs > 5940 {
			return nil, fmt.Errorf("ups: %s: %d s out of range 60..5940", name, secs)
		}
		s = fmt.Sprintf("T%02d", secs/60)
	case CmdShutdownReturn:
		if err := d.check(); err != nil {
			return nil, err
		}
		s = "S" + d.offCode()
		if on := int64(d.OnDelay / time.Minute); on > 0 {
			s += fmt.Sprintf("R%04d", on)
		}
	case CmdShutdownStayOff:
		if err := d.check(); err != nil {
			return nil, err
		}
		s = "S" + d.offCode() + "R0000"
	default:
		return nil, fmt.Errorf("ups: unknown instant command %q", name)
	}
	if arg != "" && name != CmdTest {
		return nil, fmt.Errorf("ups: %s takes no argument", name)
	}
	return []byte(s + "\r"), nil
}
