package atomix

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
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
	return c
}

// Open opens a client on the backend that url names, with the driver
// registered for its scheme (import the driver package to register it; see
// the package documentation for the schemes). opts may not include
// WithDriver.
func Open(ctx context.Context, url string, opts ...Option) (*Client, error) {
	cfg, err := apply(opts)
	if err != nil {
		return nil, fmt.Errorf("atomix: open: %w", err)
	}
	if cfg.driver != nil {
		return nil, fmt.Errorf("atomix: open: %w", invalidf("WithDriver cannot be combined with a URL"))
	}
	d, err := driver.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("atomix: open %s: %w", redact(url), err)
	}
	cfg.driver = d
	return newClient(cfg, nil), nil
}

// redact hides the password of a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
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
