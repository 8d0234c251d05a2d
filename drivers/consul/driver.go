package consul

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// Driver is a driver.Driver on a Consul agent's KV store, sessions and
// transactions. It is safe for concurrent use.
type Driver struct {
	// ObserverSlot makes the driver a driver.Observable: what it reports
	// goes to the Observer of the client that uses it.
	driver.ObserverSlot

	client *api.Client
	kv     *api.KV
	opts   Options
	prefix string
	// namespace and partition are copied into every transaction operation
	// (Consul Enterprise; empty otherwise).
	namespace, partition string
	// transport is closed with the driver when the driver made it.
	transport *http.Transport

	// ctx ends when the driver is closed; every watch, renewal and lock
	// monitor runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	mu       sync.Mutex
	sessions map[*session]struct{}
}

var _ driver.Driver = (*Driver)(nil)

func newDriver(client *api.Client, opts Options) *Driver {
	ctx, cancel := context.WithCancel(context.Background())
	return &Driver{
		client:   client,
		kv:       client.KV(),
		opts:     opts,
		prefix:   opts.Prefix,
		ctx:      ctx,
		cancel:   cancel,
		sessions: map[*session]struct{}{},
	}
}

// Client returns the Consul API client the driver uses.
func (d *Driver) Client() *api.Client { return d.client }

// Limits reports the largest key and value the driver accepts. Values are
// bounded by the servers' transaction size (see Options.TxnMaxRequestSize),
// keys by a budget within it.
func (d *Driver) Limits() driver.Limits {
	return driver.Limits{
		MaxKeySize:   maxKeySize,
		MaxValueSize: (d.opts.TxnMaxRequestSize - txnOverhead) / 4 * 3,
	}
}

// Name returns "consul".
func (d *Driver) Name() string { return "consul" }

// As sets target to the driver's Consul client if target is a **api.Client,
// and reports whether it did.
func (d *Driver) As(target any) bool {
	p, ok := target.(**api.Client)
	if ok {
		*p = d.client
	}
	return ok
}

// Ping reads the key "<prefix>/" (which the driver never writes) as the
// other reads do, answered by the leader: one round trip, which fails when
// the agent is unreachable or the servers have no leader (ErrUnavailable),
// and when the token is unknown to Consul or may not read the prefix
// (ErrPermission), so that a wrong token shows at once rather than at the
// first write.
func (d *Driver) Ping(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	_, meta, err := d.kv.Get(d.prefix+"/", read(ctx))
	if err != nil {
		return classify(ctx, err, reading)
	}
	if !meta.KnownLeader {
		return driver.Errorf(driver.ErrUnavailable, "the servers have no leader")
	}
	return nil
}

// check returns ErrClosed once the driver is closed.
func (d *Driver) check() error {
	if d.closed.Load() {
		return errClosed
	}
	return nil
}

// OpenCounter opens the counter id. It does not contact the agent.
func (d *Driver) OpenCounter(ctx context.Context, id driver.ID) (driver.Counter, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newCounter(d, id), nil
}

// OpenLock opens the lock id. It does not contact the agent.
func (d *Driver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newLock(d, id), nil
}

// OpenElection opens the election id. It does not contact the agent.
func (d *Driver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newElection(d, id), nil
}

// OpenMap opens the map id. It does not contact the agent.
func (d *Driver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newMap(d, id), nil
}

// OpenSet opens the set id. It does not contact the agent.
func (d *Driver) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newSet(d, id), nil
}

// OpenValue opens the value id. It does not contact the agent.
func (d *Driver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newValue(d, id), nil
}

// OpenList opens the list id. It does not contact the agent.
func (d *Driver) OpenList(ctx context.Context, id driver.ID) (driver.List, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newList(d, id), nil
}

// OpenIndexedMap opens the indexed map id. It does not contact the agent.
func (d *Driver) OpenIndexedMap(ctx context.Context, id driver.ID) (driver.IndexedMap, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	return newIndexedMap(d, id), nil
}

// Close destroys the sessions the driver started (Consul then deletes their
// locks and candidacies), ends every watch, and closes the connections the
// driver opened. Later calls to anything the driver opened return
// ErrClosed; a second Close returns nil.
func (d *Driver) Close(ctx context.Context) error {
	if d.closed.Swap(true) {
		return nil
	}
	d.mu.Lock()
	sessions := make([]*session, 0, len(d.sessions))
	for s := range d.sessions {
		sessions = append(sessions, s)
	}
	d.mu.Unlock()
	var errs []error
	for _, s := range sessions {
		errs = append(errs, s.destroy(ctx))
	}
	d.cancel()
	if d.transport != nil {
		d.transport.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// crash makes the driver vanish as a killed process would: its sessions are
// no longer renewed but not destroyed, and everything it runs stops.
func (d *Driver) crash() {
	d.closed.Store(true)
	d.mu.Lock()
	for s := range d.sessions {
		s.end()
	}
	d.mu.Unlock()
	d.cancel()
	if d.transport != nil {
		d.transport.CloseIdleConnections()
	}
}

func (d *Driver) track(s *session) {
	d.mu.Lock()
	d.sessions[s] = struct{}{}
	d.mu.Unlock()
}

func (d *Driver) untrack(s *session) {
	d.mu.Lock()
	delete(d.sessions, s)
	d.mu.Unlock()
}
