package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that turns a missing tool from a
// skip into a failure. scripts/test sets it, because it installs the tools
// first: a check that skips there would hide a broken install step.
const RequireEnv = "HALLGW_REQUIRE_TOOLS"

// Tool returns the path of the named program. When it is missing the test is
// skipped, or fails when HALLGW_REQUIRE_TOOLS=1.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	// Debian keeps some tools outside PATH (NUT drivers, upsd).
	for _, dir := range []string{"/usr/sbin", "/sbin", "/lib/nut", "/usr/lib/nut"} {
		cand := dir + "/" + name
		if st, err := os.Stat(cand); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return cand
		}
	}
	Missing(t, "tool %q not found", name)
	return ""
}

// Missing skips the test, or fails it when tools are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("testkit: "+format+" ("+RequireEnv+"=1: install it, see scripts/test)", args...)
	}
	t.Skipf("testkit: "+format+" (set "+RequireEnv+"=1 to make this a failure)", args...)
}
