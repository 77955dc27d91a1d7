package mqttbroker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MosquittoOptions configure a private mosquitto (Debian package
// mosquitto) for tests and benchmarks.
type MosquittoOptions struct {
	Bin string // path of the mosquitto program
	Dir string // its configuration, log and persistence files go here
	// Port to listen on, 127.0.0.1 only; 0 picks a free one.
	Port int
	// Persistence keeps retained messages and persistent sessions across
	// a Restart.
	Persistence bool
	// Extra are more lines of mosquitto.conf.
	Extra []string
}

// Mosquitto is a mosquitto process with its own configuration file.
type Mosquitto struct {
	opts MosquittoOptions
	conf string
	cmd  *exec.Cmd
	done chan error
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartMosquitto writes the configuration and starts mosquitto, returning
// once it accepts connections. Its default of 1000 queued messages per
// client drops QoS 1 messages to slow subscribers; the configuration here
// lifts it, so tests see every message.
func StartMosquitto(ctx context.Context, opts MosquittoOptions) (*Mosquitto, error) {
	if opts.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("mqttbroker: free port: %w", err)
		}
		opts.Port = p
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("mqttbroker: %w", err)
	}
	lines := []string{
		fmt.Sprintf("listener %d 127.0.0.1", opts.Port),
		"allow_anonymous true",
		"max_queued_messages 0",
		"max_inflight_messages 0",
		"log_dest file " + filepath.Join(opts.Dir, "mosquitto.log"),
		"log_type error",
		"log_type warning",
		"log_type notice",
	}
	// Run as whoever runs the tests: as root mosquitto would otherwise
	// switch to its own user and lose access to Dir.
	if u, err := user.Current(); err == nil {
		lines = append(lines, "user "+u.Username)
	}
	if opts.Persistence {
		lines = append(lines, "persistence true", "persistence_location "+opts.Dir+"/", "autosave_interval 1")
	} else {
		lines = append(lines, "persistence false")
	}
	lines = append(lines, opts.Extra...)
	m := &Mosquitto{opts: opts, conf: filepath.Join(opts.Dir, "mosquitto.conf")}
	if err := os.WriteFile(m.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o640); err != nil {
		return nil, fmt.Errorf("mqttbroker: %w", err)
	}
	if err := m.start(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mosquitto) start(ctx context.Context) error {
	m.cmd = exec.Command(m.opts.Bin, "-c", m.conf)
	out, err := os.OpenFile(filepath.Join(m.opts.Dir, "stderr.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("mqttbroker: %w", err)
	}
	defer out.Close()
	m.cmd.Stdout, m.cmd.Stderr = out, out
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("mqttbroker: start mosquitto: %w", err)
	}
	m.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(m.cmd, m.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-m.done:
			m.done <- err
			log, _ := os.ReadFile(filepath.Join(m.opts.Dir, "mosquitto.log"))
			return fmt.Errorf("mqttbroker: mosquitto exited (%v): %s", err, lastLines(string(log), 5))
		case <-ctx.Done():
			m.Kill()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Kill()
			return errors.New("mqttbroker: mosquitto did not listen within 10 s")
		}
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}

// Addr returns 127.0.0.1:port.
func (m *Mosquitto) Addr() string { return "127.0.0.1:" + strconv.Itoa(m.opts.Port) }

// Port returns the port.
func (m *Mosquitto) Port() int { return m.opts.Port }

// URL returns tcp://127.0.0.1:port.
func (m *Mosquitto) URL() string { return "tcp://" + m.Addr() }

// Stop ends mosquitto with SIGTERM (it saves its persistence file) and
// waits for it.
func (m *Mosquitto) Stop() error { return m.signal(syscall.SIGTERM) }

// Kill ends mosquitto with SIGKILL.
func (m *Mosquitto) Kill() error { return m.signal(syscall.SIGKILL) }

func (m *Mosquitto) signal(sig syscall.Signal) error {
	if m.cmd == nil || m.cmd.Process == nil {
		return nil
	}
	select {
	case err := <-m.done:
		m.done <- err
		return nil
	default:
	}
	if err := m.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("mqttbroker: signal mosquitto: %w", err)
	}
	select {
	case err := <-m.done:
		m.done <- err
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		return errors.New("mqttbroker: mosquitto did not stop within 10 s")
	}
	return nil
}

// Restart starts mosquitto again on the same port and configuration.
func (m *Mosquitto) Restart(ctx context.Context) error {
	if err := m.Stop(); err != nil {
		return err
	}
	return m.start(ctx)
}

// Log returns mosquitto's log so far.
func (m *Mosquitto) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.opts.Dir, "mosquitto.log"))
	return string(b)
}
