package uplink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"hallgw/firmware/config"
	"hallgw/firmware/health"
	"hallgw/firmware/mqttbroker"
)

// testPKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, writing the client's files as PEM into dir.
func testPKI(t *testing.T, dir string) (server *tls.Config, files config.TLS) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := leaf(2, "broker", x509.ExtKeyUsageServerAuth, true)
	cliDER, cliKey := leaf(3, "gw-t1", x509.ExtKeyUsageClientAuth, false)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	files = config.TLS{
		CA: write("ca.pem", "CERTIFICATE", caDER), Cert: write("client.pem", "CERTIFICATE", cliDER),
		Key: write("client.key", "EC PRIVATE KEY", keyDER(cliKey)),
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12,
	}
	return server, files
}

func TestEmbeddedTLSAndPassword(t *testing.T) {
	dir := t.TempDir()
	srvTLS, files := testPKI(t, dir)
	b := startBroker(t, mqttbroker.Options{TLS: srvTLS, Users: map[string]string{"gw-t1": "pa55"}})
	s := newSeen()
	b.Subscribe("hallgw/#", s.add)
	tc, err := TLSConfig(files, nil)
	if err != nil {
		t.Fatalf("TLSConfig = %v", err)
	}
	j := openJournal(t, t.TempDir())
	defer j.Close()
	appendProbes(t, j, 10, 50)

	t.Run("wrong password", func(t *testing.T) {
		reg := health.NewRegistry(nil)
		u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, TLS: tc, Username: "gw-t1", Password: "guess", Health: reg})
		waitDevice(t, reg, "uplink", func(d health.Device) bool { return d.State == health.Down && d.Errors["connect_failed"] > 0 })
		if st := u.State(); st.State == StateConnected {
			t.Errorf("state = %+v with a wrong password", st)
		}
		u.Halt()
	})
	t.Run("no client certificate", func(t *testing.T) {
		reg := health.NewRegistry(nil)
		noCert := tc.Clone()
		noCert.Certificates = nil
		u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, TLS: noCert, Username: "gw-t1", Password: "pa55", Health: reg})
		waitDevice(t, reg, "uplink", func(d health.Device) bool { return d.State == health.Down && d.Errors["connect_failed"] > 0 })
		u.Halt()
	})
	t.Run("mutual TLS and password", func(t *testing.T) {
		u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, TLS: tc, Username: "gw-t1", Password: "pa55"})
		waitAcked(t, u, 10)
		if st := u.State(); st.Broker != b.URL() {
			t.Errorf("broker = %q, want %q", st.Broker, b.URL())
		}
	})
	if _, err := TLSConfig(config.TLS{CA: filepath.Join(dir, "client.key")}, nil); err == nil {
		t.Error("TLSConfig with a key as CA succeeded")
	}
}

func waitDevice(t testing.TB, reg *health.Registry, id string, cond func(health.Device) bool) health.Device {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, ok := reg.Get(id)
		if ok && cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s = %+v (present %v): condition not met", id, d, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEmbeddedFailover(t *testing.T) {
	dead, err := mqttbroker.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, mqttbroker.Options{})
	j := openJournal(t, t.TempDir())
	defer j.Close()
	appendProbes(t, j, 20, 50)
	u := startUplink(t, Options{Brokers: []string{"tcp://127.0.0.1:" + strconv.Itoa(dead), b.URL()}, Journal: j, ConnectTimeout: 2 * time.Second})
	waitAcked(t, u, 20)
	if st := u.State(); st.State != StateConnected || st.Broker != b.URL() {
		t.Errorf("state = %+v, want connected to the second broker %s", st, b.URL())
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestEmbeddedFaults follows a printer outage: a fault opens at level III,
// escalates to II after 20 minutes, clears when the printer is back, and is
// closed by ops with a note; each step is an event and the retained fault
// list follows.
func TestEmbeddedFaults(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	b := startBroker(t, mqttbroker.Options{})
	s := newSeen()
	b.Subscribe("hallgw/#", s.add)
	j := openJournal(t, t.TempDir())
	defer j.Close()
	reg := health.NewRegistry(clk.Now)
	reg.Seen("kiosk-1/printer", "printer")
	u := startUplink(t, Options{Brokers: []string{b.URL()}, Journal: j, Health: reg, Now: clk.Now,
		FaultRules: health.FaultRules{Grace: 0, SystemII: 20 * time.Minute, SystemI: time.Hour}})
	waitState(t, u, StateConnected)

	faultList := func(ms []mqttbroker.Message) (FaultList, bool) {
		for i := len(ms) - 1; i >= 0; i-- {
			if hasSuffix(ms[i].Topic, LeafFaults) {
				var fl FaultList
				if err := json.Unmarshal(ms[i].Payload, &fl); err != nil {
					t.Fatal(err)
				}
				return fl, true
			}
		}
		return FaultList{}, false
	}
	reg.Update("kiosk-1/printer", "printer", func(d *health.Device) { d.State, d.Reason = health.Down, "no answer" })
	ms := s.waitFor(t, "the fault", func(ms []mqttbroker.Message) bool {
		fl, ok := faultList(ms)
		return ok && len(fl.Faults) == 1
	})
	fl, _ := faultList(ms)
	if f := fl.Faults[0]; f.Level != health.LevelIII || f.Category != health.System || f.Device != "kiosk-1/printer" || fl.System != health.LevelIII {
		t.Errorf("fault list = %+v, want one system fault at level III", fl)
	}
	id := fl.Faults[0].ID
	clk.Add(25 * time.Minute)
	s.waitFor(t, "the escalation", func(ms []mqttbroker.Message) bool {
		fl, _ := faultList(ms)
		return len(fl.Faults) == 1 && fl.Faults[0].Level == health.LevelII
	})
	// An ongoing fault cannot be closed.
	if r := u.Execute(t.Context(), mustEncode(t, &Request{ID: "cf-1", Cmd: CmdCloseFault, Fault: &FaultArgs{Fault: id, Note: "x"}})); r.OK || r.Code != CodeRejected {
		t.Errorf("closing an ongoing fault: %+v", r)
	}
	reg.Seen("kiosk-1/printer", "printer")
	s.waitFor(t, "the fault to clear", func(ms []mqttbroker.Message) bool {
		fl, _ := faultList(ms)
		return len(fl.Faults) == 1 && !fl.Faults[0].Ongoing() && fl.System == health.LevelNone
	})
	if r := u.Execute(t.Context(), mustEncode(t, &Request{ID: "cf-2", Cmd: CmdCloseFault, Fault: &FaultArgs{Fault: id, Note: "replaced the paper sensor"}})); !r.OK {
		t.Errorf("closing the fault: %+v", r)
	}
	want := j.Committed()
	ms = s.waitFor(t, "the fault events", func(ms []mqttbroker.Message) bool {
		fl, _ := faultList(ms)
		return maxSeq(events(t, ms)) >= want && len(fl.Faults) == 0
	})
	var steps []string
	for _, e := range events(t, ms) {
		if e.Kind == KindFault {
			var c health.FaultChange
			if err := json.Unmarshal(e.Data, &c); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, c.Type+"/"+c.Fault.Level.String())
			if c.Type == health.FaultClosed && c.Fault.Note != "replaced the paper sensor" {
				t.Errorf("closed fault = %+v", c.Fault)
			}
		}
	}
	wantSteps := []string{"fault_opened/III", "fault_level/II", "fault_cleared/II", "fault_closed/II"}
	if len(steps) != len(wantSteps) {
		t.Fatalf("fault events = %v, want %v", steps, wantSteps)
	}
	for i := range steps {
		if steps[i] != wantSteps[i] {
			t.Errorf("fault events = %v, want %v", steps, wantSteps)
			break
		}
	}
}

func mustEncode(t *testing.T, r *Request) []byte {
	t.Helper()
	b, err := EncodeCommand(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
