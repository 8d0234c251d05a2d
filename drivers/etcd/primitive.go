package etcd

import (
	"context"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// primitive is what every primitive shares: its driver, its root key, and
// the lifecycle of its background work.
type primitive struct {
	d    *Driver
	root string
	// kind and id name the primitive to the driver's Observer.
	kind driver.Kind
	id   driver.ID

	// ctx ends when the primitive or its driver is closed.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup
}

func newPrimitive(d *Driver, kind string, id driver.ID) primitive {
	ctx, cancel := context.WithCancel(d.ctx)
	return primitive{d: d, root: rootKey(d.prefix, kind, id), kind: driver.Kind(kind), id: id, ctx: ctx, cancel: cancel}
}

// check returns ErrClosed once the primitive or its driver is closed.
func (p *primitive) check() error {
	if p.closed.Load() {
		return errClosed
	}
	if p.d.closed.Load() {
		return errDriverClosed
	}
	return nil
}

// ready is check for a write, which must not be sent once ctx has ended
// (it would then be reported as ambiguous although nothing was sent).
func (p *primitive) ready(ctx context.Context) error {
	if err := p.check(); err != nil {
		return err
	}
	return ctx.Err()
}

// spawn runs f in a goroutine that both the primitive's and the driver's
// Close wait for; it reports false, without running f, once either is
// closed.
func (p *primitive) spawn(f func()) bool {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	if p.closed.Load() || p.d.closed.Load() {
		return false
	}
	p.wg.Add(1)
	p.d.wg.Add(1)
	go func() {
		defer p.d.wg.Done()
		defer p.wg.Done()
		f()
	}()
	return true
}

// close ends the primitive's background work and waits for it.
func (p *primitive) close() error {
	p.d.mu.Lock()
	p.closed.Store(true)
	p.d.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return nil
}

// Close ends the primitive's watches; it changes nothing on the backend.
// Later calls return ErrClosed; a second Close returns nil.
func (p *primitive) Close(context.Context) error { return p.close() }

// The request helpers below are the only way a primitive reaches etcd:
// each returns ErrClosed once the primitive or its driver is closed, and
// classifies the error of its request.

// txn runs one transaction.
func (p *primitive) txn(ctx context.Context, kind opKind, cmps []clientv3.Cmp, then, els []clientv3.Op) (*clientv3.TxnResponse, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	resp, err := p.d.client.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
	if err != nil {
		return nil, p.d.classify(ctx, kind, err)
	}
	return resp, nil
}

// get runs one linearizable range read.
func (p *primitive) get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	resp, err := p.d.client.Get(ctx, key, opts...)
	if err != nil {
		return nil, p.d.classify(ctx, read, err)
	}
	return resp, nil
}

// put runs one unconditional put.
func (p *primitive) put(ctx context.Context, key string, value []byte, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	resp, err := p.d.client.Put(ctx, key, string(value), opts...)
	if err != nil {
		return nil, p.d.classify(ctx, write, err)
	}
	return resp, nil
}

// del runs one delete.
func (p *primitive) del(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	resp, err := p.d.client.Delete(ctx, key, opts...)
	if err != nil {
		return nil, p.d.classify(ctx, write, err)
	}
	return resp, nil
}

// mvccKV is a key-value pair as etcd returns it, with its revisions.
type mvccKV = mvccpb.KeyValue

// rangeResp returns the range response of the i-th operation of a
// transaction's chosen branch.
func rangeResp(resp *clientv3.TxnResponse, i int) []*mvccKV {
	return resp.Responses[i].GetResponseRange().Kvs
}
