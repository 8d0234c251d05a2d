package redis

import (
	"context"
	"errors"
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
	// MaxKeySize and MaxValueSize are the limits reported by
	// [Driver.Limits] (defaults DefaultMaxKeySize and DefaultMaxValueSize,
	// at most 512 MB).
	MaxKeySize   int
	MaxValueSize int
	// WaitReplicas, when above 0, makes every lock acquisition wait (Redis
	// WAIT, on the connection that took the hold) until that many replicas
	// have acknowledged the hold and its fencing version, for at most
	// WaitTimeout. If fewer do, the hold is released and the acquisition
	// fails with ErrUnavailable (ErrAmbiguous if the release fails too).
	// It makes a failover to an acknowledging replica keep the hold and
	// its version; it does not make Redis consistent: a failover may
	// promote a replica that did not acknowledge (when WaitReplicas is
	// below the number of replicas), a replica acknowledges what it has in
	// memory, not on disk, and renewals and releases are not waited for (a
	// lost renewal ends the hold early, Lost closes; a lost release leaves
	// the hold to its session's expiry). Locks only; 0 (the default) waits
	// for nothing.
	WaitReplicas int
	// WaitTimeout bounds the wait of WaitReplicas (default 1s); keep it
	// below the client's read timeout.
	WaitTimeout time.Duration
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
	// ObserverSlot makes the driver a driver.Observable: what it reports
	// goes to the Observer of the client that uses it.
	driver.ObserverSlot

	client goredis.UniversalClient
	owned  bool // Close closes client
	opts   Options
	hub    *hub

	state atomic.Int32

	// quit is closed when the driver is closed or crashed; the ephemeral
	// key sweeper ends then.
	quit  chan struct{}
	swept chan struct{} // closed when the sweeper has ended

	mu         sync.Mutex
	sessions   map[*session]struct{}
	handles    map[*handle]struct{}
	registered map[string]struct{} // members this driver added to the ephemeral registry
	// cleanups has the clean-ups of acquisitions given up that are retried
	// in the background, by cleanupKey (see retryCleanup).
	cleanups map[string]*driver.Cleanup
	// cleanupCtx ends their requests in flight when the driver is closed.
	cleanupCtx  context.Context
	endCleanups context.CancelFunc
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
		return nil, driver.Errorf(driver.ErrInvalid, "nil client options")
	}
	if clientOpts.ReadOnly || clientOpts.RouteByLatency || clientOpts.RouteRandomly {
		// Reads from replicas would not be linearizable.
		return nil, driver.Errorf(driver.ErrInvalid, "ReadOnly, RouteByLatency and RouteRandomly would read from replicas")
	}
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if clientOpts.TLSConfig != nil && clientOpts.Dialer == nil {
		o := *clientOpts
		o.Dialer = tlsDialer(o.TLSConfig, o.DialTimeout)
		clientOpts = &o
	}
	return newDriver(goredis.NewUniversalClient(clientOpts), true, opts), nil
}

// NewFromClient returns a driver over an existing client, which the caller
// keeps owning: Close does not close it. The client should have
// ContextTimeoutEnabled so that context deadlines bound the commands. A
// cluster client gets a hook that, when a command could not reach the
// master of its slot (a dial error, or redirects that ran out), reloads
// the client's map of slots and sends the command again, a few times
// (see slotMapHook); it resends nothing that was run.
func NewFromClient(client goredis.UniversalClient, opts Options) (*Driver, error) {
	if client == nil {
		return nil, driver.Errorf(driver.ErrInvalid, "nil client")
	}
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return newDriver(client, false, opts), nil
}

func newDriver(c goredis.UniversalClient, owned bool, opts Options) *Driver {
	withSlotMapRetries(c)
	d := &Driver{
		client:     c,
		owned:      owned,
		opts:       opts,
		hub:        newHub(c),
		quit:       make(chan struct{}),
		swept:      make(chan struct{}),
		sessions:   map[*session]struct{}{},
		handles:    map[*handle]struct{}{},
		registered: map[string]struct{}{},
		cleanups:   map[string]*driver.Cleanup{},
	}
	d.cleanupCtx, d.endCleanups = context.WithCancel(context.Background())
	go d.sweepLoop()
	return d
}

// resolve checks o and fills in the defaults.
// DefaultWaitTimeout is Options.WaitTimeout when WaitReplicas is set.
const DefaultWaitTimeout = time.Second

func (o Options) resolve() (Options, error) {
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if strings.ContainsAny(o.KeyPrefix, "{}") {
		return o, driver.Errorf(driver.ErrInvalid, "key prefix %q contains a brace", o.KeyPrefix)
	}
	if o.MaxKeySize < 0 || o.MaxValueSize < 0 {
		return o, driver.Errorf(driver.ErrInvalid, "negative size limit")
	}
	if o.MaxKeySize == 0 {
		o.MaxKeySize = DefaultMaxKeySize
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = DefaultMaxValueSize
	}
	if o.MaxKeySize > maxRedisSize || o.MaxValueSize > maxRedisSize {
		return o, driver.Errorf(driver.ErrInvalid, "size limits above Redis's 512 MB")
	}
	if o.WaitReplicas < 0 || o.WaitTimeout < 0 {
		return o, driver.Errorf(driver.ErrInvalid, "negative wait-replicas or wait-timeout")
	}
	if o.WaitReplicas > 0 && o.WaitTimeout == 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	return o, nil
}

// Name returns "redis".
func (d *Driver) Name() string { return "redis" }

// As sets target to the go-redis client the driver uses if target is a
// *goredis.UniversalClient, and reports whether it did. A driver made
// with NewFromClient gives back that client.
func (d *Driver) As(target any) bool {
	p, ok := target.(*goredis.UniversalClient)
	if !ok || p == nil {
		return false
	}
	*p = d.client
	return true
}

// Ping sends one PING to the server (in a cluster, to the node go-redis
// picks) and reports whether it answered.
func (d *Driver) Ping(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	if err := d.client.Ping(ctx).Err(); err != nil {
		return wrapError(ctx, err, false)
	}
	return nil
}

// Limits reports the limits of the driver's Options.
func (d *Driver) Limits() driver.Limits {
	return driver.Limits{MaxKeySize: d.opts.MaxKeySize, MaxValueSize: d.opts.MaxValueSize}
}

var (
	errDriverClosed  = driver.Errorf(driver.ErrClosed, "the driver was closed")
	errDriverCrashed = driver.Errorf(driver.ErrClosed, "the driver crashed")
)

// check returns ErrClosed once the driver is closed or crashed.
func (d *Driver) check() error {
	switch d.state.Load() {
	case stateClosed:
		return errDriverClosed
	case stateCrashed:
		return errDriverCrashed
	}
	return nil
}

// Close closes every primitive opened through the driver (ending their
// watches) and every session started
// through it (releasing its locks and candidacies), then the client if the
// driver owns it. Later calls return errors wrapping driver.ErrClosed; a
// second Close returns nil.
func (d *Driver) Close(ctx context.Context) error {
	handles, sessions, ok := d.stop(stateClosed)
	if !ok {
		return nil
	}
	forgetLogs(d)
	d.stopCleanups()
	var errs []error
	for h := range handles {
		h.shutdown()
	}
	for s := range sessions {
		if err := s.end(ctx, true); err != nil {
			errs = append(errs, err)
		}
	}
	d.hub.close()
	<-d.swept
	if d.owned {
		if err := d.client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
			errs = append(errs, driver.Wrap(driver.ErrUnavailable, err, ""))
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
	handles, sessions, ok := d.stop(stateCrashed)
	if !ok {
		return
	}
	d.stopCleanups()
	for s := range sessions {
		_ = s.end(context.Background(), false)
	}
	for h := range handles {
		h.shutdown()
	}
	d.hub.close()
	<-d.swept
	if d.owned {
		_ = d.client.Close()
	}
}

// stop moves the driver to state and returns what it had open; ok is
// false if the driver was already closed or crashed.
func (d *Driver) stop(state int32) (handles map[*handle]struct{}, sessions map[*session]struct{}, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.state.CompareAndSwap(stateOpen, state) {
		return nil, nil, false
	}
	handles, sessions = d.handles, d.sessions
	d.handles, d.sessions = map[*handle]struct{}{}, map[*session]struct{}{}
	close(d.quit)
	return handles, sessions, true
}
