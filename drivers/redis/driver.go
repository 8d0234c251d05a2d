package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// Defaults of [Options].
const (
	// DefaultKeyPrefix starts every key and channel the driver uses.
	DefaultKeyPrefix = "atomix"
	// DefaultSessionTTL is the TTL of a session started with a zero TTL.
	DefaultSessionTTL = 10 * time.Second
	// MinSessionTTL is the smallest session TTL; shorter ones are rounded
	// up to it. Sessions are renewed every third of their TTL.
	MinSessionTTL = 100 * time.Millisecond
	// DefaultMaxKeySize is the default limit on map keys, set elements
	// and indexed-map keys.
	DefaultMaxKeySize = 64 << 10
	// DefaultMaxValueSize is the default limit on values. Redis accepts
	// 512 MB, but every write also publishes the value to watchers, and
	// Redis drops a pub/sub connection whose output buffer exceeds 32 MB
	// (8 MB for a minute) by default: 4 MiB keeps a burst of large writes
	// from disconnecting every watcher.
	DefaultMaxValueSize = 4 << 20
	// maxRedisSize is the largest string Redis accepts.
	maxRedisSize = 512 << 20
)

// Options configures a [Driver]. The zero value is ready to use.
type Options struct {
	// KeyPrefix starts every key and pub/sub channel of the driver
	// (default "atomix"). Drivers with different prefixes share nothing.
	// It must not contain '{' or '}'.
	KeyPrefix string
	// SessionTTL is the TTL of sessions started without one (default
	// DefaultSessionTTL).
	SessionTTL time.Duration
	// MaxKeySize and MaxValueSize are the limits reported by
	// [Driver.Limits] (defaults DefaultMaxKeySize and DefaultMaxValueSize,
	// at most 512 MB).
	MaxKeySize   int
	MaxValueSize int
}

// The states of a driver.
const (
	stateOpen int32 = iota
	stateClosed
	stateCrashed
)

// Driver implements [driver.Driver] over a go-redis UniversalClient: one
// Redis server, a Sentinel-managed primary, or a Redis Cluster. Make one
// with [New], [NewFromClient], or driver.Open with a redis:// or rediss://
// URL. It is safe for concurrent use.
type Driver struct {
	client goredis.UniversalClient
	owned  bool // Close closes client
	opts   Options
	hub    *hub

	state atomic.Int32

	mu       sync.Mutex
	sessions map[*session]struct{}
	handles  map[*handle]struct{}
}

var _ driver.Driver = (*Driver)(nil)

// New returns a driver with a client of its own, made from clientOpts
// (addresses, credentials, TLS, timeouts; see go-redis). One address makes
// a client of one server, several make a cluster client, and a MasterName
// makes a Sentinel failover client. Close closes the client.
//
// The driver never relies on go-redis retrying a write: it turns retries
// off for every write that is not idempotent, whatever MaxRetries says. It
// does not contact the server; the first operation does.
func New(clientOpts *goredis.UniversalOptions, opts Options) (*Driver, error) {
	if clientOpts == nil {
		return nil, fmt.Errorf("redis: new: %w: nil client options", driver.ErrInvalid)
	}
	if clientOpts.ReadOnly || clientOpts.RouteByLatency || clientOpts.RouteRandomly {
		// Reads from replicas would not be linearizable.
		return nil, fmt.Errorf("redis: new: %w: ReadOnly, RouteByLatency and RouteRandomly would read from replicas", driver.ErrInvalid)
	}
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return newDriver(goredis.NewUniversalClient(clientOpts), true, opts), nil
}

// NewFromClient returns a driver over an existing client, which the caller
// keeps owning: Close does not close it. The client should have
// ContextTimeoutEnabled so that context deadlines bound the commands.
func NewFromClient(client goredis.UniversalClient, opts Options) (*Driver, error) {
	if client == nil {
		return nil, fmt.Errorf("redis: new: %w: nil client", driver.ErrInvalid)
	}
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return newDriver(client, false, opts), nil
}

func newDriver(c goredis.UniversalClient, owned bool, opts Options) *Driver {
	return &Driver{
		client:   c,
		owned:    owned,
		opts:     opts,
		hub:      newHub(c),
		sessions: map[*session]struct{}{},
		handles:  map[*handle]struct{}{},
	}
}

// resolve checks o and fills in the defaults.
func (o Options) resolve() (Options, error) {
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if strings.ContainsAny(o.KeyPrefix, "{}") {
		return o, fmt.Errorf("redis: %w: key prefix %q contains a brace", driver.ErrInvalid, o.KeyPrefix)
	}
	if o.SessionTTL < 0 || o.MaxKeySize < 0 || o.MaxValueSize < 0 {
		return o, fmt.Errorf("redis: %w: negative session TTL or size limit", driver.ErrInvalid)
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	o.SessionTTL = max(o.SessionTTL, MinSessionTTL)
	if o.MaxKeySize == 0 {
		o.MaxKeySize = DefaultMaxKeySize
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = DefaultMaxValueSize
	}
	if o.MaxKeySize > maxRedisSize || o.MaxValueSize > maxRedisSize {
		return o, fmt.Errorf("redis: %w: size limits above Redis's 512 MB", driver.ErrInvalid)
	}
	return o, nil
}

// Client returns the go-redis client the driver uses.
func (d *Driver) Client() goredis.UniversalClient { return d.client }

// Limits reports the limits of the driver's Options.
func (d *Driver) Limits() driver.Limits {
	return driver.Limits{MaxKeySize: d.opts.MaxKeySize, MaxValueSize: d.opts.MaxValueSize}
}

// check returns ErrClosed once the driver is closed or crashed.
func (d *Driver) check(what string) error {
	switch d.state.Load() {
	case stateClosed:
		return fmt.Errorf("redis: %s: %w: the driver was closed", what, driver.ErrClosed)
	case stateCrashed:
		return fmt.Errorf("redis: %s: %w: the driver crashed", what, driver.ErrClosed)
	}
	return nil
}

// Close closes every primitive opened through the driver (ending their
// watches; a Lock gives up its hold or its wait) and every session started
// through it (releasing its locks and candidacies), then the client if the
// driver owns it. Later calls return errors wrapping driver.ErrClosed, as
// does a second Close.
func (d *Driver) Close(ctx context.Context) error {
	handles, sessions, err := d.stop(stateClosed)
	if err != nil {
		return err
	}
	var errs []error
	for h := range handles {
		h.shutdown(ctx, true)
	}
	for s := range sessions {
		if err := s.end(ctx, true); err != nil {
			errs = append(errs, err)
		}
	}
	d.hub.close()
	if d.owned {
		if err := d.client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
			errs = append(errs, fmt.Errorf("redis: close: %w: %v", driver.ErrUnavailable, err))
		}
	}
	return errors.Join(errs...)
}

// Crash makes the driver vanish as if its process had died. It is a test
// aid, used by the conformance harness.
//
// The driver stops renewing its sessions and drops its connections without
// releasing anything: locks held and candidacies entered through its
// sessions stay until their session keys expire, one TTL after their last
// renewal. Every later call on the driver, or on anything it opened,
// returns an error wrapping driver.ErrClosed, calls blocked in it return
// the same, and its watches end. Crash on a closed or crashed driver does
// nothing.
func (d *Driver) Crash() {
	handles, sessions, err := d.stop(stateCrashed)
	if err != nil {
		return
	}
	for s := range sessions {
		_ = s.end(context.Background(), false)
	}
	for h := range handles {
		h.shutdown(context.Background(), false)
	}
	d.hub.close()
	if d.owned {
		_ = d.client.Close()
	}
}

// stop moves the driver to state and returns what it had open.
func (d *Driver) stop(state int32) (map[*handle]struct{}, map[*session]struct{}, error) {
	if err := d.check("close"); err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.state.CompareAndSwap(stateOpen, state) {
		return nil, nil, d.check("close")
	}
	handles, sessions := d.handles, d.sessions
	d.handles, d.sessions = map[*handle]struct{}{}, map[*session]struct{}{}
	return handles, sessions, nil
}

// open registers a new handle for a primitive of kind with id.
func (d *Driver) open(ctx context.Context, kind string, id driver.ID) (*handle, error) {
	h := &handle{
		d:        d,
		kind:     kind,
		what:     describe(kind, id),
		ks:       newKeyspace(d.opts.KeyPrefix, kind, id),
		closedCh: make(chan struct{}),
	}
	if id.Name == "" {
		return nil, h.failf("open", driver.ErrInvalid, "empty name")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(h.what + ": open"); err != nil {
		return nil, err
	}
	d.handles[h] = struct{}{}
	return h, nil
}

// forget unregisters a closed handle.
func (d *Driver) forget(h *handle) {
	d.mu.Lock()
	delete(d.handles, h)
	d.mu.Unlock()
}

// OpenCounter opens a counter. It does not contact the server.
func (d *Driver) OpenCounter(ctx context.Context, id driver.ID) (driver.Counter, error) {
	h, err := d.open(ctx, "counter", id)
	if err != nil {
		return nil, err
	}
	return newCounter(h), nil
}

// OpenLock opens a lock. It does not contact the server.
func (d *Driver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	h, err := d.open(ctx, "lock", id)
	if err != nil {
		return nil, err
	}
	return newLock(h), nil
}

// OpenElection opens an election. It does not contact the server.
func (d *Driver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	h, err := d.open(ctx, "election", id)
	if err != nil {
		return nil, err
	}
	return newElection(h), nil
}

// OpenMap opens a map. It does not contact the server.
func (d *Driver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	h, err := d.open(ctx, "map", id)
	if err != nil {
		return nil, err
	}
	return newMap(h), nil
}

// OpenSet opens a set. It does not contact the server.
func (d *Driver) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	h, err := d.open(ctx, "set", id)
	if err != nil {
		return nil, err
	}
	return newSet(h), nil
}

// OpenValue opens a value. It does not contact the server.
func (d *Driver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	h, err := d.open(ctx, "value", id)
	if err != nil {
		return nil, err
	}
	return newValue(h), nil
}

// OpenList opens a list. It does not contact the server.
func (d *Driver) OpenList(ctx context.Context, id driver.ID) (driver.List, error) {
	h, err := d.open(ctx, "list", id)
	if err != nil {
		return nil, err
	}
	return newList(h), nil
}

// OpenIndexedMap opens an indexed map. It does not contact the server.
func (d *Driver) OpenIndexedMap(ctx context.Context, id driver.ID) (driver.IndexedMap, error) {
	h, err := d.open(ctx, "indexedmap", id)
	if err != nil {
		return nil, err
	}
	return newIndexedMap(h), nil
}
