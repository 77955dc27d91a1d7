package web

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"

	"hallgw/firmware/web/status"
)

var (
	testsMu sync.Mutex
	tests   []status.SelfTest
)

var testName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// RegisterTest adds a button to the status page's self tests: label on the
// button, fn run when it is pressed (with a deadline of a minute; one test
// runs at a time). The device services register theirs when they start:
// print a test ticket, light every LED bar, play a test announcement.
// Registering a name again replaces the test in place. name must be
// letters, digits, '-' or '_' (it goes in a URL); RegisterTest panics
// otherwise, as it is a programming error.
func RegisterTest(name, label string, fn func(ctx context.Context) error) {
	if !testName.MatchString(name) || fn == nil {
		panic(fmt.Sprintf("web: bad self test %q", name))
	}
	testsMu.Lock()
	defer testsMu.Unlock()
	t := status.SelfTest{Name: name, Label: label, Run: fn}
	if i := slices.IndexFunc(tests, func(t status.SelfTest) bool { return t.Name == name }); i >= 0 {
		tests[i] = t
		return
	}
	tests = append(tests, t)
}

// UnregisterTest removes a self test (a device service that stops).
func UnregisterTest(name string) {
	testsMu.Lock()
	defer testsMu.Unlock()
	tests = slices.DeleteFunc(tests, func(t status.SelfTest) bool { return t.Name == name })
}

// Tests returns the registered self tests, in the order they were first
// registered.
func Tests() []status.SelfTest {
	testsMu.Lock()
	defer testsMu.Unlock()
	return slices.Clone(tests)
}
