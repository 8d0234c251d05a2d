package etcd

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/atomix/go-client/driver"
)

// The sizes the driver accepts. etcd refuses requests over its
// --max-request-bytes (1.5 MiB by default) and the client refuses to send
// more than 2 MiB. An IndexedMap write stores its value twice in one
// transaction (see the package documentation), so values are limited to a
// third of the default request limit, which leaves room for keys and the
// transaction's other operations.
const (
	// MaxKeySize is the largest map key, set element or other user key.
	MaxKeySize = 4 << 10
	// MaxValueSize is the largest value.
	MaxValueSize = 512 << 10
)

// Driver is a driver.Driver that keeps every primitive's state in etcd.
// It is safe for concurrent use.
type Driver struct {
	// ObserverSlot makes the driver a driver.Observable: what it reports
	// goes to the Observer of the client that uses it.
	driver.ObserverSlot

	client     *clientv3.Client
	ownsClient bool
	prefix     string

	// ctx ends when the driver is closed; background work (watches,
	// keep-alives) runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	mu       sync.Mutex
	sessions map[*session]struct{}
	wg       sync.WaitGroup

	// streamKept makes the first lock or semaphore watch start
	// keepWatchStream.
	streamKept sync.Once
}

var _ driver.Driver = (*Driver)(nil)

// New connects to the etcd cluster that cfg describes. It first connects
// to every endpoint at once, bounded by cfg.DialTimeout, and fails unless
// one of them completes the TLS handshake (when configured) and answers as
// an HTTP/2 server: a server certificate that does not verify, or a server
// that does not speak the configured protocol, is ErrInvalid; a client
// certificate the server refuses is ErrPermission; an unreachable cluster
// is ErrUnavailable; each wraps its cause (an x509 or TLS error), which
// errors.As reaches. Credentials are then exchanged for a token, and a
// refused username or password is ErrPermission. Config.ServerName, or
// Config.TLS.ServerName, is the name checked in every server's
// certificate, whatever host the endpoint names.
func New(cfg Config) (*Driver, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	ctx, cancel := dialTimeout(cfg.DialTimeout)
	err = preflight(ctx, cfg.Endpoints, tlsCfg)
	cancel()
	if err != nil {
		return nil, err
	}
	var dialOpts []grpc.DialOption
	if tlsCfg != nil && tlsCfg.ServerName != "" {
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(serverNameCreds{
			TransportCredentials: credentials.NewTLS(tlsCfg), name: tlsCfg.ServerName}))
	}
	logger, logTo := newZapLogger()
	client, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		Username:             cfg.Username,
		Password:             cfg.Password,
		TLS:                  tlsCfg,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    cfg.KeepAliveTime,
		DialKeepAliveTimeout: cfg.KeepAliveTimeout,
		// The client's own lines go to the logger of the atomix client
		// that uses the driver (WithLogger), never to stderr.
		Logger:      logger,
		DialOptions: dialOpts,
	})
	if err != nil {
		// A refused username or password is ErrPermission.
		return nil, driver.Wrap(kindOf(err, read), err, "connect to %v", cfg.Endpoints)
	}
	d := newDriver(client, cfg.Prefix)
	d.ownsClient = true
	logTo.Store(&d.ObserverSlot)
	return d, nil
}

// NewFromClient returns a driver over an existing client, keeping its keys
// under prefix (DefaultPrefix when empty). Closing the driver does not close
// the client. The client keeps its own logger: only a driver made by New
// sends clientv3's log lines to the atomix client's WithLogger.
func NewFromClient(client *clientv3.Client, prefix string) *Driver {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return newDriver(client, prefix)
}

func newDriver(client *clientv3.Client, prefix string) *Driver {
	ctx, cancel := context.WithCancel(context.Background())
	return &Driver{
		client:   client,
		prefix:   prefix,
		ctx:      ctx,
		cancel:   cancel,
		sessions: map[*session]struct{}{},
	}
}

// Name returns "etcd".
func (d *Driver) Name() string { return "etcd" }

// As sets *target to the driver's etcd client when target is a
// **clientv3.Client, and reports whether it did.
func (d *Driver) As(target any) bool {
	p, ok := target.(**clientv3.Client)
	if ok {
		*p = d.client
	}
	return ok
}

// Ping makes one linearizable read (a count of the keys under the driver's
// prefix, at most one), which needs the cluster to have a leader.
func (d *Driver) Ping(ctx context.Context) error {
	if d.closed.Load() {
		return errDriverClosed
	}
	_, err := d.client.Get(ctx, d.prefix, clientv3.WithRange(rangeEnd(d.prefix)), clientv3.WithCountOnly(), clientv3.WithLimit(1))
	return d.classify(ctx, read, err)
}

// Limits reports MaxKeySize and MaxValueSize.
func (d *Driver) Limits() driver.Limits {
	return driver.Limits{MaxKeySize: MaxKeySize, MaxValueSize: MaxValueSize}
}

// spawn runs f in a goroutine that Close waits for, unless the driver is
// closed.
func (d *Driver) spawn(f func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return false
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
	return true
}

// OpenCounter opens the counter id.
func (d *Driver) OpenCounter(_ context.Context, id driver.ID) (driver.Counter, error) {
	return open[driver.Counter](d, newCounter(d, id))
}

// OpenLock opens the lock id.
func (d *Driver) OpenLock(_ context.Context, id driver.ID) (driver.Lock, error) {
	return open[driver.Lock](d, newLock(d, id))
}

// OpenElection opens the election id.
func (d *Driver) OpenElection(_ context.Context, id driver.ID) (driver.Election, error) {
	return open[driver.Election](d, newElection(d, id))
}

// OpenMap opens the map id.
func (d *Driver) OpenMap(_ context.Context, id driver.ID) (driver.Map, error) {
	return open[driver.Map](d, newMap(d, id))
}

// OpenSet opens the set id.
func (d *Driver) OpenSet(_ context.Context, id driver.ID) (driver.Set, error) {
	return open[driver.Set](d, newSet(d, id))
}

// OpenValue opens the value id.
func (d *Driver) OpenValue(_ context.Context, id driver.ID) (driver.Value, error) {
	return open[driver.Value](d, newValue(d, id))
}

// OpenList opens the list id.
func (d *Driver) OpenList(_ context.Context, id driver.ID) (driver.List, error) {
	return open[driver.List](d, newList(d, id))
}

// OpenIndexedMap opens the indexed map id.
func (d *Driver) OpenIndexedMap(_ context.Context, id driver.ID) (driver.IndexedMap, error) {
	return open[driver.IndexedMap](d, newIndexedMap(d, id))
}

// open returns p, or ErrClosed once the driver is closed (p's context,
// derived from the driver's, has then ended already).
func open[T any](d *Driver, p T) (T, error) {
	if d.closed.Load() {
		var zero T
		return zero, errDriverClosed
	}
	return p, nil
}

// Close revokes the driver's sessions (releasing their locks and
// candidacies), ends every watch, and closes the client if the driver
// created it. Closing a closed driver does nothing.
func (d *Driver) Close(ctx context.Context) error {
	errs, ok := d.shut(ctx, true)
	if ok && d.ownsClient {
		if err := d.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, driver.Wrap(driver.ErrUnavailable, err, "close the client"))
		}
	}
	return errors.Join(errs...)
}

// crash makes the driver vanish as a killed process would: keep-alives stop
// and the connection closes, but no lease is revoked, so the cluster expires
// the sessions after their TTL. The conformance harness uses it.
func (d *Driver) crash() {
	if _, ok := d.shut(context.Background(), false); ok {
		d.client.Close()
	}
}

// shut marks the driver closed, ends its sessions (revoking their leases if
// revoke is set) and its background work, and waits for that work. It
// reports false if the driver was closed already.
func (d *Driver) shut(ctx context.Context, revoke bool) ([]error, bool) {
	d.mu.Lock()
	if d.closed.Load() {
		d.mu.Unlock()
		return nil, false
	}
	d.closed.Store(true)
	sessions := make([]*session, 0, len(d.sessions))
	for s := range d.sessions {
		sessions = append(sessions, s)
	}
	d.mu.Unlock()
	var errs []error
	for _, s := range sessions {
		if err := s.end(ctx, revoke); err != nil {
			errs = append(errs, err)
		}
	}
	d.cancel()
	d.wg.Wait()
	return errs, true
}
