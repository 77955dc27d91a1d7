package status

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"sync"
	"time"
)

// Realm is the protection space named in WWW-Authenticate.
const Realm = "hallgw status"

// Lockout limits guessing: after MaxFailures wrong passwords from one
// address within FailureWindow, that address gets 429 until the window has
// passed.
const (
	MaxFailures   = 10
	FailureWindow = time.Minute
	maxTracked    = 1024 // addresses tracked at once
)

// Guard protects a handler with HTTP Basic authentication.
type Guard struct {
	user, password [sha256.Size]byte
	open           bool // no password: loopback only
	now            func() time.Time

	mu       sync.Mutex
	failures map[string]*failure
}

type failure struct {
	n     int
	since time.Time
}

// NewGuard returns a guard for user and password. With an empty password
// it lets through only requests that reach a loopback address from a
// loopback address. now is the clock of the lockout (nil: time.Now).
func NewGuard(user, password string, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{
		user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password)),
		open: password == "", now: now, failures: map[string]*failure{},
	}
}

// Wrap returns h behind the guard.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.open {
			if !loopbackRequest(r) {
				http.Error(w, "status: the status page has no password (web.status_password) and answers on loopback only", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		ip := remoteIP(r)
		if g.locked(ip) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "status: too many wrong passwords; try again in a minute", http.StatusTooManyRequests)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || !g.check(user, pass) {
			if ok {
				g.fail(ip)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
			http.Error(w, "status: authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// check compares digests, so that neither the content nor the length of
// the secrets shows in the time it takes; both are always compared.
func (g *Guard) check(user, pass string) bool {
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	okU := subtle.ConstantTimeCompare(u[:], g.user[:])
	okP := subtle.ConstantTimeCompare(p[:], g.password[:])
	return okU&okP == 1
}

func (g *Guard) locked(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.failures[ip]
	if f == nil {
		return false
	}
	if g.now().Sub(f.since) >= FailureWindow {
		delete(g.failures, ip)
		return false
	}
	return f.n >= MaxFailures
}

func (g *Guard) fail(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.failures[ip]
	if f == nil || now.Sub(f.since) >= FailureWindow {
		if len(g.failures) >= maxTracked {
			for k, v := range g.failures { // drop the stale ones, or any one
				if now.Sub(v.since) >= FailureWindow || len(g.failures) >= maxTracked {
					delete(g.failures, k)
				}
			}
		}
		f = &failure{since: now}
		g.failures[ip] = f
	}
	f.n++
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loopbackRequest reports whether r came from a loopback address to a
// loopback address.
func loopbackRequest(r *http.Request) bool {
	remote := net.ParseIP(remoteIP(r))
	if remote == nil || !remote.IsLoopback() {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(local.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
