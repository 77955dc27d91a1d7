package status

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hallgw/firmware/web/webtest"
)

func request(remote, local string, user, pass *string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	addr, _ := net.ResolveTCPAddr("tcp", local)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
	if user != nil {
		r.SetBasicAuth(*user, *pass)
	}
	return r
}

func ptr(s string) *string { return &s }

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, password string
		remote, local  string
		user, pass     *string
		want           int
		wantChallenge  bool
	}{
		{"no password, loopback", "", "127.0.0.1:5000", "127.0.0.1:8081", nil, nil, 204, false},
		{"no password, ipv6 loopback", "", "[::1]:5000", "[::1]:8081", nil, nil, 204, false},
		{"no password, LAN client", "", "10.0.0.7:5000", "10.0.0.2:8081", nil, nil, 403, false},
		{"no password, loopback client of a LAN listener", "", "127.0.0.1:5000", "10.0.0.2:8081", nil, nil, 403, false},
		{"no password, credentials do not help", "", "10.0.0.7:5000", "10.0.0.2:8081", ptr("admin"), ptr("x"), 403, false},
		{"password, none sent", "s3cret-pass", "10.0.0.7:5000", "10.0.0.2:8081", nil, nil, 401, true},
		{"password, wrong", "s3cret-pass", "10.0.0.7:5000", "10.0.0.2:8081", ptr("admin"), ptr("s3cret-pas"), 401, true},
		{"password, wrong user", "s3cret-pass", "10.0.0.7:5000", "10.0.0.2:8081", ptr("root"), ptr("s3cret-pass"), 401, true},
		{"password, right", "s3cret-pass", "10.0.0.7:5000", "10.0.0.2:8081", ptr("admin"), ptr("s3cret-pass"), 204, false},
		{"password, loopback still asks", "s3cret-pass", "127.0.0.1:5000", "127.0.0.1:8081", nil, nil, 401, true},
		{"password in Chinese", "政务服务中心密码", "10.0.0.7:5000", "10.0.0.2:8081", ptr("admin"), ptr("政务服务中心密码"), 204, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewGuard("admin", tt.password, nil).Wrap(ok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request(tt.remote, tt.local, tt.user, tt.pass))
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.want, w.Body.String())
			}
			if got := w.Header().Get("WWW-Authenticate") != ""; got != tt.wantChallenge {
				t.Errorf("challenge %q, want one: %v", w.Header().Get("WWW-Authenticate"), tt.wantChallenge)
			}
		})
	}
}

func TestGuardLockout(t *testing.T) {
	clk := webtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := NewGuard("admin", "s3cret-pass", clk.Now).Wrap(ok)
	do := func(remote, pass string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(remote, "10.0.0.2:8081", ptr("admin"), ptr(pass)))
		return w.Code
	}
	for i := 0; i < MaxFailures; i++ {
		if got := do("10.0.0.7:5000", "guess"); got != 401 {
			t.Fatalf("wrong password %d: %d, want 401", i+1, got)
		}
	}
	if got := do("10.0.0.7:5001", "s3cret-pass"); got != http.StatusTooManyRequests {
		t.Fatalf("right password after %d wrong ones: %d, want 429", MaxFailures, got)
	}
	if got := do("10.0.0.8:5000", "s3cret-pass"); got != 204 {
		t.Fatalf("another address: %d, want 204", got)
	}
	clk.Advance(FailureWindow)
	if got := do("10.0.0.7:5000", "s3cret-pass"); got != 204 {
		t.Fatalf("after the window: %d, want 204", got)
	}
}
