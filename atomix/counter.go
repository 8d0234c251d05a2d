package atomix

import (
	"context"
	"math"

	"github.com/atomix/go-client/atomix/counter"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/driver"
)

// GetCounter opens the counter called name with the client of WithClient,
// else the default client.
func GetCounter(ctx context.Context, name string, opts ...primitive.Option) (counter.Counter, error) {
	return getCounter(ctx, nil, name, opts)
}

// GetCounter opens the counter called name. A counter never written reads 0.
func (c *Client) GetCounter(ctx context.Context, name string, opts ...primitive.Option) (counter.Counter, error) {
	if c == nil {
		return nil, nilClient(kindCounter, name)
	}
	return getCounter(ctx, c, name, opts)
}

func getCounter(ctx context.Context, c *Client, name string, opts []primitive.Option) (counter.Counter, error) {
	o, err := begin(kindCounter, name, opts)
	if err != nil {
		return nil, err
	}
	if err := o.connect(ctx, c); err != nil {
		return nil, err
	}
	d, err := o.driver.OpenCounter(ctx, o.id)
	if err != nil {
		return nil, o.failed(err)
	}
	p := &counterPrimitive{d: d}
	o.setup(&p.base)
	if err := o.finish(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// counterPrimitive implements counter.Counter over a driver.Counter.
type counterPrimitive struct {
	base
	d driver.Counter
}

func (p *counterPrimitive) Get(ctx context.Context) (int64, error) {
	if p.closed.Load() {
		return 0, p.fail("get", errClosed)
	}
	v, err := p.d.Get(ctx)
	if err != nil {
		return 0, p.fail("get", err)
	}
	return v, nil
}

func (p *counterPrimitive) Set(ctx context.Context, value int64) (int64, error) {
	if p.closed.Load() {
		return 0, p.fail("set", errClosed)
	}
	if err := p.d.Set(ctx, value); err != nil {
		return 0, p.fail("set", err)
	}
	return value, nil
}

func (p *counterPrimitive) Increment(ctx context.Context, delta int64) (int64, error) {
	return p.add(ctx, "increment", delta)
}

func (p *counterPrimitive) Decrement(ctx context.Context, delta int64) (int64, error) {
	if delta == math.MinInt64 {
		// -delta would wrap around to delta itself.
		return 0, p.fail("decrement", invalidf("cannot subtract %d: its negation does not fit in an int64", delta))
	}
	return p.add(ctx, "decrement", -delta)
}

func (p *counterPrimitive) add(ctx context.Context, op string, delta int64) (int64, error) {
	if p.closed.Load() {
		return 0, p.fail(op, errClosed)
	}
	v, err := p.d.Add(ctx, delta)
	if err != nil {
		return 0, p.fail(op, err)
	}
	return v, nil
}

func (p *counterPrimitive) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	if p.closed.Load() {
		return false, p.fail("compare-and-set", errClosed)
	}
	ok, err := p.d.CompareAndSet(ctx, expect, update)
	if err != nil {
		return false, p.fail("compare-and-set", err)
	}
	return ok, nil
}

func (p *counterPrimitive) Close(ctx context.Context) error {
	if !p.close(p) {
		return nil
	}
	if err := p.d.Close(ctx); err != nil {
		return p.fail("close", err)
	}
	return nil
}
