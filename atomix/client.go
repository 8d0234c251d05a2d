package atomix

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/atomix/internal/watch"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// Client is a connection to one backend. It opens primitives, keeps the
// session their locks and candidacies are bound to, and closes all of them
// when it is closed. Make one with NewClient or Open; a Client is safe for
// concurrent use.
type Client struct {
	cfg config
	// err is the error of a bad option, reported by every use.
	err error

	closed atomic.Bool

	mu   sync.Mutex
	open map[closer]struct{} // the primitives opened and not yet closed

	sessions sessionKeeper

	// obs is the client's logger and telemetry (observe.go).
	obs observer

	// watched holds the channels that the live watches of the client's
	// primitives feed, so that one channel given to two of them is refused
	// rather than closed twice.
	watched watch.Channels
}

// closer is a primitive instance, as the client tracks it.
type closer interface {
	Close(ctx context.Context) error
}

// errNoDriver is reported by a client made without WithDriver.
var errNoDriver = invalidf("the client has no driver: make it with atomix.NewClient(atomix.WithDriver(d)) or atomix.Open(ctx, url)")

// NewClient returns a client configured by opts. It never fails: an invalid
// option is reported, as an error wrapping ErrInvalid, by the first getter
// called on the client. A client needs a driver (WithDriver); Open makes
// one from a URL instead.
func NewClient(opts ...Option) *Client {
	cfg, err := apply(opts)
	return newClient(cfg, err)
}

func newClient(cfg config, err error) *Client {
	c := &Client{cfg: cfg, err: err, open: make(map[closer]struct{})}
	c.sessions.init()
	c.observe()
	return c
}

// Open opens a client on the backend that rawURL names, with the driver
// registered for its scheme (import the driver package to register it; see
// the package documentation for the schemes and their parameters). opts may
// not include WithDriver.
//
// Two query parameters are read by Open itself, for every scheme, and
// removed from the URL before the driver sees it:
//
//	namespace=NS          as WithNamespace(NS)
//	session-ttl=DURATION  as WithSessionTTL, in time.ParseDuration's syntax (e.g. 5s)
//
// so that a client configured only by a URL (ATOMIX_URL) can set them. An
// explicit WithNamespace or WithSessionTTL among opts wins over the URL's.
// A parameter given twice, a malformed one, or one the driver does not know
// is an error wrapping ErrInvalid. Errors show at most the URL's scheme and
// host, never its user, password or query.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Client, error) {
	driverURL, urlOpts, err := clientParams(rawURL)
	if err != nil {
		return nil, fmt.Errorf("atomix: open%s: %w", redact(rawURL), err)
	}
	cfg, err := apply(append(urlOpts, opts...))
	if err != nil {
		return nil, fmt.Errorf("atomix: open%s: %w", redact(rawURL), err)
	}
	if cfg.driver != nil {
		return nil, fmt.Errorf("atomix: open: %w", invalidf("WithDriver cannot be combined with a URL"))
	}
	d, err := driver.Open(ctx, driverURL)
	if err != nil {
		return nil, fmt.Errorf("atomix: open%s: %w", redact(rawURL), err)
	}
	cfg.driver = d
	return newClient(cfg, nil), nil
}

// The query parameters Open reads for every scheme.
const (
	paramNamespace  = "namespace"
	paramSessionTTL = "session-ttl"
)

// clientParams takes the client's own parameters out of rawURL: it returns
// the URL for the driver (rawURL unchanged but for those parameters) and
// the options they stand for. A URL that does not parse is returned as is,
// for driver.Open to report.
func clientParams(rawURL string) (string, []Option, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.RawQuery == "" {
		return rawURL, nil, nil
	}
	q, err := urlparam.Parse(u.RawQuery)
	if err != nil {
		return "", nil, err
	}
	var opts []Option
	if q.Has(paramNamespace) {
		opts = append(opts, WithNamespace(q.String(paramNamespace)))
	}
	if q.Has(paramSessionTTL) {
		ttl := q.Duration(paramSessionTTL, math.MaxInt64)
		if q.Err() == nil && ttl == 0 {
			return "", nil, invalidf("query parameter %q: the session TTL must be positive", paramSessionTTL)
		}
		opts = append(opts, WithSessionTTL(ttl))
	}
	if err := q.Err(); err != nil {
		return "", nil, err
	}
	if len(opts) == 0 {
		return rawURL, nil, nil
	}
	// url.Parse cuts the fragment at the first '#', then the query at the
	// first '?': the raw query follows the first '?' verbatim.
	i := strings.IndexByte(rawURL, '?')
	rest := q.Without(paramNamespace, paramSessionTTL)
	if rest != "" {
		rest = "?" + rest
	}
	return rawURL[:i] + rest + rawURL[i+1+len(u.RawQuery):], opts, nil
}

// redact returns what of a URL an error may show, with a leading space:
// its scheme and host. The user, password, path and query are left out (a
// query parameter can be a token), and so is a URL that does not parse.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Opaque != "" {
		return " " + u.Scheme + ":"
	}
	return " " + u.Scheme + "://" + u.Host
}

// Close closes every primitive the client opened (releasing its locks,
// withdrawing its candidacies, ending its watches), then its session, then
// its driver. It returns the errors it met, joined. Close is idempotent;
// after it every use of the client or its primitives returns ErrClosed.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil
	}
	c.closed.Store(true)
	open := c.open
	c.open = nil
	c.mu.Unlock()

	var errs []error
	for p := range open {
		if err := p.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.sessions.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("atomix: close session: %w", err))
	}
	if c.cfg.driver != nil {
		if err := c.cfg.driver.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("atomix: close driver: %w", err))
		}
	}
	return errors.Join(errs...)
}

// As sets target, a pointer, to the backend's own client when its type
// matches, and reports whether it did: *clientv3.Client for etcd,
// redis.UniversalClient for Redis, *api.Client for Consul. It is how a
// client opened from a URL reaches the backend below it.
func (c *Client) As(target any) bool {
	d, err := c.use()
	if err != nil {
		return false
	}
	return d.As(target)
}

// Ping makes one round trip to the backend. It returns an error wrapping
// ErrUnavailable, ErrTimeout or ErrPermission when the backend does not
// answer as it should, ErrClosed after Close.
func (c *Client) Ping(ctx context.Context) error {
	d, err := c.use()
	if err != nil {
		return fmt.Errorf("atomix: ping: %w", err)
	}
	if err := d.Ping(ctx); err != nil {
		return fmt.Errorf("atomix: ping (%s): %w", d.Name(), err)
	}
	return nil
}

// use returns the driver, or why the client cannot be used.
func (c *Client) use() (driver.Driver, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.closed.Load() {
		return nil, fmt.Errorf("%w: the client was closed", ErrClosed)
	}
	if c.cfg.driver == nil {
		return nil, errNoDriver
	}
	return c.cfg.driver, nil
}

// remember registers an opened primitive so that Close closes it. It fails
// with ErrClosed if the client was closed meanwhile.
func (c *Client) remember(p closer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return fmt.Errorf("%w: the client was closed", ErrClosed)
	}
	c.open[p] = struct{}{}
	return nil
}

// forget unregisters a primitive closed by its user.
func (c *Client) forget(p closer) {
	c.mu.Lock()
	delete(c.open, p)
	c.mu.Unlock()
}
