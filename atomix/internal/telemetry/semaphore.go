package telemetry

import (
	"context"

	"github.com/atomix/go-client/driver"
)

// tracedSemaphoreDriver is a tracedDriver whose driver has semaphores: Wrap
// returns one only then, so the wrapper never claims an optional interface
// the driver lacks.
type tracedSemaphoreDriver struct {
	*tracedDriver
	opener driver.SemaphoreOpener
}

func (d *tracedSemaphoreDriver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	x, err := d.opener.OpenSemaphore(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	return &tracedSemaphore{Semaphore: x, prim: prim{d.t, driver.KindSemaphore, id.Name}}, nil
}

type tracedSemaphore struct {
	driver.Semaphore
	prim
}

func (x *tracedSemaphore) Acquire(ctx context.Context, s driver.Session, owner string, permits int) (driver.Hold, error) {
	ctx, c := x.begin(ctx, "acquire")
	r0, err := x.Semaphore.Acquire(ctx, s, owner, permits)
	c.end(err)
	return r0, err
}

func (x *tracedSemaphore) TryAcquire(ctx context.Context, s driver.Session, owner string, permits int) (driver.Hold, bool, error) {
	ctx, c := x.begin(ctx, "try-acquire")
	r0, r1, err := x.Semaphore.TryAcquire(ctx, s, owner, permits)
	c.end(err)
	return r0, r1, err
}

func (x *tracedSemaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	ctx, c := x.begin(ctx, "release")
	r0, err := x.Semaphore.Release(ctx, owner, version)
	c.end(err)
	return r0, err
}

func (x *tracedSemaphore) Available(ctx context.Context) (int, error) {
	ctx, c := x.begin(ctx, "available")
	r0, err := x.Semaphore.Available(ctx)
	c.end(err)
	return r0, err
}
