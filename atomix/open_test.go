package atomix

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// openScheme is a scheme registered only by this test, for a driver that
// records what Open gave it.
const openScheme = "atomix-open-test"

// openRecord is what the test driver saw.
var openRecord struct {
	sync.Mutex
	urls []string
	ttls []time.Duration
}

func init() {
	driver.Register(openScheme, func(_ context.Context, u *url.URL) (driver.Driver, error) {
		openRecord.Lock()
		openRecord.urls = append(openRecord.urls, u.String())
		openRecord.Unlock()
		if u.Query().Has("fail") {
			return nil, driver.Errorf(driver.ErrInvalid, "the driver refused the URL")
		}
		return &urlDriver{}, nil
	})
}

// urlDriver starts sessions and records their TTL; it has no primitives.
type urlDriver struct{ driver.Driver }

func (*urlDriver) Name() string                   { return "test" }
func (*urlDriver) Close(context.Context) error    { return nil }
func (*urlDriver) Ping(ctx context.Context) error { return nil }
func (*urlDriver) NewSession(_ context.Context, o driver.SessionOptions) (driver.Session, error) {
	openRecord.Lock()
	openRecord.ttls = append(openRecord.ttls, o.TTL)
	openRecord.Unlock()
	return &urlSession{done: make(chan struct{})}, nil
}

type urlSession struct{ done chan struct{} }

func (*urlSession) ID() string                  { return "s" }
func (s *urlSession) Done() <-chan struct{}     { return s.done }
func (*urlSession) Close(context.Context) error { return nil }

// lastOpen returns the URL the driver was last given and the TTL of the
// last session, and forgets them.
func lastOpen(t *testing.T) (string, time.Duration) {
	t.Helper()
	openRecord.Lock()
	defer openRecord.Unlock()
	var u string
	var ttl time.Duration
	if n := len(openRecord.urls); n > 0 {
		u = openRecord.urls[n-1]
	}
	if n := len(openRecord.ttls); n > 0 {
		ttl = openRecord.ttls[n-1]
	}
	openRecord.urls, openRecord.ttls = nil, nil
	return u, ttl
}

func TestOpenReadsClientParameters(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		raw       string
		opts      []Option
		driverURL string
		namespace string
		ttl       time.Duration
	}{
		{raw: openScheme + "://x?session-ttl=3s", driverURL: openScheme + "://x", ttl: 3 * time.Second},
		{raw: openScheme + "://x?namespace=team%2Fa&prefix=p&session-ttl=1m30s&b=%41#frag",
			driverURL: openScheme + "://x?prefix=p&b=%41#frag", namespace: "team/a", ttl: 90 * time.Second},
		{raw: openScheme + "://u:p%40ss@h1:1,h2:2/0?a=1", driverURL: openScheme + "://u:p%40ss@h1:1,h2:2/0?a=1", ttl: DefaultSessionTTL},
		{raw: openScheme + "://x", driverURL: openScheme + "://x", ttl: DefaultSessionTTL},
		// An explicit option wins over the URL.
		{raw: openScheme + "://x?namespace=url&session-ttl=3s", opts: []Option{WithNamespace("opt"), WithSessionTTL(5 * time.Second)},
			driverURL: openScheme + "://x", namespace: "opt", ttl: 5 * time.Second},
		{raw: openScheme + "://x?namespace=url", opts: []Option{WithSessionTTL(5 * time.Second)},
			driverURL: openScheme + "://x", namespace: "url", ttl: 5 * time.Second},
	} {
		c, err := Open(ctx, tc.raw, tc.opts...)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.raw, err)
			continue
		}
		if _, err := c.session(ctx); err != nil {
			t.Fatal(err)
		}
		got, ttl := lastOpen(t)
		if got != tc.driverURL {
			t.Errorf("Open(%q): the driver got %q, want %q", tc.raw, got, tc.driverURL)
		}
		if ttl != tc.ttl {
			t.Errorf("Open(%q): session TTL %v, want %v", tc.raw, ttl, tc.ttl)
		}
		if c.cfg.namespace != tc.namespace {
			t.Errorf("Open(%q): namespace %q, want %q", tc.raw, c.cfg.namespace, tc.namespace)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRejectsBadClientParameters(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for _, raw := range []string{
		openScheme + "://x?session-ttl=0",
		openScheme + "://x?session-ttl=-1s",
		openScheme + "://x?session-ttl=3",
		openScheme + "://x?session-ttl=NaN",
		openScheme + "://x?session-ttl=1s&session-ttl=2s",
		openScheme + "://x?namespace=a&namespace=b",
		openScheme + "://x?namespace=" + strings.Repeat("n", maxNameLen+1),
		openScheme + "://u:" + secret + "@x?token=" + secret + "%zz&session-ttl=1s",
		openScheme + "://u:" + secret + "@x?token=" + secret + "&session-ttl=" + secret,
		openScheme + "://u:" + secret + "@x?token=" + secret + "&fail=1",
		openScheme + "://u:" + secret + "/x@host?token=" + secret,
	} {
		_, err := Open(t.Context(), raw)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%q): error %q shows a secret", raw, err)
		}
		if got, _ := lastOpen(t); got != "" && !strings.Contains(raw, "fail=1") {
			t.Errorf("Open(%q): the driver was called with %q", raw, got)
		}
	}
	_, err := Open(t.Context(), openScheme+"://u:"+secret+"@host:1/path?token="+secret+"&fail=1")
	if err == nil || !strings.Contains(err.Error(), "atomix: open "+openScheme+"://host:1: ") {
		t.Errorf("a driver's error: %v, want it to name the scheme and host", err)
	}
	lastOpen(t)
}
