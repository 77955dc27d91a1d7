package powerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallgw/drivers/ups"
	"hallgw/firmware/power"
)

// TestMetaKey is the journal metadata key of the last battery test report.
const TestMetaKey = "power.battery_test"

// Errors StartTest returns; the platform command maps them to its codes.
var (
	ErrNoSerialUPS  = errors.New("powerd: no serial UPS configured: a battery test needs one")
	ErrTestRunning  = errors.New("powerd: a battery test is already running")
	ErrNotOnMains   = errors.New("powerd: the hall is not on mains: no battery test now")
	ErrUPSNotOpen   = errors.New("powerd: the UPS does not answer: no battery test now")
	ErrNoTestToStop = errors.New("powerd: no battery test is running")
)

// TestRequest asks for a battery test: a timed test of Minutes (1–99), or
// a deep test until the battery is low. A deep test drains the battery:
// run it outside opening hours.
type TestRequest struct {
	Minutes int  `json:"minutes,omitempty"`
	Deep    bool `json:"deep,omitempty"`
}

// DefaultTestMinutes is the length of a test when none is asked for: long
// enough for a 4-hour battery to fall measurably (docs/ups.md).
const DefaultTestMinutes = 40

// Spec returns the driver's test spec, checking the request.
func (r TestRequest) Spec(interval time.Duration) (ups.TestSpec, error) {
	switch {
	case r.Deep && r.Minutes != 0:
		return ups.TestSpec{}, errors.New("powerd: a test is either deep or timed, not both")
	case r.Deep:
		return ups.TestSpec{Interval: interval}, nil
	case r.Minutes == 0:
		r.Minutes = DefaultTestMinutes
	}
	if r.Minutes < 1 || r.Minutes > 99 {
		return ups.TestSpec{}, fmt.Errorf("powerd: test of %d minutes: want 1–99", r.Minutes)
	}
	return ups.TestSpec{Duration: time.Duration(r.Minutes) * time.Minute, Interval: interval}, nil
}

// TestStatus is a battery test, running or done. Report leaves out the
// samples.
type TestStatus struct {
	State    string    `json:"state"` // running, done, failed
	Kind     string    `json:"kind"`  // "timed 40m" or "deep"
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// RuntimeS is how long a full battery lasts at the test's load.
	RuntimeS  int64   `json:"runtime_s,omitempty"`
	Load      float64 `json:"load,omitempty"`
	RequiredS int64   `json:"required_s,omitempty"`
	Meets4h   bool    `json:"meets_4h"`
	Measured  bool    `json:"measured,omitempty"`
	Method    string  `json:"method,omitempty"`
	Error     string  `json:"error,omitempty"`
	// Report is the driver's report, samples included; kept for the next
	// start (battery.runtime), not published.
	Report *ups.Report `json:"-"`
}

type testRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartTest starts a battery test in the background; its outcome goes to
// the status (LastTest), the journal (a battery_test record) and the next
// start. The UPS must answer and the hall must be on mains.
func (m *Monitor) StartTest(ctx context.Context, req TestRequest) (TestStatus, error) {
	spec, err := req.Spec(m.o.TestInterval)
	if err != nil {
		return TestStatus{}, err
	}
	if m.cfg.UPS.Port == "" {
		return TestStatus{}, ErrNoSerialUPS
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.testRun != nil:
		return TestStatus{}, ErrTestRunning
	case m.dev == nil:
		return TestStatus{}, ErrUPSNotOpen
	case m.st.State != power.Normal.String() || m.st.Mains != "on" || m.shutdown:
		return TestStatus{}, ErrNotOnMains
	}
	dev := m.dev
	kind := "deep"
	if spec.Duration > 0 {
		kind = fmt.Sprintf("timed %v", spec.Duration)
	}
	ts := TestStatus{State: "running", Kind: kind, Started: m.clock.Now().UTC(), RequiredS: int64(ups.Required / time.Second)}
	m.st.LastTest = &ts
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run := &testRun{cancel: cancel, done: make(chan struct{})}
	m.testRun = run
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(run.done)
		defer cancel()
		m.log.Info("battery test started", "kind", kind)
		rep, err := dev.BatteryTest(tctx, spec)
		m.finishTest(tctx, ts, rep, err)
	}()
	return ts, nil
}

// StopTest cancels the running test (the UPS is sent "CT") and waits for
// it to end.
func (m *Monitor) StopTest(ctx context.Context) error {
	m.mu.Lock()
	run := m.testRun
	m.mu.Unlock()
	if run == nil {
		return ErrNoTestToStop
	}
	run.cancel()
	select {
	case <-run.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopTests cancels a running test when the monitor stops.
func (m *Monitor) stopTests() {
	m.mu.Lock()
	run := m.testRun
	m.mu.Unlock()
	if run != nil {
		run.cancel()
	}
}

func (m *Monitor) finishTest(ctx context.Context, ts TestStatus, rep ups.Report, err error) {
	ts.Finished = m.clock.Now().UTC()
	ts.State = "done"
	if err != nil {
		ts.State, ts.Error = "failed", err.Error()
	}
	if err == nil || errors.Is(err, ups.ErrInconclusive) {
		ts.RuntimeS, ts.Load, ts.Meets4h = int64(rep.Runtime/time.Second), rep.Load, rep.Meets4h && err == nil
		ts.Measured, ts.Method = rep.Measured, rep.Method
		if rep.Required > 0 {
			ts.RequiredS = int64(rep.Required / time.Second)
		}
	}
	if err == nil {
		r := rep
		ts.Report = &r
		if b, jerr := json.Marshal(savedTest{TestStatus: ts, Report: rep}); jerr == nil {
			if serr := m.o.Journal.SetMeta(TestMetaKey, b); serr != nil {
				m.log.Error("keep the battery test report", "err", serr)
			}
		}
	}
	m.log.Info("battery test ended", "state", ts.State, "runtime", time.Duration(ts.RuntimeS)*time.Second,
		"meets_4h", ts.Meets4h, "err", ts.Error)
	m.mu.Lock()
	m.st.LastTest = &ts
	m.testRun = nil
	m.mu.Unlock()
	rec := m.newRecord(RecBatteryTest, ts.Error)
	rec.Test = &ts
	if err := m.journal(context.WithoutCancel(ctx), rec, false); err != nil {
		m.log.Error("journal the battery test", "err", err)
	}
}

// lastReport returns the report of the last successful test, nil when
// none.
func (m *Monitor) lastReport() *ups.Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.st.LastTest; t != nil && t.Report != nil {
		r := *t.Report
		return &r
	}
	return nil
}

// loadLastTest restores the last test report kept in the journal.
func (m *Monitor) loadLastTest() error {
	b, err := m.o.Journal.Meta(TestMetaKey)
	if err != nil || b == nil {
		return err
	}
	var st savedTest
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	ts := st.TestStatus
	ts.Report = &st.Report
	m.st.LastTest = &ts
	return nil
}

// savedTest is what TestMetaKey holds: the test and its whole report.
type savedTest struct {
	TestStatus
	Report ups.Report `json:"report"`
}
