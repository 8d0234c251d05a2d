package atomix

import (
	"context"
	"fmt"

	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/driver"
)

// GetSemaphore opens the semaphore called name with the client of
// WithClient, else the default client.
func GetSemaphore(ctx context.Context, name string, opts ...primitive.Option) (semaphore.Semaphore, error) {
	return getSemaphore(ctx, nil, name, opts)
}

// GetSemaphore opens the semaphore called name, with the limit of
// semaphore.WithLimit (default 1). Each instance is one owner: open one
// instance per would-be holder. Acquisitions are bound to the client's
// session. A driver without semaphores (one that does not implement
// driver.SemaphoreOpener) gives ErrNotSupported; a limit below 1 is
// ErrInvalid, and one that disagrees with the limit recorded on the backend
// ErrConflict (here, if the driver checks on open, else on the first
// Acquire or TryAcquire).
func (c *Client) GetSemaphore(ctx context.Context, name string, opts ...primitive.Option) (semaphore.Semaphore, error) {
	if c == nil {
		return nil, nilClient(kindSemaphore, name)
	}
	return getSemaphore(ctx, c, name, opts)
}

func getSemaphore(ctx context.Context, c *Client, name string, opts []primitive.Option) (semaphore.Semaphore, error) {
	o, err := begin(kindSemaphore, name, opts)
	if err != nil {
		return nil, err
	}
	limit := 1
	if o.opts.LimitSet {
		if o.opts.Limit < 1 {
			return nil, o.failed(invalidf("semaphore limit %d is below 1", o.opts.Limit))
		}
		limit = o.opts.Limit
	}
	if err := o.connect(ctx, c); err != nil {
		return nil, err
	}
	so, ok := o.driver.(driver.SemaphoreOpener)
	if !ok {
		return nil, o.failed(fmt.Errorf("%w: the %s driver has no semaphores (it does not implement driver.SemaphoreOpener)", ErrNotSupported, o.driver.Name()))
	}
	d, err := so.OpenSemaphore(ctx, o.id, limit)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &semaphorePrimitive{d: d, limit: limit}
	o.setup(&p.base)
	p.owner.init(o.client, randomID(), d, "permits of the semaphore", "Acquire or TryAcquire")
	p.owner.events = holdEvents{c: o.client, kind: driver.KindSemaphore, name: o.id.Name}
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// semaphorePrimitive implements semaphore.Semaphore over a driver.Semaphore.
// The owner state is the holder's, the same as a lock's.
type semaphorePrimitive struct {
	base
	d     driver.Semaphore
	limit int
	owner holder
}

// request is one acquisition of a number of permits, as the holder makes it.
type request struct {
	d       driver.Semaphore
	permits int
}

func (r request) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	return r.d.Acquire(ctx, s, owner, r.permits)
}

func (r request) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	return r.d.TryAcquire(ctx, s, owner, r.permits)
}

// request validates the options of an Acquire or TryAcquire call.
func (p *semaphorePrimitive) request(opts []semaphore.Option) (request, error) {
	if p.closed.Load() {
		return request{}, errClosed
	}
	n, _ := semaphore.PermitsOf(opts)
	if n < 1 || n > p.limit {
		return request{}, invalidf("%d permits asked for; the semaphore has %d (want 1 to %d)", n, p.limit, p.limit)
	}
	return request{d: p.d, permits: n}, nil
}

func (p *semaphorePrimitive) Acquire(ctx context.Context, opts ...semaphore.Option) (uint64, error) {
	r, err := p.request(opts)
	if err != nil {
		return 0, p.fail("acquire", err)
	}
	v, _, err := p.owner.acquire(ctx, r, true)
	if err != nil {
		return 0, p.fail("acquire", err)
	}
	return v, nil
}

func (p *semaphorePrimitive) TryAcquire(ctx context.Context, opts ...semaphore.Option) (uint64, bool, error) {
	r, err := p.request(opts)
	if err != nil {
		return 0, false, p.fail("try-acquire", err)
	}
	v, ok, err := p.owner.acquire(ctx, r, false)
	if err != nil {
		return 0, false, p.fail("try-acquire", err)
	}
	return v, ok, nil
}

func (p *semaphorePrimitive) Release(ctx context.Context) (bool, error) {
	if p.closed.Load() {
		return false, p.fail("release", errClosed)
	}
	ok, err := p.owner.release(ctx)
	if err != nil {
		return false, p.fail("release", err)
	}
	return ok, nil
}

func (p *semaphorePrimitive) Available(ctx context.Context) (int, error) {
	if p.closed.Load() {
		return 0, p.fail("available", errClosed)
	}
	n, err := p.d.Available(ctx)
	if err != nil {
		return 0, p.fail("available", err)
	}
	return n, nil
}

func (p *semaphorePrimitive) Lost() <-chan struct{} { return p.owner.lost() }

func (p *semaphorePrimitive) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	if err := p.owner.closeWith(ctx, p.d); err != nil {
		return p.fail("close", err)
	}
	return nil
}
