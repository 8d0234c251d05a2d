package consul

import (
	"context"
	"sync/atomic"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// primitive is what every primitive of the driver shares: its place in the
// KV store and its open/closed state.
type primitive struct {
	d    *Driver
	base string // the primitive's path, without a trailing slash
	// kind and id name the primitive to the driver's Observer.
	kind driver.Kind
	id   driver.ID

	// ctx ends when the primitive or its driver is closed; watches run
	// under it.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
}

// init sets p up as the primitive of kind with id.
func (p *primitive) init(d *Driver, kind string, id driver.ID) {
	p.d, p.base, p.kind, p.id = d, d.base(kind, id), driver.Kind(kind), id
	p.ctx, p.cancel = context.WithCancel(d.ctx)
}

// check returns ErrClosed once the primitive or its driver is closed.
func (p *primitive) check() error {
	if p.closed.Load() {
		return errClosed
	}
	return p.d.check()
}

// Close ends the primitive's watches; it never changes the backend. Later
// calls return ErrClosed; a second Close returns nil.
func (p *primitive) Close(ctx context.Context) error {
	p.closed.Store(true)
	p.cancel()
	return nil
}

// watchContext returns a context that ends with ctx or when the primitive
// is closed.
func (p *primitive) watchContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.ctx, cancel)
	return wctx, func() { stop(); cancel() }
}

// read returns QueryOptions for an ordinary read: answered by the leader
// from its state (Consul's default mode), which includes every write
// acknowledged before the read was sent, except in the brief window where a
// deposed leader has not yet noticed.
func read(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{}).WithContext(ctx)
}

// readConsistent returns QueryOptions for a linearizable read: the leader
// confirms it still leads before answering (Consul's consistent mode).
func readConsistent(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx)
}

// write returns WriteOptions for a plain KV write.
func write(ctx context.Context) *api.WriteOptions {
	return (&api.WriteOptions{}).WithContext(ctx)
}
