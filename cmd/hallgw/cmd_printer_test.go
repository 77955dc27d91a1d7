package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// printerTestBinary builds hallgw into a temporary directory.
func printerTestBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "hallgw")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// printerTestSim is a running "hallgw sim printer".
type printerTestSim struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startPrinterTestSim(t *testing.T, bin string, args ...string) *printerTestSim {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"sim", "printer"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &printerTestSim{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sim printer exited with %v after SIGINT\n%s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("sim printer still running 10 s after SIGINT")
		}
	})
	return s
}

// waitLine returns the next line with the prefix, skipping others; it fails
// after 10 s (only against hanging).
func (s *printerTestSim) waitLine(t *testing.T, prefix string) (string, []string) {
	t.Helper()
	var skipped []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("sim printer stdout closed while waiting for %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l, skipped
			}
			skipped = append(skipped, l)
		case <-timeout:
			t.Fatalf("no %q line from sim printer within 10 s", prefix)
		}
	}
}

func (s *printerTestSim) control(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// printerTestRun runs the binary and returns stdout, stderr and the exit code.
func printerTestRun(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestPrinterCommands(t *testing.T) {
	bin := printerTestBinary(t)
	save := t.TempDir()
	sim := startPrinterTestSim(t, bin, "--baud", "9600", "--width", "58", "--save", save)
	first, skipped := sim.waitLine(t, "pty: ")
	if len(skipped) != 0 {
		t.Errorf("lines before the pty line: %q", skipped)
	}
	port := strings.TrimPrefix(first, "pty: ")

	readStatus := func(t *testing.T, port string) map[string]bool {
		t.Helper()
		out, errOut, code := printerTestRun(t, bin, "read", "printer", "--port", port)
		if code != 0 {
			t.Fatalf("read printer exit %d: %s", code, errOut)
		}
		var s map[string]bool
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("read printer printed %q: %v", out, err)
		}
		return s
	}
	if s := readStatus(t, port); !s["online"] || s["paper_end"] || s["paper_near_end"] {
		t.Errorf("status of a ready printer = %v", s)
	}

	out, errOut, code := printerTestRun(t, bin, "print", "--port", port, "--width", "58", "--sample")
	if code != 0 || !strings.Contains(out, "printed sample ticket A012") {
		t.Fatalf("print --sample = exit %d, %q, %q", code, out, errOut)
	}
	header, _ := sim.waitLine(t, "--- ticket 1 (complete) ---")
	_, body := sim.waitLine(t, "--- end of ticket 1 ---")
	text := strings.Join(body, "\n") + "\n"
	for _, want := range []string{"A 0 1 2", "社保医保综合窗口", "您前面还有 3 人等待", "[QR: https://hall.example/t/A012]"} {
		if !strings.Contains(text, want) {
			t.Errorf("echoed ticket (%s) lacks %q:\n%s", header, want, text)
		}
	}
	saved, err := os.ReadFile(filepath.Join(save, "ticket-0001.txt"))
	if err != nil || string(saved) != text {
		t.Errorf("saved ticket = %q, %v; want the echoed text %q", saved, err, text)
	}

	sim.control(t, "paper near")
	sim.waitLine(t, "ok: paper near")
	if s := readStatus(t, port); !s["online"] || !s["paper_near_end"] {
		t.Errorf("status with paper near end = %v", s)
	}

	sim.control(t, "paper end")
	sim.waitLine(t, "ok: paper end")
	if s := readStatus(t, port); s["online"] || !s["paper_end"] {
		t.Errorf("status with paper end = %v", s)
	}
	_, errOut, code = printerTestRun(t, bin, "print", "--port", port, "--sample")
	if code != 1 || !strings.Contains(errOut, "cannot print") || !strings.Contains(errOut, "paper end") {
		t.Errorf("print on paper end = exit %d, %q; want 1 and the reason", code, errOut)
	}
	sim.control(t, "paper ok")
	sim.waitLine(t, "ok: paper ok")

	sim.control(t, "cover open")
	sim.waitLine(t, "ok: cover open")
	if s := readStatus(t, port); !s["cover_open"] {
		t.Errorf("status with the cover open = %v", s)
	}
	sim.control(t, "cover closed")
	sim.waitLine(t, "ok: cover closed")

	sim.control(t, "unplug")
	sim.waitLine(t, "ok: unplug")
	if _, errOut, code := printerTestRun(t, bin, "read", "printer", "--port", port); code != 1 {
		t.Errorf("read printer on an unplugged port = exit %d (%s), want 1", code, errOut)
	}
	sim.control(t, "replug")
	line, _ := sim.waitLine(t, "pty: ")
	if s := readStatus(t, strings.TrimPrefix(line, "pty: ")); !s["online"] {
		t.Errorf("status after replug = %v", s)
	}
}

func TestPrinterCommandUsage(t *testing.T) {
	bin := printerTestBinary(t)
	tests := []struct {
		name string
		args []string
	}{
		{"print without --sample", []string{"print", "--port", "/dev/null"}},
		{"print without --port", []string{"print", "--sample"}},
		{"print bad width", []string{"print", "--port", "/dev/null", "--sample", "--width", "76"}},
		{"read printer without --port", []string{"read", "printer"}},
		{"read printer bad baud", []string{"read", "printer", "--port", "/dev/null", "--baud", "0"}},
		{"sim printer bad width", []string{"sim", "printer", "--width", "76"}},
		{"sim printer bad paper", []string{"sim", "printer", "--paper", "out"}},
		{"sim printer extra argument", []string{"sim", "printer", "now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errOut, code := printerTestRun(t, bin, tt.args...); code != 2 {
				t.Errorf("hallgw %s = exit %d (%s), want 2", strings.Join(tt.args, " "), code, errOut)
			}
		})
	}
}
