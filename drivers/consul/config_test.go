package consul

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Address: "http://host:8500"},
		{Address: "host"},
		{Scheme: "ftp"},
		{Options: Options{Prefix: "a//b"}},
		{TokenFile: "/does/not/exist"},
		{Options: Options{TxnMaxRequestSize: 1000}},
		{Options: Options{Consistency: "strong"}},
		{TLS: &TLSConfig{CAFile: "/does/not/exist"}},
		{TLS: &TLSConfig{CertFile: "/c.pem"}},
	} {
		if _, err := New(cfg); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("New(%+v): %v, want ErrInvalid", cfg, err)
		}
	}
}

// TestEnvironmentIsIgnored checks that CONSUL_* variables do not reach the
// agent unless asked for.
func TestEnvironmentIsIgnored(t *testing.T) {
	var mu sync.Mutex
	var tokens, namespaces []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("X-Consul-Token"))
		namespaces = append(namespaces, r.URL.Query().Get("ns"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	t.Setenv("CONSUL_HTTP_ADDR", "127.0.0.1:1")
	t.Setenv("CONSUL_HTTP_TOKEN", "from-env")
	t.Setenv("CONSUL_NAMESPACE", "env-ns")
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	for _, tc := range []struct {
		cfg       Config
		token, ns string
	}{
		{Config{Address: addr}, "", ""},
		{Config{Address: addr, Token: "mine"}, "mine", ""},
		{Config{Address: addr, UseEnvironment: true}, "from-env", "env-ns"},
	} {
		tokens, namespaces = nil, nil
		d, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := d.OpenValue(ctx, testID("v"))
		if _, _, err := v.Get(ctx); !errors.Is(err, driver.ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
		d.Close(ctx)
		mu.Lock()
		if len(tokens) != 1 || tokens[0] != tc.token || namespaces[0] != tc.ns {
			t.Errorf("with %+v the agent got tokens %q, namespaces %q; want %q, %q", tc.cfg, tokens, namespaces, tc.token, tc.ns)
		}
		mu.Unlock()
	}
}

func TestErrorsAreClassified(t *testing.T) {
	// Nothing listens on a port that was just free.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx := testContext(t)
	d, err := New(Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := d.OpenMap(ctx, testID("m"))
	if _, err := m.Put(ctx, "k", []byte("v"), 0); !errors.Is(err, driver.ErrUnavailable) {
		t.Errorf("Put to an unreachable agent: %v, want ErrUnavailable", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, driver.ErrUnavailable) {
		t.Errorf("Get from an unreachable agent: %v, want ErrUnavailable", err)
	}
	if _, err := d.NewSession(ctx, driver.SessionOptions{}); !errors.Is(err, driver.ErrUnavailable) {
		t.Errorf("NewSession on an unreachable agent: %v, want ErrUnavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}
	d.Close(ctx)
	if _, err := m.Get(ctx, "k"); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Get after the driver closed: %v, want ErrClosed", err)
	}
	if _, err := d.OpenMap(ctx, testID("m")); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("OpenMap after the driver closed: %v, want ErrClosed", err)
	}
}

// TestLostAnswerIsAmbiguous cuts the connection after a write was sent.
func TestLostAnswerIsAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	ctx := testContext(t)
	d, err := New(Config{Address: strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	m, _ := d.OpenMap(ctx, testID("m"))
	if _, err := m.Put(ctx, "k", []byte("v"), 0); !errors.Is(err, driver.ErrAmbiguous) {
		t.Errorf("Put whose answer was lost: %v, want ErrAmbiguous", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, driver.ErrUnavailable) {
		t.Errorf("Get whose answer was lost: %v, want ErrUnavailable", err)
	}
}

func TestSessionTTLIsRoundedUp(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s, err := d.NewSession(ctx, driver.SessionOptions{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	info, _, err := d.client.Session().Info(s.ID(), nil)
	if err != nil || info == nil {
		t.Fatalf("session info: %v, %v", info, err)
	}
	if info.TTL != "10s" || info.Behavior != "delete" || info.LockDelay != 0 {
		t.Fatalf("session TTL %q, behaviour %q, lock delay %v; want 10s, delete, 0", info.TTL, info.Behavior, info.LockDelay)
	}
	if _, err := d.NewSession(ctx, driver.SessionOptions{TTL: 25 * time.Hour}); !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("NewSession above Consul's limit: %v", err)
	}
}
